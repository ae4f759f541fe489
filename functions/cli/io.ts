/** What the CLI touches of the outside world; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly readStdin: () => string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Exit codes: 0 all input read, 1 some input bad (or AWS could not be read), 2 usage or
 * configuration error, 3 `check` found failing network checks, 4 `replay` could not deliver
 * an alert to Slack or SNS.
 */
export const EXIT = { ok: 0, badInput: 1, usage: 2, findings: 3, undelivered: 4 } as const;
