import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContainsIp, cidrRange, formatIpv4 } from '../../../functions/core/network/cidr';
import type { NetworkAclEntryFacts, NetworkAclFacts } from '../../../functions/core/network/facts';
import { naclAllowsReturn, naclDecision, orderedEntries } from '../../../functions/core/network/network-acls';

type Entry = NetworkAclEntryFacts;

function entry(ruleNumber: number, action: 'allow' | 'deny', partial: Partial<Entry> = {}): Entry {
  return { ruleNumber, action, egress: false, protocol: '-1', cidrBlock: '0.0.0.0/0', ...partial };
}
const out = (ruleNumber: number, action: 'allow' | 'deny', partial: Partial<Entry> = {}): Entry =>
  entry(ruleNumber, action, { egress: true, ...partial });
const acl = (...entries: Entry[]): NetworkAclFacts => ({ networkAclId: 'acl-0test', entries });

/** The default NACL as DescribeNetworkAcls reports it: rule 100 allows all, rule * denies, both directions. */
const DEFAULT_ACL = acl(entry(100, 'allow'), entry(32_767, 'deny'), out(100, 'allow'), out(32_767, 'deny'));

describe('naclDecision (first match by rule number decides)', () => {
  it.each([
    {
      name: 'the default NACL allows egress 443 anywhere through rule 100',
      nacl: DEFAULT_ACL,
      direction: 'egress',
      peer: '0.0.0.0/0',
      expected: {
        allowed: true,
        ruleNumber: 100,
        evidence: 'acl-0test rule 100 allows outbound all traffic to 0.0.0.0/0',
      },
    },
    {
      name: 'an empty NACL denies (the * rule may be missing from facts)',
      nacl: acl(),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: false,
        ruleNumber: null,
        evidence: 'acl-0test: no entry allows outbound tcp 443 to 10.0.11.0/24 (default rule * denies)',
      },
    },
    {
      name: 'an explicit * entry is reported as rule *',
      nacl: acl(out(32_767, 'deny')),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: false,
        ruleNumber: 32_767,
        evidence: 'acl-0test rule * denies outbound all traffic to 0.0.0.0/0',
      },
    },
    {
      name: 'a lower-numbered deny wins over a later allow',
      nacl: acl(out(100, 'allow'), out(90, 'deny', { protocol: '6', portRange: { from: 443, to: 443 } })),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: { allowed: false, ruleNumber: 90, evidence: 'acl-0test rule 90 denies outbound tcp 443 to 0.0.0.0/0' },
    },
    {
      name: 'a lower-numbered allow wins over a later deny',
      nacl: acl(out(200, 'deny'), out(110, 'allow', { protocol: '6', cidrBlock: '10.0.0.0/16' })),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: true,
        ruleNumber: 110,
        evidence: 'acl-0test rule 110 allows outbound tcp all ports to 10.0.0.0/16',
      },
    },
    {
      name: 'an allow on port 80 only does not match 443',
      nacl: acl(out(100, 'allow', { protocol: '6', portRange: { from: 80, to: 80 } })),
      direction: 'egress',
      peer: '0.0.0.0/0',
      expected: { allowed: false, ruleNumber: null },
    },
    {
      name: 'a UDP (17) allow does not match TCP',
      nacl: acl(out(100, 'allow', { protocol: '17' })),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: { allowed: false, ruleNumber: null },
    },
    {
      name: 'the protocol name tcp is accepted like 6',
      nacl: acl(out(100, 'allow', { protocol: 'tcp', portRange: { from: 443, to: 443 } })),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: { allowed: true, ruleNumber: 100 },
    },
    {
      name: 'ingress entries do not decide egress traffic',
      nacl: acl(entry(100, 'allow')),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: { allowed: false, ruleNumber: null },
    },
    {
      name: 'an IPv6-only entry never matches IPv4',
      nacl: acl(out(50, 'deny', { cidrBlock: undefined, ipv6CidrBlock: '::/0' }), out(100, 'allow')),
      direction: 'egress',
      peer: '10.0.11.0/24',
      expected: { allowed: true, ruleNumber: 100 },
    },
    {
      name: 'a deny for a disjoint CIDR does not matter',
      nacl: acl(entry(90, 'deny', { cidrBlock: '10.0.12.0/24' }), entry(100, 'allow')),
      direction: 'ingress',
      peer: '10.0.11.0/24',
      expected: { allowed: true, ruleNumber: 100 },
    },
    {
      name: 'a deny covering part of the peer blocks it (conservative: some addresses are blocked)',
      nacl: acl(entry(90, 'deny', { cidrBlock: '10.0.11.0/25' }), entry(100, 'allow')),
      direction: 'ingress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: false,
        ruleNumber: 90,
        evidence:
          'acl-0test rule 90 denies inbound all traffic from 10.0.11.0/25 (part of inbound tcp 443 from 10.0.11.0/24)',
      },
    },
    {
      name: 'an allow covering only part of the peer leaves the rest to the default deny',
      nacl: acl(entry(100, 'allow', { cidrBlock: '10.0.11.0/25' })),
      direction: 'ingress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: false,
        ruleNumber: null,
        evidence:
          'acl-0test: rule 100 allows only all traffic from 10.0.11.0/25; no entry allows inbound tcp 443 from 10.0.11.128/25 (default rule * denies)',
      },
    },
    {
      name: 'two allows that cover the peer between them allow it',
      nacl: acl(
        entry(110, 'allow', { cidrBlock: '10.0.11.128/25' }),
        entry(100, 'allow', { cidrBlock: '10.0.11.0/25' }),
      ),
      direction: 'ingress',
      peer: '10.0.11.0/24',
      expected: {
        allowed: true,
        ruleNumber: 110,
        evidence: 'acl-0test rules 100, 110 together allow inbound tcp 443 from 10.0.11.0/24',
      },
    },
    {
      name: 'a bare IP is read as /32',
      nacl: acl(entry(90, 'deny', { cidrBlock: '10.0.11.25/32' }), entry(100, 'allow')),
      direction: 'ingress',
      peer: '10.0.11.25',
      expected: { allowed: false, ruleNumber: 90 },
    },
    {
      name: 'an invalid peer is not allowed',
      nacl: DEFAULT_ACL,
      direction: 'ingress',
      peer: '10.0.11.0/33',
      expected: { allowed: false, ruleNumber: null, evidence: 'acl-0test: "10.0.11.0/33" is not an IPv4 CIDR' },
    },
  ] as const)('$name', ({ nacl, direction, peer, expected }) => {
    expect(naclDecision(nacl, direction, 443, peer)).toMatchObject(expected);
  });
});

