// dynalite ships no types; this is the part of its API the tests use (see its index.js).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of `dynalite(options)`; times are how long a table stays CREATING / DELETING / UPDATING. */
  interface DynaliteOptions {
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    readonly maxItemSizeKb?: number;
    /** A LevelDB directory; in memory when absent. */
    readonly path?: string;
    readonly verbose?: boolean;
    readonly debug?: boolean;
  }

  /** An HTTP server speaking the DynamoDB JSON 1.0 API, not yet listening. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
