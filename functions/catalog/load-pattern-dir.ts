import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { PatternSource } from '../core/catalog';
import { PatternError } from '../core/errors';

const PATTERN_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Reads every `*.yaml` / `*.yml` pattern file in a directory (not recursive), sorted by
 * name. YAML syntax errors become {@link PatternError}s naming the file and line.
 */
export function loadPatternDir(dir: string, origin: string = dir): PatternSource[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new PatternError('not a directory', undefined, dir);
    names = readdirSync(dir);
  } catch (error) {
    if (error instanceof PatternError) throw error;
    throw new PatternError(`cannot read pattern directory: ${(error as Error).message}`, undefined, dir, {
      cause: error,
    });
  }
  return names
    .filter((name) => PATTERN_EXTENSIONS.has(extname(name)))
    .sort()
    .map((name) => parsePatternFile(join(dir, name), readFileSync(join(dir, name), 'utf8'), origin));
}

/** Parses one pattern file's YAML text. */
export function parsePatternFile(file: string, text: string, origin: string): PatternSource {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = document.errors;
  if (error) {
    // The parser's message already says "at line L, column C".
    throw new PatternError(`invalid YAML: ${error.message.split('\n')[0]?.replace(/:$/, '')}`, undefined, file);
  }
  return { file, name: basename(file, extname(file)), data: document.toJS(), origin };
}
