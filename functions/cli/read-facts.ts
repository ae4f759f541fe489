import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors';
import type { NetworkFacts } from '../core/network/facts';
import { parseNetworkFacts } from '../core/network/facts-schema';

/** Where `--facts` points: one snapshot for every event, or a folder of snapshots named like the events. */
export type FactsSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'dir'; readonly path: string };

/** The facts found for one event file. */
export type FactsLookup =
  | { readonly kind: 'facts'; readonly facts: NetworkFacts }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'error'; readonly error: InputError };

/** Reads what `--facts PATH` names. @throws InputError when PATH does not exist. */
export function factsSource(path: string): FactsSource {
  if (!existsSync(path)) throw new InputError('no such file or directory', undefined, path);
  return statSync(path).isDirectory() ? { kind: 'dir', path } : { kind: 'file', path };
}

const cache = new Map<string, FactsLookup>();

/**
 * The snapshot for an event file: the `--facts` file itself, or in a `--facts` folder the
 * snapshot with the event file's name (`events/01-x.json` → `facts/01-x.json`).
 */
export function factsFor(source: FactsSource, eventFile: string): FactsLookup {
  const path = source.kind === 'file' ? source.path : join(source.path, basename(eventFile.replace(/:\d+$/, '')));
  if (source.kind === 'dir' && !existsSync(path))
    return { kind: 'none', reason: `no snapshot named ${basename(path)} in ${source.path}` };
  const cached = cache.get(path);
  if (cached) return cached;
  let lookup: FactsLookup;
  try {
    lookup = { kind: 'facts', facts: parseNetworkFacts(JSON.parse(readFileSync(path, 'utf8')), path) };
  } catch (error) {
    const inputError =
      error instanceof InputError
        ? error
        : new InputError(`invalid JSON: ${(error as Error).message}`, undefined, path);
    lookup = { kind: 'error', error: inputError };
  }
  cache.set(path, lookup);
  return lookup;
}
