/**
 * Network ACL evaluation with the semantics AWS documents for NACLs:
 * - NACLs are stateless: the request and its return traffic are checked separately, each in
 *   its own direction (egress for what leaves the subnet, ingress for what enters it).
 * - Entries of one direction are evaluated in ascending `ruleNumber` order, and the first
 *   entry whose protocol, port range and CIDR match the packet decides allow or deny.
 * - Every NACL ends with the unchangeable rule `*` (reported as rule number 32767) that denies
 *   everything. Facts may omit it, so a packet no entry matches is denied.
 * - `PortRange` applies to TCP and UDP only; an entry without one (protocol `-1`) covers every port.
 *
 * The question asked here is about a *set* of packets (every address of a peer CIDR, and for
 * return traffic every ephemeral port), not one packet. It is answered exactly: the packets
 * not decided yet are kept as a list of port × address boxes; each entry, in rule-number
 * order, takes the part it matches. An `allow` entry removes that part from the undecided
 * set; a `deny` entry that matches *any* undecided packet makes the answer "not allowed"
 * with that entry as evidence, even when it covers only part of the peer (some addresses or
 * ports are blocked, which is enough to break a task whose IP or port is any of them: this is
 * the conservative reading). The answer is "allowed" only when allow entries have taken every
 * packet before any deny touched one. So an entry whose CIDR contains the whole peer decides
 * for all of it, and partial allow entries count only together with the entries after them.
 *
 * Only IPv4 entries (`cidrBlock`) are used; IPv6-only entries never match IPv4 traffic.
 */
import { type AddressRange, cidrRange, formatIpv4, parseIpv4 } from './cidr';
import type { NetworkAclEntryFacts, NetworkAclFacts } from './facts';
import {
  describeProtocolPorts,
  MAX_PORT,
  normalizeProtocol,
  type PortRange,
  portBounds,
  protocolMatches,
} from './ports';

/** The outcome for a set of packets: allowed for all, or the rule (null: default deny) that blocks some. */
export interface NaclDecision {
  readonly allowed: boolean;
  /** The deciding entry: the deny that blocks, the allow that completed the set, or null for the default `*` deny. */
  readonly ruleNumber: number | null;
  readonly evidence: string;
}

/** The ephemeral ports AWS recommends NACLs open for return traffic to cover every client OS (Fargate/Linux uses 32768–60999). */
export const EPHEMERAL_PORTS: PortRange = { from: 1024, to: MAX_PORT };

/** The rule number EC2 reports for the default `*` entry. */
const DEFAULT_RULE_NUMBER = 32_767;

/** A set of packets: ports × IPv4 addresses, both inclusive. */
interface Box {
  readonly ports: PortRange;
  readonly addresses: AddressRange;
}

/** Does the ACL let TCP traffic to/from every address of `peerCidr` on `port` through in `direction`? */
export function naclDecision(
  acl: NetworkAclFacts,
  direction: 'egress' | 'ingress',
  port: number,
  peerCidr: string,
): NaclDecision {
  return evaluate(acl, direction, { from: port, to: port }, peerCidr);
}

/** Does the ACL let return traffic to/from `peerCidr` through in `direction` on every TCP ephemeral port (default 1024–65535)? */
export function naclAllowsReturn(
  acl: NetworkAclFacts,
  direction: 'ingress' | 'egress',
  peerCidr: string,
  ports: PortRange = EPHEMERAL_PORTS,
): NaclDecision {
  return evaluate(acl, direction, ports, peerCidr);
}

/** The entries of one direction in the order AWS evaluates them. */
export function orderedEntries(acl: NetworkAclFacts, direction: 'egress' | 'ingress'): NetworkAclEntryFacts[] {
  const egress = direction === 'egress';
  return acl.entries.filter((entry) => entry.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber);
}

