import type { Catalog, CompiledPattern } from './catalog';
import { classify, type StopSignal } from './classify';
import type { PatternExample } from './pattern';

/** The stop an example describes. */
export function exampleSignal(example: PatternExample): StopSignal {
  const hasContainer = example.containerReason !== undefined || example.exitCode !== undefined;
  return {
    stoppedReason: example.reason,
    stopCode: example.stopCode,
    containers: hasContainer ? [{ name: 'app', reason: example.containerReason, exitCode: example.exitCode }] : [],
  };
}

/** One example that the catalog gets wrong. */
export interface ExampleFailure {
  readonly patternId: string;
  readonly file: string;
  readonly kind: 'example' | 'counterExample';
  readonly index: number;
  readonly text: string;
  /** The pattern the whole catalog picked instead (null: none). */
  readonly got: string | null;
}

/** The result of running every pattern's examples through the whole catalog. */
export interface CatalogCheck {
  readonly patterns: number;
  readonly examples: number;
  readonly failures: readonly ExampleFailure[];
}

/**
 * Runs every example and counter-example through the whole catalog (not the pattern alone),
 * so precedence is tested too: an example must be classified as its own pattern, and a
 * counter-example must be classified as anything else.
 */
export function checkCatalog(catalog: Catalog): CatalogCheck {
  const failures: ExampleFailure[] = [];
  let examples = 0;
  for (const pattern of catalog.patterns) {
    pattern.examples.forEach((example, index) => {
      examples += 1;
      const got = classify(exampleSignal(example), catalog).patternId;
      if (got !== pattern.id) failures.push(failure(pattern, 'example', index, example, got));
    });
    pattern.counterExamples.forEach((example, index) => {
      examples += 1;
      const got = classify(exampleSignal(example), catalog).patternId;
      if (got === pattern.id) failures.push(failure(pattern, 'counterExample', index, example, got));
    });
  }
  return { patterns: catalog.patterns.length, examples, failures };
}

function failure(
  pattern: CompiledPattern,
  kind: ExampleFailure['kind'],
  index: number,
  example: PatternExample,
  got: string | null,
): ExampleFailure {
  const text =
    example.reason ??
    example.containerReason ??
    `exitCode ${example.exitCode ?? '-'} stopCode ${example.stopCode ?? '-'}`;
  return { patternId: pattern.id, file: pattern.file, kind, index, text, got };
}
