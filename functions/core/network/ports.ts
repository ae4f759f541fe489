/**
 * Port and protocol matching with EC2 semantics.
 *
 * EC2 reports "all ports" in two ways: security group rules with protocol `-1` have no
 * `FromPort`/`ToPort` (or `-1`), and ICMP rules use `-1` for "all types". NACL entries omit
 * `PortRange` when they apply to every port. Security group rules name protocols (`tcp`,
 * `udp`, `icmp`, `-1`), NACL entries give IANA numbers as text (`6`, `17`, `-1`); both forms
 * are accepted everywhere so a hand-written snapshot may use either.
 */

/** The highest TCP/UDP port. */
export const MAX_PORT = 65_535;

/** An inclusive port range. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };

/** Normalises an EC2 protocol (`-1`, `all`, `tcp`, `6`, `UDP`, `17`, …) to `all`, a lower-case name, or the text as given. */
export function normalizeProtocol(protocol: string): string {
  const text = protocol.trim().toLowerCase();
  if (text === '-1' || text === 'all') return 'all';
  return PROTOCOL_NUMBERS[text] ?? text;
}

/** True when an EC2 rule protocol (`-1`, name or number as text) covers TCP or UDP as wanted. */
export function protocolMatches(ruleProtocol: string, wanted: 'tcp' | 'udp'): boolean {
  const normalized = normalizeProtocol(ruleProtocol);
  return normalized === 'all' || normalized === wanted;
}

/** True when a bound means "no limit": EC2 leaves it out, or sets -1, for all ports. */
function unbounded(bound: number | undefined): boolean {
  return bound === undefined || bound === -1;
}

/** The inclusive range EC2 means by a from/to pair: undefined or -1 on either side means all ports (0–65535). */
export function portBounds(from: number | undefined, to: number | undefined): PortRange {
  // EC2 uses -1 (or no value) only for "all" (protocol -1, ICMP all types); it never mixes a
  // real bound with -1, so one unbounded side is read as the whole range.
  if (unbounded(from) || unbounded(to)) return { from: 0, to: MAX_PORT };
  return { from: from as number, to: to as number };
}

/** True when `port` lies in the rule's range; undefined or -1 bounds mean all ports. */
export function portInRange(port: number, from: number | undefined, to: number | undefined): boolean {
  const range = portBounds(from, to);
  return range.from <= port && port <= range.to;
}

/** True when the outer range contains every port of the inner range (undefined or -1 bounds mean all ports). */
export function rangeCovers(
  outerFrom: number | undefined,
  outerTo: number | undefined,
  innerFrom: number | undefined,
  innerTo: number | undefined,
): boolean {
  const outer = portBounds(outerFrom, outerTo);
  const inner = portBounds(innerFrom, innerTo);
  return outer.from <= inner.from && inner.to <= outer.to;
}

/** Describes a rule's protocol and ports for evidence: `tcp 443`, `tcp 1024-65535`, `tcp all ports`, `all traffic`. */
export function describeProtocolPorts(protocol: string, from?: number, to?: number): string {
  const name = normalizeProtocol(protocol);
  if (name === 'all') return 'all traffic';
  if (name !== 'tcp' && name !== 'udp') return /^[0-9]+$/.test(name) ? `protocol ${name}` : name;
  if (unbounded(from) || unbounded(to)) return `${name} all ports`;
  if (from === 0 && to === MAX_PORT) return `${name} all ports`;
  return from === to ? `${name} ${from}` : `${name} ${from}-${to}`;
}