function evaluate(
  acl: NetworkAclFacts,
  direction: 'egress' | 'ingress',
  ports: PortRange,
  peerCidr: string,
): NaclDecision {
  const addresses = peerRange(peerCidr);
  const verb = direction === 'egress' ? 'outbound' : 'inbound';
  const preposition = direction === 'egress' ? 'to' : 'from';
  if (addresses === null) {
    return { allowed: false, ruleNumber: null, evidence: `${acl.networkAclId}: "${peerCidr}" is not an IPv4 CIDR` };
  }
  const query: Box = { ports, addresses };
  const wanted = `${verb} ${portsText(query.ports)} ${preposition} ${peerCidr}`;
  let undecided: Box[] = [query];
  const allowedBy: NetworkAclEntryFacts[] = [];

  for (const entry of orderedEntries(acl, direction)) {
    const box = entryBox(entry);
    if (box === null || !undecided.some((part) => intersects(part, box))) continue;
    const what = `${verb} ${describeProtocolPorts(entry.protocol, entry.portRange?.from, entry.portRange?.to)} ${preposition} ${entry.cidrBlock}`;
    if (entry.action === 'deny') {
      const partial = contains(box, query) ? '' : ` (part of ${wanted})`;
      return {
        allowed: false,
        ruleNumber: entry.ruleNumber,
        evidence: `${acl.networkAclId} rule ${ruleLabel(entry.ruleNumber)} denies ${what}${partial}`,
      };
    }
    allowedBy.push(entry);
    undecided = undecided.flatMap((part) => subtract(part, box));
    if (undecided.length === 0) {
      const evidence =
        allowedBy.length === 1
          ? `${acl.networkAclId} rule ${ruleLabel(entry.ruleNumber)} allows ${what}`
          : `${acl.networkAclId} rules ${allowedBy.map((e) => ruleLabel(e.ruleNumber)).join(', ')} together allow ${wanted}`;
      return { allowed: true, ruleNumber: entry.ruleNumber, evidence };
    }
  }

  // Packets left over fall to the default `*` rule, which denies them.
  const first = undecided[0] ?? query;
  const rest = `${verb} ${portsText(first.ports)} ${preposition} ${rangeText(first.addresses)}`;
  const partly =
    allowedBy.length === 0
      ? ''
      : `${allowedBy
          .map(
            (e) =>
              `rule ${ruleLabel(e.ruleNumber)} allows only ${describeProtocolPorts(e.protocol, e.portRange?.from, e.portRange?.to)} ${preposition} ${e.cidrBlock}`,
          )
          .join(', ')}; `;
  return {
    allowed: false,
    ruleNumber: null,
    evidence: `${acl.networkAclId}: ${partly}no entry allows ${rest} (default rule * denies)`,
  };
}

/** The packets an entry applies to for TCP, or null when it never matches TCP over IPv4. */
function entryBox(entry: NetworkAclEntryFacts): Box | null {
  if (!protocolMatches(entry.protocol, 'tcp') || entry.cidrBlock === undefined) return null;
  const addresses = cidrRange(entry.cidrBlock);
  if (addresses === null) return null;
  // Port ranges only restrict TCP/UDP entries; protocol -1 covers every port whatever it says.
  const ports =
    normalizeProtocol(entry.protocol) === 'all' || entry.portRange === undefined
      ? { from: 0, to: MAX_PORT }
      : portBounds(entry.portRange.from, entry.portRange.to);
  return { ports, addresses };
}

/** A CIDR, or a bare IPv4 address taken as /32. */
function peerRange(peer: string): AddressRange | null {
  const range = cidrRange(peer);
  if (range !== null) return range;
  const address = parseIpv4(peer);
  return address === null ? null : { first: address, last: address };
}

function intersects(a: Box, b: Box): boolean {
  return (
    a.ports.from <= b.ports.to &&
    b.ports.from <= a.ports.to &&
    a.addresses.first <= b.addresses.last &&
    b.addresses.first <= a.addresses.last
  );
}

function contains(outer: Box, inner: Box): boolean {
  return (
    outer.ports.from <= inner.ports.from &&
    inner.ports.to <= outer.ports.to &&
    outer.addresses.first <= inner.addresses.first &&
    inner.addresses.last <= outer.addresses.last
  );
}

/** `a` minus `b`, as at most four disjoint boxes. */
function subtract(a: Box, b: Box): Box[] {
  if (!intersects(a, b)) return [a];
  const out: Box[] = [];
  if (a.ports.from < b.ports.from)
    out.push({ ports: { from: a.ports.from, to: b.ports.from - 1 }, addresses: a.addresses });
  if (b.ports.to < a.ports.to) out.push({ ports: { from: b.ports.to + 1, to: a.ports.to }, addresses: a.addresses });
  const ports = { from: Math.max(a.ports.from, b.ports.from), to: Math.min(a.ports.to, b.ports.to) };
  if (a.addresses.first < b.addresses.first) {
    out.push({ ports, addresses: { first: a.addresses.first, last: b.addresses.first - 1 } });
  }
  if (b.addresses.last < a.addresses.last) {
    out.push({ ports, addresses: { first: b.addresses.last + 1, last: a.addresses.last } });
  }
  return out;
}

function ruleLabel(ruleNumber: number): string {
  return ruleNumber === DEFAULT_RULE_NUMBER ? '*' : String(ruleNumber);
}

function portsText(ports: PortRange): string {
  return describeProtocolPorts('tcp', ports.from, ports.to);
}

/** An address range as a CIDR when it is one, else `first-last`. */
function rangeText(range: AddressRange): string {
  const size = range.last - range.first + 1;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && range.first % size === 0) return `${formatIpv4(range.first)}/${prefix}`;
  return `${formatIpv4(range.first)}-${formatIpv4(range.last)}`;
}