describe('naclAllowsReturn (the whole ephemeral range 1024–65535 must be allowed)', () => {
  it.each([
    {
      name: 'an allow for 1024-65535 from the peer',
      nacl: acl(
        entry(100, 'allow', { protocol: '6', portRange: { from: 1024, to: 65_535 }, cidrBlock: '10.0.0.0/16' }),
      ),
      expected: {
        allowed: true,
        ruleNumber: 100,
        evidence: 'acl-0test rule 100 allows inbound tcp 1024-65535 from 10.0.0.0/16',
      },
    },
    {
      name: 'an allow for all traffic',
      nacl: DEFAULT_ACL,
      expected: { allowed: true, ruleNumber: 100 },
    },
    {
      name: 'an allow for only 32768-65535',
      nacl: acl(entry(100, 'allow', { protocol: '6', portRange: { from: 32_768, to: 65_535 } })),
      expected: {
        allowed: false,
        ruleNumber: null,
        evidence:
          'acl-0test: rule 100 allows only tcp 32768-65535 from 0.0.0.0/0; no entry allows inbound tcp 1024-32767 from 10.0.11.0/24 (default rule * denies)',
      },
    },
    {
      name: 'two allows that cover 1024-65535 between them',
      nacl: acl(
        entry(100, 'allow', { protocol: '6', portRange: { from: 1024, to: 32_767 } }),
        entry(110, 'allow', { protocol: '6', portRange: { from: 32_768, to: 65_535 } }),
      ),
      expected: { allowed: true, ruleNumber: 110 },
    },
    {
      name: 'a deny on part of the range before the allow',
      nacl: acl(entry(90, 'deny', { protocol: '6', portRange: { from: 1024, to: 2048 } }), entry(100, 'allow')),
      expected: {
        allowed: false,
        ruleNumber: 90,
        evidence:
          'acl-0test rule 90 denies inbound tcp 1024-2048 from 0.0.0.0/0 (part of inbound tcp 1024-65535 from 10.0.11.0/24)',
      },
    },
    {
      name: 'a deny on a port outside the range does not matter',
      nacl: acl(entry(90, 'deny', { protocol: '6', portRange: { from: 22, to: 22 } }), entry(100, 'allow')),
      expected: { allowed: true, ruleNumber: 100 },
    },
    {
      name: 'an allow for 1024-65535 from another CIDR',
      nacl: acl(
        entry(100, 'allow', { protocol: '6', portRange: { from: 1024, to: 65_535 }, cidrBlock: '10.0.20.0/24' }),
      ),
      expected: { allowed: false, ruleNumber: null },
    },
  ] as const)('$name', ({ nacl, expected }) => {
    expect(naclAllowsReturn(nacl, 'ingress', '10.0.11.0/24')).toMatchObject(expected);
  });

  it('checks the direction it is asked about (egress return for ingress requests)', () => {
    const nacl = acl(entry(100, 'allow'), out(100, 'allow', { protocol: '6', portRange: { from: 443, to: 443 } }));
    expect(naclAllowsReturn(nacl, 'egress', '10.0.20.0/24').allowed).toBe(false);
    expect(naclAllowsReturn(nacl, 'ingress', '10.0.20.0/24').allowed).toBe(true);
  });

  it('accepts a narrower ephemeral range (Linux uses 32768–60999)', () => {
    const nacl = acl(entry(100, 'allow', { protocol: '6', portRange: { from: 32_768, to: 65_535 } }));
    expect(naclAllowsReturn(nacl, 'ingress', '10.0.11.0/24', { from: 32_768, to: 60_999 }).allowed).toBe(true);
  });
});

