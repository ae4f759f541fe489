import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContainsCidr,
  cidrContainsIp,
  cidrRange,
  cidrSize,
  cidrsOverlap,
  formatIpv4,
  parseCidr,
  parseIpv4,
  prefixMask,
} from '../../../functions/core/network/cidr';

const address = fc.integer({ min: 0, max: 0xffffffff });
const prefix = fc.integer({ min: 0, max: 32 });
const cidr = fc.tuple(address, prefix).map(([a, p]) => `${formatIpv4(a)}/${p}`);

describe('parseIpv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.1.5', 0x0a000105],
    ['192.168.0.1', 0xc0a80001],
    ['255.255.255.255', 0xffffffff],
  ])('reads %s as %d (unsigned)', (text, expected) => {
    expect(parseIpv4(text)).toBe(expected);
  });

  it.each([
    '',
    '10.0.1',
    '10.0.1.5.6',
    '256.0.0.1',
    '10.0.01.5',
    '-1.0.0.0',
    '10.0.1.5/32',
    ' 10.0.1.5',
    '1e1.0.0.0',
    '10..1.5',
  ])('rejects %j', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });

  it('round-trips with formatIpv4 for every address', () => {
    fc.assert(fc.property(address, (a) => parseIpv4(formatIpv4(a)) === a));
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/16', 0x0a000000, 16],
    ['0.0.0.0/0', 0, 0],
    ['255.255.255.255/0', 0, 0],
    ['10.0.1.5/32', 0x0a000105, 32],
    ['10.0.1.5/24', 0x0a000100, 24],
    ['255.255.255.255/1', 0x80000000, 1],
    ['255.255.255.255/31', 0xfffffffe, 31],
  ])('reads %s as base %d prefix %d, host bits masked off', (text, base, p) => {
    expect(parseCidr(text)).toEqual({ base, prefix: p });
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '/16', '10.0.0.0/16/1', '10.0.0.0/016', '::/0', 'x'])(
    'rejects %j',
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseCidr(text);
        return parsed === null || (parsed.prefix >= 0 && parsed.prefix <= 32);
      }),
    );
  });

  it('never throws on strings built from CIDR characters, and always returns an unsigned masked base', () => {
    const chars = fc.constantFrom('0', '1', '2', '5', '9', '.', '/', '-', ' ');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (parts) => {
        const parsed = parseCidr(parts.join(''));
        if (parsed === null) return true;
        return (
          Number.isInteger(parsed.base) &&
          parsed.base >= 0 &&
          parsed.base <= 0xffffffff &&
          (parsed.base & ~prefixMask(parsed.prefix)) === 0
        );
      }),
    );
  });
});

describe('prefixMask', () => {
  it.each([
    [0, 0],
    [1, 0x80000000],
    [16, 0xffff0000],
    [31, 0xfffffffe],
    [32, 0xffffffff],
  ])('/%d is %d', (p, mask) => {
    expect(prefixMask(p)).toBe(mask);
  });
});

describe('cidrSize and cidrRange', () => {
  it.each([
    ['0.0.0.0/0', 2 ** 32, '0.0.0.0', '255.255.255.255'],
    ['10.0.0.0/16', 65_536, '10.0.0.0', '10.0.255.255'],
    ['10.0.1.0/24', 256, '10.0.1.0', '10.0.1.255'],
    ['10.0.1.7/32', 1, '10.0.1.7', '10.0.1.7'],
  ])('%s holds %d addresses from %s to %s', (text, size, first, last) => {
    expect(cidrSize(text)).toBe(size);
    expect(cidrRange(text)).toEqual({ first: parseIpv4(first), last: parseIpv4(last) });
  });

  it('is null for an invalid CIDR', () => {
    expect(cidrSize('10.0.0.0/40')).toBeNull();
    expect(cidrRange('nope')).toBeNull();
  });
});

