import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../functions/catalog/catalog';
import type { Catalog } from '../../functions/core/catalog';
import { exampleSignal } from '../../functions/core/catalog-check';
import { classify, type StopSignal } from '../../functions/core/classify';
import { requiredLiterals } from '../../functions/core/literals';
import { normalizeText } from '../../functions/core/text';

describe('requiredLiterals', () => {
  it.each([
    ['OutOfMemoryError: Container killed', ['outofmemoryerror: container killed']],
    ['^Essential container in task exited', ['essential container in task exited']],
    ['a|bcd', undefined],
    ['colou?r chart', ['r chart']],
    ['x{0,3}yz abc', ['yz abc']],
    ['API error \\(404\\): repository (?<image>\\S+) not found', ['api error (404): repository ']],
    ['(create stream|log stream).*(dial tcp|i/o timeout)', ['create stream', 'log stream']],
    ['(ab|cd)?xyz', ['xyz']],
    ['x(ab)*y', undefined],
    ['(?!foo)bar', ['bar']],
    ['\\bs3\\b', undefined],
    ['[abc]def\\d+ghij', ['ghij']],
  ])('%s -> %j', (source, literals) => {
    expect(requiredLiterals(source)).toEqual(literals);
  });

  const catalog = loadCatalog();
  const regexes = catalog.patterns.flatMap((p) => p.matchers.flatMap((m) => (m.reason ?? []).map((r) => r.source)));
  const texts = catalog.patterns.flatMap((p) =>
    [...p.examples, ...p.counterExamples].flatMap((e) => [e.reason, e.containerReason].filter((t): t is string => !!t)),
  );

  it('never rules out a catalog text that the expression matches', () => {
    for (const source of regexes) {
      const literals = requiredLiterals(source);
      if (!literals) continue;
      const regex = new RegExp(source, 'i');
      for (const raw of texts) {
        const { text } = normalizeText(raw);
        if (regex.test(text))
          expect(
            literals.some((l) => text.toLowerCase().includes(l)),
            `${source} on ${text}`,
          ).toBe(true);
      }
    }
  });

  it('never rules out a generated text that the expression matches', () => {
    const piece = fc.oneof(
      fc.constantFrom(...texts),
      fc.string(),
      fc.constantFrom('dial tcp', ' i/o timeout', ': ', '(', ')'),
    );
    fc.assert(
      fc.property(fc.constantFrom(...regexes), fc.array(piece, { maxLength: 4 }), (source, pieces) => {
        const text = normalizeText(pieces.join(' ')).text;
        const literals = requiredLiterals(source);
        if (literals && new RegExp(source, 'i').test(text)) {
          expect(literals.some((l) => text.toLowerCase().includes(l))).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the classifier the same answers with and without the prefilter', () => {
    const stripped = {
      ...catalog,
      patterns: catalog.patterns.map((p) => ({ ...p, matchers: p.matchers.map(({ literals: _l, ...m }) => m) })),
    };
    for (const pattern of catalog.patterns) {
      for (const example of [...pattern.examples, ...pattern.counterExamples]) {
        const signal = exampleSignal(example);
        expect(classifyId(signal, catalog)).toBe(classifyId(signal, stripped));
      }
    }
  });
});

function classifyId(signal: StopSignal, catalog: Catalog): string | null {
  return classify(signal, catalog).patternId;
}