describe('orderedEntries', () => {
  it('keeps one direction, in ascending rule number order', () => {
    const nacl = acl(entry(200, 'deny'), out(50, 'allow'), entry(100, 'allow'), entry(32_767, 'deny'));
    expect(orderedEntries(nacl, 'ingress').map((e) => e.ruleNumber)).toEqual([100, 200, 32_767]);
    expect(orderedEntries(nacl, 'egress').map((e) => e.ruleNumber)).toEqual([50]);
  });
});

// ---- Properties, checked against a one-packet-at-a-time reference evaluator ----

/** Addresses inside 10.0.0.0/22 so that generated CIDRs overlap often. */
const BASE = 0x0a000000;
const localCidr = fc
  .tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 22, max: 32 }))
  .map(([offset, p]) => `${formatIpv4(BASE + offset)}/${p}`);
const entryCidr = fc.oneof({ weight: 1, arbitrary: fc.constant('0.0.0.0/0') }, { weight: 4, arbitrary: localCidr });
/** Ports around 1000–1040, so ranges overlap the ports under test. */
const smallPort = fc.integer({ min: 1000, max: 1040 });
const portRange = fc.option(
  fc.tuple(smallPort, smallPort).map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) })),
  { nil: undefined },
);
const generatedEntry = fc
  .record({
    action: fc.constantFrom<'allow' | 'deny'>('allow', 'deny'),
    egress: fc.boolean(),
    protocol: fc.constantFrom('-1', '6', 'tcp', '17'),
    cidrBlock: entryCidr,
    portRange,
  })
  .map(({ portRange: range, ...rest }) => (range === undefined ? rest : { ...rest, portRange: range }));
const generatedAcl = fc
  .uniqueArray(fc.integer({ min: 2, max: 32_766 }), { maxLength: 8 })
  .chain((numbers) =>
    fc
      .tuple(...numbers.map(() => generatedEntry))
      .map((entries): NetworkAclFacts => acl(...entries.map((e, i) => ({ ...e, ruleNumber: numbers[i] ?? 0 })))),
  );

/** The AWS rule for one packet: the first matching entry by rule number decides; none matches → deny. */
function referenceAllows(nacl: NetworkAclFacts, egress: boolean, port: number, ip: string): boolean {
  const entries = [...nacl.entries].filter((e) => e.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const e of entries) {
    const all = e.protocol === '-1';
    if (!all && e.protocol !== '6' && e.protocol !== 'tcp') continue;
    if (e.cidrBlock === undefined || !cidrContainsIp(e.cidrBlock, ip)) continue;
    if (!all && e.portRange !== undefined && (port < e.portRange.from || port > e.portRange.to)) continue;
    return e.action === 'allow';
  }
  return false;
}

