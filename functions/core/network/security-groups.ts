/**
 * Security group evaluation: does a set of groups let TCP traffic on a port through?
 *
 * AWS semantics this follows:
 * - Security groups are allow-lists and stateful: there are no deny rules, the rules of all
 *   groups on an ENI are unioned, and return traffic of an allowed flow is always allowed. So
 *   one matching rule in any group is enough, and only the initiating direction is checked.
 * - A rule whose source/destination is a security group matches traffic from/to any ENI that
 *   has that group attached (the task's ENI, or the endpoint's ENIs).
 * - A CIDR rule matches an address inside the CIDR; `0.0.0.0/0` matches every IPv4 address,
 *   whatever group or prefix list that address belongs to.
 * - A prefix-list rule matches the addresses of the list's CIDRs.
 *
 * One CIDR must contain the whole other side (an IP, a range such as the task subnet, or every
 * CIDR of a destination prefix list). Unions of several CIDRs or rules are not computed, so a
 * range split across rules answers null: conservative, and rare in practice.
 *
 * IPv6 rules (`ipv6Cidrs`) are ignored: tasks reach interface endpoints and gateways over IPv4.
 */
import { cidrContainsCidr, cidrContainsIp, parseCidr } from './cidr';
import type { PrefixListFacts, SecurityGroupFacts, SecurityGroupRuleFacts } from './facts';
import { describeProtocolPorts, portInRange, protocolMatches } from './ports';

/** What traffic comes from or goes to, as a rule names it. */
export type Peer =
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'group'; readonly groupId: string }
  | { readonly kind: 'prefixList'; readonly prefixListId: string };

/** The rule that allowed the traffic: the group that holds it and a one-line human explanation. */
export interface RuleMatch {
  readonly groupId: string;
  readonly evidence: string;
  /** The source (ingress) or destination (egress) of the rule that matched; always set by this module. */
  readonly peer?: Peer;
}

/**
 * The task as a traffic source. `cidr` (or its alias `subnetCidr`) is a range that must be
 * allowed as a whole, e.g. the task subnet when the task's own IP is not known.
 */
export interface IngressSource {
  readonly groupIds: readonly string[];
  readonly ip?: string;
  readonly cidr?: string;
  readonly subnetCidr?: string;
}

/** Where the task sends traffic: an address or range, the destination's groups, or a prefix list (gateway endpoint). */
export interface EgressDestination {
  readonly cidr?: string;
  readonly ip?: string;
  readonly groupIds?: readonly string[];
  readonly prefixListId?: string;
}

/** The side of a flow that is not the evaluated groups, merged from either shape. */
interface OtherSide {
  readonly groupIds: readonly string[];
  readonly ip?: string;
  readonly cidrs: readonly string[];
  readonly prefixListId?: string;
}

/** Does a TCP `port` rule of `groups` (an endpoint's groups) let the task in? First matching rule, else null. */
export function sgAllowsIngress(
  groups: readonly SecurityGroupFacts[],
  port: number,
  from: IngressSource,
  prefixLists: readonly PrefixListFacts[] = [],
): RuleMatch | null {
  const side: OtherSide = {
    groupIds: from.groupIds,
    ...(from.ip === undefined ? {} : { ip: from.ip }),
    cidrs: [from.cidr, from.subnetCidr].filter((c): c is string => c !== undefined),
  };
  return firstMatch(groups, 'ingress', port, side, prefixLists);
}

/** Does a TCP `port` egress rule of `groups` (the task's groups) let traffic out to `to`? First matching rule, else null. */
export function sgAllowsEgress(
  groups: readonly SecurityGroupFacts[],
  port: number,
  to: EgressDestination,
  prefixLists: readonly PrefixListFacts[] = [],
): RuleMatch | null {
  const side: OtherSide = {
    groupIds: to.groupIds ?? [],
    ...(to.ip === undefined ? {} : { ip: to.ip }),
    cidrs: to.cidr === undefined ? [] : [to.cidr],
    ...(to.prefixListId === undefined ? {} : { prefixListId: to.prefixListId }),
  };
  return firstMatch(groups, 'egress', port, side, prefixLists);
}

/** Describes a peer for evidence: the CIDR, the group id, or the prefix list id with its name when known. */
export function describePeer(peer: Peer, prefixLists: readonly PrefixListFacts[] = []): string {
  switch (peer.kind) {
    case 'cidr':
      return peer.cidr;
    case 'group':
      return peer.groupId;
    case 'prefixList': {
      const list = prefixLists.find((p) => p.prefixListId === peer.prefixListId);
      return list === undefined ? peer.prefixListId : `${peer.prefixListId} (${list.prefixListName})`;
    }
  }
}

function firstMatch(
  groups: readonly SecurityGroupFacts[],
  direction: 'ingress' | 'egress',
  port: number,
  side: OtherSide,
  prefixLists: readonly PrefixListFacts[],
): RuleMatch | null {
  for (const group of groups) {
    for (const rule of group[direction]) {
      const peer = ruleMatches(rule, port, side, prefixLists);
      if (peer === null) continue;
      const verb = direction === 'ingress' ? 'inbound' : 'outbound';
      const preposition = direction === 'ingress' ? 'from' : 'to';
      const ports = describeProtocolPorts(rule.protocol, rule.fromPort, rule.toPort);
      return {
        groupId: group.groupId,
        peer,
        evidence: `${group.groupId} ${verb} ${ports} ${preposition} ${describePeer(peer, prefixLists)}`,
      };
    }
  }
  return null;
}

/** The peer through which `rule` allows TCP `port` to/from `side`, or null. */
function ruleMatches(
  rule: SecurityGroupRuleFacts,
  port: number,
  side: OtherSide,
  prefixLists: readonly PrefixListFacts[],
): Peer | null {
  if (!protocolMatches(rule.protocol, 'tcp') || !portInRange(port, rule.fromPort, rule.toPort)) return null;
  for (const groupId of rule.groupIds) {
    if (side.groupIds.includes(groupId)) return { kind: 'group', groupId };
  }
  for (const cidr of rule.cidrs) {
    if (cidrCoversSide(cidr, side, prefixLists)) return { kind: 'cidr', cidr };
  }
  for (const prefixListId of rule.prefixListIds) {
    if (side.prefixListId === prefixListId) return { kind: 'prefixList', prefixListId };
    // A prefix list the facts resolve (AWS-managed lists) is as good as its CIDRs.
    const list = prefixLists.find((p) => p.prefixListId === prefixListId);
    if (list?.cidrs.some((cidr) => cidrCoversSide(cidr, side, prefixLists)))
      return { kind: 'prefixList', prefixListId };
  }
  return null;
}

/** True when a rule CIDR contains the other side's IP, one of its ranges whole, or every CIDR of its prefix list. */
function cidrCoversSide(cidr: string, side: OtherSide, prefixLists: readonly PrefixListFacts[]): boolean {
  const parsed = parseCidr(cidr);
  if (parsed === null) return false;
  // 0.0.0.0/0 holds every IPv4 address, so it also covers peers known only by group or prefix list.
  if (parsed.prefix === 0) return true;
  if (side.ip !== undefined && cidrContainsIp(cidr, side.ip)) return true;
  if (side.cidrs.some((inner) => cidrContainsCidr(cidr, inner))) return true;
  if (side.prefixListId !== undefined) {
    const list = prefixLists.find((p) => p.prefixListId === side.prefixListId);
    if (list !== undefined && list.cidrs.length > 0 && list.cidrs.every((inner) => cidrContainsCidr(cidr, inner))) {
      return true;
    }
  }
  return false;
}
