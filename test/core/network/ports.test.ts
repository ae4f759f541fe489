import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeProtocolPorts,
  normalizeProtocol,
  portBounds,
  portInRange,
  protocolMatches,
  rangeCovers,
} from '../../../functions/core/network/ports';

const port = fc.integer({ min: 0, max: 65_535 });
const allBound = fc.constantFrom<number | undefined>(undefined, -1);

describe('portInRange', () => {
  it.each([
    [443, 443, 443, true],
    [443, 80, 80, false],
    [443, 0, 65_535, true],
    [1024, 1024, 65_535, true],
    [1023, 1024, 65_535, false],
    [65_535, 1024, 65_535, true],
    [443, undefined, undefined, true],
    [443, -1, -1, true],
  ] as const)('port %d in %s–%s: %s', (p, from, to, expected) => {
    expect(portInRange(p, from, to)).toBe(expected);
  });

  it('is always true when EC2 leaves the bounds out or sets them to -1 (all ports)', () => {
    fc.assert(fc.property(port, allBound, allBound, (p, from, to) => portInRange(p, from, to)));
  });

  it('agrees with from <= port <= to for real bounds', () => {
    fc.assert(fc.property(port, port, port, (p, from, to) => portInRange(p, from, to) === (from <= p && p <= to)));
  });
});

describe('portBounds', () => {
  it('reads an unbounded side as the whole range', () => {
    expect(portBounds(undefined, undefined)).toEqual({ from: 0, to: 65_535 });
    expect(portBounds(-1, -1)).toEqual({ from: 0, to: 65_535 });
    expect(portBounds(22, 22)).toEqual({ from: 22, to: 22 });
  });
});

describe('rangeCovers', () => {
  it.each([
    [1024, 65_535, 1024, 65_535, true],
    [0, 65_535, 1024, 65_535, true],
    [1024, 32_767, 1024, 65_535, false],
    [32_768, 65_535, 1024, 65_535, false],
    [undefined, undefined, 1024, 65_535, true],
    [-1, -1, 443, 443, true],
    [443, 443, undefined, undefined, false],
    [0, 65_535, -1, -1, true],
  ] as const)('%s–%s covers %s–%s: %s', (of, ot, inf, int, expected) => {
    expect(rangeCovers(of, ot, inf, int)).toBe(expected);
  });

  it('is reflexive and agrees with portInRange at both inner ends', () => {
    fc.assert(
      fc.property(port, port, port, port, (a, b, c, d) => {
        const [of, ot] = a <= b ? [a, b] : [b, a];
        const [inf, int] = c <= d ? [c, d] : [d, c];
        return (
          rangeCovers(of, ot, of, ot) &&
          rangeCovers(of, ot, inf, int) === (portInRange(inf, of, ot) && portInRange(int, of, ot))
        );
      }),
    );
  });
});

describe('protocolMatches', () => {
  it.each([
    ['-1', 'tcp', true],
    ['-1', 'udp', true],
    ['tcp', 'tcp', true],
    ['TCP', 'tcp', true],
    ['6', 'tcp', true],
    ['6', 'udp', false],
    ['udp', 'udp', true],
    ['17', 'udp', true],
    ['17', 'tcp', false],
    ['udp', 'tcp', false],
    ['icmp', 'tcp', false],
    ['1', 'tcp', false],
    ['50', 'tcp', false],
  ] as const)('rule protocol %j covers %s: %s', (rule, wanted, expected) => {
    expect(protocolMatches(rule, wanted)).toBe(expected);
  });

  it('treats a name and its number alike', () => {
    expect(normalizeProtocol('6')).toBe(normalizeProtocol('tcp'));
    expect(normalizeProtocol('17')).toBe(normalizeProtocol('udp'));
    expect(normalizeProtocol('-1')).toBe('all');
  });
});

describe('describeProtocolPorts', () => {
  it.each([
    ['tcp', 443, 443, 'tcp 443'],
    ['6', 1024, 65_535, 'tcp 1024-65535'],
    ['tcp', 0, 65_535, 'tcp all ports'],
    ['tcp', undefined, undefined, 'tcp all ports'],
    ['-1', undefined, undefined, 'all traffic'],
    ['icmp', -1, -1, 'icmp'],
    ['50', undefined, undefined, 'protocol 50'],
  ] as const)('describes %s %s–%s as %j', (protocol, from, to, expected) => {
    expect(describeProtocolPorts(protocol, from, to)).toBe(expected);
  });
});