function addresses(cidr: string): string[] {
  const range = cidrRange(cidr);
  if (range === null) return [];
  const list: string[] = [];
  for (let a = range.first; a <= range.last; a += 1) list.push(formatIpv4(a));
  return list;
}

const peerCidr = fc
  .tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 26, max: 32 }))
  .map(([offset, p]) => `${formatIpv4(BASE + offset)}/${p}`);
const direction = fc.constantFrom<'egress' | 'ingress'>('egress', 'ingress');

describe('NACL properties', () => {
  it('naclDecision allows a peer CIDR exactly when every one of its addresses is allowed packet by packet', () => {
    fc.assert(
      fc.property(generatedAcl, direction, smallPort, peerCidr, (nacl, dir, port, peer) => {
        const expected = addresses(peer).every((ip) => referenceAllows(nacl, dir === 'egress', port, ip));
        return naclDecision(nacl, dir, port, peer).allowed === expected;
      }),
      { numRuns: 300 },
    );
  });

  it('naclAllowsReturn allows exactly when every port × address is allowed packet by packet', () => {
    fc.assert(
      fc.property(generatedAcl, direction, smallPort, smallPort, peerCidr, (nacl, dir, p1, p2, peer) => {
        const ports = { from: Math.min(p1, p2), to: Math.max(p1, p2) };
        let expected = true;
        for (let port = ports.from; port <= ports.to && expected; port += 1) {
          expected = addresses(peer).every((ip) => referenceAllows(nacl, dir === 'egress', port, ip));
        }
        return naclAllowsReturn(nacl, dir, peer, ports).allowed === expected;
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order entries are listed in', () => {
    fc.assert(
      fc.property(generatedAcl, direction, smallPort, peerCidr, (nacl, dir, port, peer) => {
        const reversed = acl(...[...nacl.entries].reverse());
        expect(naclDecision(reversed, dir, port, peer)).toEqual(naclDecision(nacl, dir, port, peer));
      }),
    );
  });

  it('first match: adding a lower-numbered matching deny flips allowed to false', () => {
    const allowAll = fc
      .integer({ min: 2, max: 32_766 })
      .map((n) => ({ ruleNumber: n, action: 'allow' as const, protocol: '-1', cidrBlock: '0.0.0.0/0' }));
    fc.assert(
      fc.property(
        generatedAcl,
        allowAll,
        direction,
        smallPort,
        peerCidr,
        fc.integer({ min: 22, max: 32 }),
        fc.nat(),
        (generated, fallback, dir, port, peer, denyPrefix, pick) => {
          const egress = dir === 'egress';
          const used = new Set(generated.entries.map((e) => e.ruleNumber));
          const entries = used.has(fallback.ruleNumber)
            ? generated.entries
            : [...generated.entries, { ...fallback, egress }];
          const nacl = acl(...entries);
          const before = naclDecision(nacl, dir, port, peer);
          fc.pre(before.allowed && before.ruleNumber !== null && before.ruleNumber > 1);
          const decidedBy = before.ruleNumber ?? 0;
          const free = Array.from({ length: decidedBy - 1 }, (_, i) => i + 1).filter((n) => !used.has(n));
          fc.pre(free.length > 0);
          const ruleNumber = free[pick % free.length] ?? 1;
          // A deny whose CIDR contains the peer and whose ports contain the port: it matches.
          const peerBase = cidrRange(peer)?.first ?? 0;
          const prefix = Math.min(denyPrefix, Number(peer.split('/')[1]));
          const denyCidr = `${formatIpv4(peerBase)}/${prefix}`;
          const deny: Entry = {
            ruleNumber,
            egress,
            action: 'deny',
            protocol: pick % 2 === 0 ? '-1' : '6',
            cidrBlock: denyCidr,
            portRange: { from: port, to: port },
          };
          const after = naclDecision(acl(...entries, deny), dir, port, peer);
          expect(after).toMatchObject({ allowed: false, ruleNumber });
        },
      ),
    );
  });
});
