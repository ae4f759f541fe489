import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/cli';
import { demoEvent, fixture } from '../helpers/fixtures';

// Hostile files given to the CLI: what a user replays may come from anywhere. The CLI reports
// what it cannot read and goes on; it never prints a stack trace, never lets a stop reason
// drive the terminal, and prints fix commands that a shell runs as written.

const dir = mkdtempSync(join(tmpdir(), 'doctor-hostile-'));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('replay with hostile files', () => {
  it('reports a file of 10,000 nested arrays as one bad input, and still diagnoses the next file', () => {
    const deep = file('deep.json', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    const good = file('good.json', JSON.stringify(demoEvent('09-oom-killed.json')));
    const run = runCli(['replay', '--json', deep, good]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(deep);
    expect(run.stderr).toContain('nested more than 16 levels');
    expect(run.stderr).not.toMatch(/RangeError|\n\s+at /);
    expect(jsonLines(run.stdout).map((line) => line.cause)).toEqual(['application']);
  });

  it('shows terminal escape sequences and invalid UTF-8 in a reason as text, not as control characters', () => {
    // A reason no pattern knows, so the terminal shows it as given.
    const event = demoEvent('14-user-stopped.json');
    event.detail.stopCode = 'TaskFailedToStart';
    event.detail.stoppedReason = 'FrobnicatorError: \u001b[2J\u001b]0;pwned\u0007 \r\u202Eevil<BYTES>';
    // Bytes that are not UTF-8 where the marker is: read as two U+FFFD.
    const [before, after] = JSON.stringify(event).split('<BYTES>');
    const bytes = Buffer.concat([Buffer.from(before ?? ''), Buffer.from([0xff, 0xfe]), Buffer.from(after ?? '')]);
    const run = runCli(['replay', file('escapes.json', bytes)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('FrobnicatorError: \\u001b[2J\\u001b]0;pwned\\u0007 \\u000d\\u202eevil\uFFFD\uFFFD');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('gives fix commands that the shell runs with the snapshot’s hostile ids intact', () => {
    const clean = fixture('facts/seed000-no-ecr-api.json');
    const vpcId = (clean as { vpc: { vpcId: string } }).vpc.vpcId;
    const hostileVpc = `${vpcId}$(printf PWNED >&2)'`;
    const snapshot = file('facts.json', JSON.stringify(clean).replaceAll(vpcId, hostileVpc));
    const event = join('test/fixtures/events/demo', '01-seed000-secretsmanager-private-dns-off.json');
    const run = runCli(['replay', '--json', '--facts', snapshot, event]);
    expect(run.code).toBe(0);
    const [diagnosis] = jsonLines(run.stdout) as Array<{ findings: Array<{ fix: { cli?: string } | null }> }>;
    const commands = (diagnosis?.findings ?? []).flatMap((f) => (f.fix?.cli ? [f.fix.cli] : []));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const shell = spawnSync('/bin/sh', ['-c', `aws() { printf '%s\\0' "$@"; }\n${command}`], {
        encoding: 'utf8',
        // Built-ins only: should quoting ever fail, no program a payload names can run.
        env: { PATH: '/nonexistent' },
      });
      expect(shell.stderr, command).toBe('');
      expect(shell.status, command).toBe(0);
      const argv = shell.stdout.split('\u0000');
      if (argv.includes('--vpc-id')) expect(argv[argv.indexOf('--vpc-id') + 1]).toBe(hostileVpc);
    }
    expect(commands.some((command) => command.includes('--vpc-id'))).toBe(true);
  });
});
