import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors';
import { readTaskInputs, type TaskInput } from '../core/stopped-task';

/** One entry read from the user's paths, in input order, with where it came from. */
export type SourcedInput = TaskInput & { readonly file: string };

const EVENT_EXTENSIONS = new Set(['.json', '.jsonl']);

/**
 * Reads events and tasks from files, folders (recursively: `*.json` and `*.jsonl`, sorted),
 * or `-` for standard input. Never throws for bad input: an unreadable path, invalid JSON or
 * an invalid event becomes an `error` entry naming the file, and the rest is still read.
 */
export function readInputs(paths: readonly string[], readStdin: () => string): SourcedInput[] {
  const out: SourcedInput[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(...parseText(readStdin(), '<stdin>', 'auto'));
      continue;
    }
    for (const file of expandPath(path, out)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        out.push(
          errorEntry(
            new InputError(
              `cannot read file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
              undefined,
              file,
            ),
            file,
          ),
        );
        continue;
      }
      out.push(...parseText(text, file, extname(file) === '.jsonl' ? 'jsonl' : 'json'));
    }
  }
  return out;
}

function expandPath(path: string, out: SourcedInput[]): string[] {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? (error as Error).message}`;
    out.push(errorEntry(new InputError(detail, undefined, path), path));
    return [];
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return expandPath(child, out);
      return EVENT_EXTENSIONS.has(extname(entry.name)) ? [child] : [];
    });
}

function parseText(text: string, file: string, format: 'json' | 'jsonl' | 'auto'): SourcedInput[] {
  const body = text.replace(/^\uFEFF/, '');
  if (format !== 'jsonl') {
    try {
      return withFile(readTaskInputs(JSON.parse(body), file), file);
    } catch (error) {
      // stdin may hold JSON Lines: fall through when there is more than one line.
      if (format === 'json' || !body.trim().includes('\n')) {
        if (body.trim() === '') return [errorEntry(new InputError('empty input', undefined, file), file)];
        return [errorEntry(new InputError(`invalid JSON: ${(error as Error).message}`, undefined, file), file)];
      }
    }
  }
  const out: SourcedInput[] = [];
  body.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      out.push(errorEntry(new InputError(`invalid JSON: ${(error as Error).message}`, undefined, where), where));
      return;
    }
    out.push(...withFile(readTaskInputs(value, where), where));
  });
  if (out.length === 0) out.push(errorEntry(new InputError('empty input', undefined, file), file));
  return out;
}

function withFile(inputs: TaskInput[], file: string): SourcedInput[] {
  return inputs.map((input) => ({ ...input, file }));
}

function errorEntry(error: InputError, file: string): SourcedInput {
  return { kind: 'error', error, location: '', file };
}
