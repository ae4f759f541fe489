import { delimiter, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patternDirsFromEnv } from '../../scripts/build';

describe('patternDirsFromEnv', () => {
  it('splits on the path delimiter, resolves, and skips blanks', () => {
    expect(patternDirsFromEnv(['a', '', ' ', 'b/c'].join(delimiter))).toEqual([resolve('a'), resolve('b/c')]);
    expect(patternDirsFromEnv(undefined)).toEqual([]);
  });
});
