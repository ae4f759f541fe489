import { formatPath, PatternError } from './errors';
import { LiteralIndex } from './literal-index';
import { requiredLiterals } from './literals';
import { type PatternFile, patternFileSchema } from './pattern';

/** A pattern file's content before validation, with the file it came from. */
export interface PatternSource {
  /** Path shown in errors. */
  readonly file: string;
  /** The file's base name without extension: must equal the pattern's `id`. */
  readonly name: string;
  readonly data: unknown;
  /** `builtin` or the user directory it came from. */
  readonly origin: string;
}

/** One match block with its regular expressions compiled. */
export interface CompiledMatch {
  readonly reason?: readonly RegExp[];
  /**
   * Lower-case literals of which any text matching `reason` contains one: a cheap
   * `includes` test that spares most regular expression runs. Absent when not derivable.
   */
  readonly literals?: readonly string[];
  /** The same literals as ids in the catalog's {@link LiteralIndex}; set when the catalog is compiled. */
  literalIds?: readonly number[];
  readonly notReason: readonly RegExp[];
  readonly stopCode?: readonly string[];
  readonly exitCode?: readonly number[];
}

/** A validated pattern with its match blocks compiled. */
export interface CompiledPattern extends PatternFile {
  readonly file: string;
  readonly origin: string;
  /** Alternatives: the pattern matches when any block matches. */
  readonly matchers: readonly CompiledMatch[];
}

/** The pattern catalog: patterns in precedence order (highest priority first, then id). */
export interface Catalog {
  readonly patterns: readonly CompiledPattern[];
  readonly byId: ReadonlyMap<string, CompiledPattern>;
  /** Every pattern literal, found in one pass over a text. */
  readonly literalIndex: LiteralIndex;
}

/**
 * Validates and compiles pattern sources into a catalog. Later sources override earlier
 * ones with the same id (user patterns override built-ins).
 * @throws PatternError naming the file and field of the first problem found.
 */
export function compileCatalog(sources: readonly PatternSource[]): Catalog {
  const byId = new Map<string, CompiledPattern>();
  for (const source of sources) {
    const pattern = compilePattern(source);
    byId.set(pattern.id, pattern);
  }
  const patterns = [...byId.values()].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  const ids = new Map<string, number>();
  for (const block of patterns.flatMap((p) => p.matchers)) {
    if (!block.literals) continue;
    block.literalIds = block.literals.map((literal) => {
      let id = ids.get(literal);
      if (id === undefined) {
        id = ids.size;
        ids.set(literal, id);
      }
      return id;
    });
  }
  return { patterns, byId, literalIndex: new LiteralIndex([...ids.keys()]) };
}

/** Validates one pattern file. @throws PatternError */
export function compilePattern(source: PatternSource): CompiledPattern {
  const result = patternFileSchema.safeParse(source.data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new PatternError(
      issue?.message ?? 'invalid pattern',
      formatPath(issue?.path ?? []) || undefined,
      source.file,
      {
        cause: result.error,
      },
    );
  }
  const pattern = result.data;
  if (pattern.id !== source.name) {
    throw new PatternError(`id "${pattern.id}" must equal the file name "${source.name}"`, 'id', source.file);
  }
  const blocks = Array.isArray(pattern.match) ? pattern.match : [pattern.match];
  const matchers = blocks.map((block, index): CompiledMatch => {
    const field = Array.isArray(pattern.match) ? `match[${index}]` : 'match';
    const literals = block.reason ? literalsOf(block.reason) : undefined;
    return {
      ...(block.reason ? { reason: compileRegexes(block.reason, `${field}.reason`, source.file) } : {}),
      ...(literals ? { literals } : {}),
      notReason: compileRegexes(block.notReason ?? [], `${field}.notReason`, source.file),
      ...(block.stopCode ? { stopCode: block.stopCode } : {}),
      ...(block.exitCode ? { exitCode: block.exitCode } : {}),
    };
  });
  return { ...pattern, file: source.file, origin: source.origin, matchers };
}

function literalsOf(sources: readonly string[]): string[] | undefined {
  const all: string[] = [];
  for (const source of sources) {
    const literals = requiredLiterals(source);
    if (!literals) return undefined;
    all.push(...literals);
  }
  return all;
}

function compileRegexes(sources: readonly string[], field: string, file: string): RegExp[] {
  return sources.map((source, index) => {
    try {
      return new RegExp(source, 'i');
    } catch (error) {
      throw new PatternError(`invalid regular expression: ${(error as Error).message}`, `${field}[${index}]`, file, {
        cause: error,
      });
    }
  });
}
