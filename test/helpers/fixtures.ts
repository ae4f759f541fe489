import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTaskInputs, type StoppedTask } from '../../functions/core/stopped-task';

/** The project root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The bundled demo events (one per seed scenario plus everyday failures). */
export const DEMO_DIR = join(ROOT, 'test/fixtures/events/demo');

/** Reads a JSON fixture relative to test/fixtures, as a fresh mutable copy. */
export function fixture<T = Record<string, unknown>>(relative: string): T {
  return JSON.parse(readFileSync(join(ROOT, 'test/fixtures', relative), 'utf8')) as T;
}

/** The demo event files, sorted. */
export function demoEventFiles(): string[] {
  return readdirSync(DEMO_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A demo event by file name, as a fresh mutable copy. */
export function demoEvent(name: string): EventFixture {
  return fixture<EventFixture>(`events/demo/${name}`);
}

/** Loose shape of an EventBridge event fixture, for cloning and editing in tests. */
export interface EventFixture {
  [key: string]: unknown;
  detail: Record<string, unknown> & { containers: Array<Record<string, unknown>> };
}

/** The stopped task of a demo event, as the parser reads it. */
export function demoTask(name: string): StoppedTask {
  const [input] = readTaskInputs(demoEvent(name));
  if (input?.kind !== 'task') throw new Error(`${name} is not a stopped task`);
  return input.task;
}
