import { performance } from 'node:perf_hooks';
import { loadCatalog } from '../functions/catalog/catalog';
import { exampleSignal } from '../functions/core/catalog-check';
import { classify, type StopSignal } from '../functions/core/classify';

/** Budget from DESIGN.md: classification of at least 50,000 reasons per second on one core. */
const BUDGET_PER_SEC = 50_000;
const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);

const catalog = loadCatalog();
// The corpus: every example and counter-example (specific hits, fallbacks and misses), plus
// texts no pattern knows, which cost the most because every pattern is tried.
const corpus: StopSignal[] = catalog.patterns.flatMap((p) => [...p.examples, ...p.counterExamples].map(exampleSignal));
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
while (performance.now() - start < DURATION_MS) {
  for (const signal of corpus) sink += classify(signal, catalog).cause.length;
  count += corpus.length;
}
const seconds = (performance.now() - start) / 1000;
const perSec = Math.round(count / seconds);

console.log(
  `classify: ${perSec.toLocaleString('en-US')} reasons/s (${catalog.patterns.length} patterns, corpus of ${corpus.length}, ${seconds.toFixed(1)} s, checksum ${sink % 997})`,
);
if (perSec < BUDGET_PER_SEC) {
  console.error(
    `classify: below the budget of ${BUDGET_PER_SEC.toLocaleString('en-US')}/s by ${(BUDGET_PER_SEC - perSec).toLocaleString('en-US')}/s`,
  );
  process.exitCode = 1;
} else {
  console.log(`classify: within the budget of ${BUDGET_PER_SEC.toLocaleString('en-US')}/s`);
}
