import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralIndex } from '../../functions/core/literal-index';

describe('LiteralIndex', () => {
  it('finds overlapping, nested and repeated literals', () => {
    const literals = ['he', 'she', 'his', 'hers', 'dial tcp', 'tcp'];
    const found = new LiteralIndex(literals).scan('ushers: dial tcp 10.0.0.1');
    expect(literals.filter((_, id) => found[id] === 1)).toEqual(['he', 'she', 'hers', 'dial tcp', 'tcp']);
  });

  it('restarts after characters outside ASCII', () => {
    const found = new LiteralIndex(["can't", 'abc']).scan('can’t ab€c abc');
    expect([...found]).toEqual([0, 1]);
  });

  it('rejects a literal it cannot index', () => {
    expect(() => new LiteralIndex(['naïve'])).toThrow(RangeError);
  });

  it('agrees with String.prototype.includes on random literals and texts', () => {
    const ascii = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', ':', '(') });
    fc.assert(
      fc.property(
        fc.array(
          ascii.filter((s) => s.length > 0),
          { minLength: 1, maxLength: 12 },
        ),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', ':', '(', 'é') }),
        (literals, text) => {
          const found = new LiteralIndex(literals).scan(text);
          literals.forEach((literal, id) => {
            expect(found[id] === 1).toBe(text.includes(literal));
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
