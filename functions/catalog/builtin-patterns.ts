import { fileURLToPath } from 'node:url';
import type { PatternSource } from '../core/catalog';
import { loadPatternDir } from './load-pattern-dir';

/** The folder holding the built-in catalog. */
export const BUILTIN_PATTERN_DIR = fileURLToPath(new URL('../../patterns/', import.meta.url));

/**
 * The built-in pattern files. From source this reads `patterns/`; the Lambda bundle
 * replaces this module with the same data, plus the user pattern folders named at build
 * time (DOCTOR_PATTERNS_DIRS), inlined as JSON by scripts/build.ts, so the function needs
 * neither the files nor a YAML parser.
 */
export function builtinPatternSources(): PatternSource[] {
  return loadPatternDir(BUILTIN_PATTERN_DIR, 'builtin').map((source) => ({
    ...source,
    file: `patterns/${source.file.slice(BUILTIN_PATTERN_DIR.length)}`,
  }));
}
