/** Where an alert goes. */
export type Channel = 'slack' | 'sns';

/** Repeats of an incident that were counted, not sent, since the last alert. */
export interface SuppressedSummary {
  readonly count: number;
  /** ISO 8601 time of the first suppressed repeat. */
  readonly since: string;
}

/** What the alert says beyond the diagnosis: the incident it belongs to and the repeats it stands for. */
export interface AlertContext {
  /** The ledger's incident key (cluster, service or task group, pattern). */
  readonly incidentKey?: string;
  /** Present on the first alert after a window in which repeats were suppressed. */
  readonly suppressed?: SuppressedSummary;
}