describe('cidrContainsIp', () => {
  it.each([
    ['10.0.0.0/16', '10.0.1.5', true],
    ['10.0.0.0/16', '10.1.0.0', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['10.0.1.5/32', '10.0.1.5', true],
    ['10.0.1.5/32', '10.0.1.6', false],
    ['128.0.0.0/1', '255.255.255.255', true],
    ['128.0.0.0/1', '127.255.255.255', false],
    ['10.0.0.0/16', 'not-an-ip', false],
    ['bad', '10.0.0.1', false],
  ])('%s contains %s: %s', (c, ip, expected) => {
    expect(cidrContainsIp(c, ip)).toBe(expected);
  });

  it('agrees with a brute-force walk of every address on random /24–/32 ranges', () => {
    fc.assert(
      fc.property(address, fc.integer({ min: 24, max: 32 }), fc.integer({ min: -300, max: 300 }), (a, p, offset) => {
        const block = `${formatIpv4(a)}/${p}`;
        const parsed = parseCidr(block);
        if (parsed === null) return false;
        const members = new Set<number>();
        for (let i = 0, ip = parsed.base; i < 2 ** (32 - p); i += 1, ip += 1) members.add(ip);
        const probe = a + offset;
        fc.pre(probe >= 0 && probe <= 0xffffffff);
        return cidrContainsIp(block, formatIpv4(probe)) === members.has(probe);
      }),
    );
  });
});

describe('cidrContainsCidr', () => {
  it.each([
    ['10.0.0.0/16', '10.0.1.0/24', true],
    ['10.0.1.0/24', '10.0.0.0/16', false],
    ['0.0.0.0/0', '10.0.1.0/24', true],
    ['0.0.0.0/0', '0.0.0.0/0', true],
    ['10.0.1.0/24', '10.0.2.0/24', false],
    ['10.0.1.0/25', '10.0.1.0/24', false],
    ['10.0.1.0/24', 'oops', false],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(cidrContainsCidr(outer, inner)).toBe(expected);
  });

  it('is reflexive', () => {
    fc.assert(fc.property(cidr, (c) => cidrContainsCidr(c, c)));
  });

  it('is transitive (CIDRs around one address nest by prefix length)', () => {
    fc.assert(
      fc.property(address, prefix, prefix, prefix, (a, p1, p2, p3) => {
        const [x, y, z] = [p1, p2, p3].map((p) => `${formatIpv4(a)}/${p}`) as [string, string, string];
        if (cidrContainsCidr(x, y) && cidrContainsCidr(y, z)) return cidrContainsCidr(x, z);
        return true;
      }),
    );
  });

  it('is transitive on unrelated CIDRs too', () => {
    fc.assert(
      fc.property(
        cidr,
        cidr,
        cidr,
        (x, y, z) => !(cidrContainsCidr(x, y) && cidrContainsCidr(y, z)) || cidrContainsCidr(x, z),
      ),
    );
  });

  it('means the inner first and last addresses are both in the outer block', () => {
    fc.assert(
      fc.property(cidr, cidr, (outer, inner) => {
        const range = cidrRange(inner);
        if (range === null) return false;
        const both = cidrContainsIp(outer, formatIpv4(range.first)) && cidrContainsIp(outer, formatIpv4(range.last));
        return cidrContainsCidr(outer, inner) === both;
      }),
    );
  });
});

describe('cidrsOverlap', () => {
  it.each([
    ['10.0.0.0/16', '10.0.1.0/24', true],
    ['10.0.1.0/24', '10.0.2.0/24', false],
    ['10.0.1.0/25', '10.0.1.128/25', false],
    ['0.0.0.0/0', '192.168.0.0/16', true],
    ['10.0.1.0/24', 'bad', false],
  ])('%s and %s overlap: %s', (a, b, expected) => {
    expect(cidrsOverlap(a, b)).toBe(expected);
  });

  it('is symmetric', () => {
    fc.assert(fc.property(cidr, cidr, (a, b) => cidrsOverlap(a, b) === cidrsOverlap(b, a)));
  });

  it('holds exactly when one block contains the other (CIDR blocks never partly overlap)', () => {
    fc.assert(
      fc.property(cidr, cidr, (a, b) => cidrsOverlap(a, b) === (cidrContainsCidr(a, b) || cidrContainsCidr(b, a))),
    );
  });
});
