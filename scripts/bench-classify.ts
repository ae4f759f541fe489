import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../functions/catalog/catalog';
import { exampleSignal } from '../functions/core/catalog-check';
import { classify, type StopSignal } from '../functions/core/classify';

/** Budget from DESIGN.md: classification of at least 50,000 reasons per second on one core. */
export const CLASSIFY_BUDGET_PER_SEC = 50_000;

/** What {@link benchClassify} measured. */
export interface ClassifyBench {
  readonly perSec: number;
  readonly patterns: number;
  readonly corpus: number;
  readonly seconds: number;
  /** Derived from every result, so the JIT cannot drop the work; printed, never compared. */
  readonly checksum: number;
}

/**
 * Classifies a corpus of stop reasons in a loop for `durationMs` on this thread and returns
 * the rate. The corpus is every catalog example and counter-example (specific hits,
 * fallbacks and misses), plus texts no pattern knows, which cost the most because every
 * pattern is tried.
 */
export function benchClassify(durationMs = 3000): ClassifyBench {
  const catalog = loadCatalog();
  const corpus: StopSignal[] = catalog.patterns.flatMap((p) =>
    [...p.examples, ...p.counterExamples].map(exampleSignal),
  );
  for (let i = 0; i < corpus.length / 10; i += 1) {
    corpus.push({
      stoppedReason: `Something nobody has seen before #${i}: the widget refused to frobnicate`,
      containers: [],
    });
  }

  let sink = 0;
  for (const signal of corpus) sink += classify(signal, catalog).cause.length; // warm-up: JIT and regex compilation

  let count = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    for (const signal of corpus) sink += classify(signal, catalog).cause.length;
    count += corpus.length;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    perSec: Math.round(count / seconds),
    patterns: catalog.patterns.length,
    corpus: corpus.length,
    seconds,
    checksum: sink % 997,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = benchClassify(Number(process.env.BENCH_MS ?? 3000));
  console.log(
    `classify: ${result.perSec.toLocaleString('en-US')} reasons/s (${result.patterns} patterns, corpus of ${result.corpus}, ${result.seconds.toFixed(1)} s, checksum ${result.checksum})`,
  );
  if (result.perSec < CLASSIFY_BUDGET_PER_SEC) {
    console.error(
      `classify: below the budget of ${CLASSIFY_BUDGET_PER_SEC.toLocaleString('en-US')}/s by ${(CLASSIFY_BUDGET_PER_SEC - result.perSec).toLocaleString('en-US')}/s`,
    );
    process.exitCode = 1;
  } else {
    console.log(`classify: within the budget of ${CLASSIFY_BUDGET_PER_SEC.toLocaleString('en-US')}/s`);
  }
}
