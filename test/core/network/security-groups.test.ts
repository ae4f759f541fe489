import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  PrefixListFacts,
  SecurityGroupFacts,
  SecurityGroupRuleFacts,
} from '../../../functions/core/network/facts';
import { describePeer, sgAllowsEgress, sgAllowsIngress } from '../../../functions/core/network/security-groups';

function rule(partial: Partial<SecurityGroupRuleFacts>): SecurityGroupRuleFacts {
  return { protocol: 'tcp', cidrs: [], ipv6Cidrs: [], prefixListIds: [], groupIds: [], ...partial };
}

function group(
  groupId: string,
  ingress: SecurityGroupRuleFacts[],
  egress: SecurityGroupRuleFacts[] = [],
): SecurityGroupFacts {
  return { groupId, ingress, egress };
}

const S3_PREFIX_LIST: PrefixListFacts = {
  prefixListId: 'pl-61a54008',
  prefixListName: 'com.amazonaws.ap-northeast-1.s3',
  cidrs: ['52.219.0.0/20', '3.5.152.0/21'],
};

/** Seed 001: private subnet 10.0.10.0/24 in VPC 10.0.0.0/16; the task's IP is made up. */
const SEED_001_TASK = { groupIds: ['sg-0task001'], ip: '10.0.10.37', cidr: '10.0.10.0/24' };
/** Seed 002: the ECS task SG is the source of the endpoint SG's 443 rule. */
const SEED_002_TASK = { groupIds: ['sg-0task002'], ip: '10.0.20.53', subnetCidr: '10.0.20.0/24' };

describe('sgAllowsIngress (endpoint groups, traffic from the task)', () => {
  it.each([
    {
      name: 'seed 002: endpoint SG allows 443 from the task SG',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, groupIds: ['sg-0task002'] })])],
      from: SEED_002_TASK,
      evidence: 'sg-0endpoint inbound tcp 443 from sg-0task002',
    },
    {
      name: 'seed 001: endpoint SG allows 443 from the VPC CIDR',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16'] })])],
      from: SEED_001_TASK,
      evidence: 'sg-0endpoint inbound tcp 443 from 10.0.0.0/16',
    },
    {
      name: 'the VPC CIDR rule also covers the whole task subnet when the task IP is unknown',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16'] })])],
      from: { groupIds: [], subnetCidr: '10.0.10.0/24' },
      evidence: 'sg-0endpoint inbound tcp 443 from 10.0.0.0/16',
    },
    {
      name: 'an all-traffic rule (-1) matches any port',
      groups: [group('sg-0endpoint', [rule({ protocol: '-1', groupIds: ['sg-0task002'] })])],
      from: SEED_002_TASK,
      evidence: 'sg-0endpoint inbound all traffic from sg-0task002',
    },
    {
      name: 'a protocol number 6 rule with a port range matches',
      groups: [group('sg-0endpoint', [rule({ protocol: '6', fromPort: 0, toPort: 1023, cidrs: ['10.0.20.0/24'] })])],
      from: SEED_002_TASK,
      evidence: 'sg-0endpoint inbound tcp 0-1023 from 10.0.20.0/24',
    },
    {
      name: 'any one of several groups is enough (rules are unioned)',
      groups: [
        group('sg-0a', [rule({ fromPort: 80, toPort: 80, cidrs: ['0.0.0.0/0'] })]),
        group('sg-0b', [rule({ fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] })]),
      ],
      from: { groupIds: ['sg-0x'] },
      evidence: 'sg-0b inbound tcp 443 from 0.0.0.0/0',
    },
    {
      name: 'a self-referencing rule matches a task that shares the endpoint SG',
      groups: [group('sg-0shared', [rule({ fromPort: 443, toPort: 443, groupIds: ['sg-0shared'] })])],
      from: { groupIds: ['sg-0other', 'sg-0shared'] },
      evidence: 'sg-0shared inbound tcp 443 from sg-0shared',
    },
  ])('$name', ({ groups, from, evidence }) => {
    expect(sgAllowsIngress(groups, 443, from)).toMatchObject({ groupId: groups.at(-1)?.groupId, evidence });
  });

  it.each([
    {
      name: 'no rule on 443 (only 80)',
      groups: [group('sg-0endpoint', [rule({ fromPort: 80, toPort: 80, cidrs: ['0.0.0.0/0'] })])],
      from: SEED_001_TASK,
    },
    {
      name: 'the rule names a different SG',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, groupIds: ['sg-0someoneelse'] })])],
      from: SEED_002_TASK,
    },
    {
      name: 'the CIDR is another subnet',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.11.0/24'] })])],
      from: SEED_001_TASK,
    },
    {
      name: 'the CIDR covers only part of the task subnet and the task IP is unknown',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.10.0/25'] })])],
      from: { groupIds: [], cidr: '10.0.10.0/24' },
    },
    {
      name: 'the rule is UDP 443',
      groups: [group('sg-0endpoint', [rule({ protocol: 'udp', fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] })])],
      from: SEED_001_TASK,
    },
    {
      name: 'the only rule is IPv6',
      groups: [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, ipv6Cidrs: ['::/0'] })])],
      from: SEED_001_TASK,
    },
    { name: 'there are no groups at all', groups: [], from: SEED_001_TASK },
  ])('answers null when $name', ({ groups, from }) => {
    expect(sgAllowsIngress(groups, 443, from)).toBeNull();
  });

  it('reports the rule as a peer', () => {
    const groups = [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16'] })])];
    expect(sgAllowsIngress(groups, 443, SEED_001_TASK)?.peer).toEqual({ kind: 'cidr', cidr: '10.0.0.0/16' });
  });

  it('resolves a prefix-list source from known prefix lists', () => {
    const list: PrefixListFacts = { prefixListId: 'pl-0corp', prefixListName: 'corp', cidrs: ['10.0.0.0/8'] };
    const groups = [group('sg-0endpoint', [rule({ fromPort: 443, toPort: 443, prefixListIds: ['pl-0corp'] })])];
    expect(sgAllowsIngress(groups, 443, SEED_001_TASK)).toBeNull();
    expect(sgAllowsIngress(groups, 443, SEED_001_TASK, [list])?.evidence).toBe(
      'sg-0endpoint inbound tcp 443 from pl-0corp (corp)',
    );
  });

  it('matches 0.0.0.0/0 for any port in its range and any source, even one known only by group', () => {
    const groups = [group('sg-0endpoint', [rule({ fromPort: 0, toPort: 65_535, cidrs: ['0.0.0.0/0'] })])];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65_535 }),
        (port) => sgAllowsIngress(groups, port, { groupIds: [] }) !== null,
      ),
    );
  });
});

describe('sgAllowsEgress (task groups, traffic to the destination)', () => {
  const ENDPOINT = { ip: '10.0.11.25', cidr: '10.0.11.0/24', groupIds: ['sg-0endpoint'] };
  const S3 = { prefixListId: S3_PREFIX_LIST.prefixListId };

  it.each([
    {
      name: 'egress to 0.0.0.0/0 reaches an interface endpoint',
      rules: [rule({ protocol: '-1', cidrs: ['0.0.0.0/0'] })],
      to: ENDPOINT,
      evidence: 'sg-0task outbound all traffic to 0.0.0.0/0',
    },
    {
      name: 'egress tcp 443 to 0.0.0.0/0 reaches the S3 gateway endpoint prefix list',
      rules: [rule({ fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] })],
      to: S3,
      evidence: 'sg-0task outbound tcp 443 to 0.0.0.0/0',
    },
    {
      name: 'egress only to the S3 prefix list reaches S3',
      rules: [rule({ fromPort: 443, toPort: 443, prefixListIds: [S3_PREFIX_LIST.prefixListId] })],
      to: S3,
      evidence: 'sg-0task outbound tcp 443 to pl-61a54008 (com.amazonaws.ap-northeast-1.s3)',
    },
    {
      name: 'egress to the endpoint SG',
      rules: [rule({ fromPort: 443, toPort: 443, groupIds: ['sg-0endpoint'] })],
      to: ENDPOINT,
      evidence: 'sg-0task outbound tcp 443 to sg-0endpoint',
    },
    {
      name: 'egress to the VPC CIDR (seed 004: 443 out within the VPC)',
      rules: [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16'] })],
      to: { cidr: '10.0.3.0/24' },
      evidence: 'sg-0task outbound tcp 443 to 10.0.0.0/16',
    },
    {
      name: 'a CIDR rule containing every CIDR of the destination prefix list',
      rules: [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16', '0.0.0.0/1'] })],
      to: S3,
      evidence: 'sg-0task outbound tcp 443 to 0.0.0.0/1',
    },
  ])('$name', ({ rules, to, evidence }) => {
    const match = sgAllowsEgress([group('sg-0task', [], rules)], 443, to, [S3_PREFIX_LIST]);
    expect(match).toMatchObject({ groupId: 'sg-0task', evidence });
  });

  it.each([
    {
      name: 'egress only on port 80',
      rules: [rule({ fromPort: 80, toPort: 80, cidrs: ['0.0.0.0/0'] })],
      to: ENDPOINT,
    },
    {
      name: 'egress only to the S3 prefix list, going to an interface endpoint',
      rules: [rule({ fromPort: 443, toPort: 443, prefixListIds: [S3_PREFIX_LIST.prefixListId] })],
      to: ENDPOINT,
    },
    {
      name: 'egress to the VPC CIDR, going to S3 (outside the VPC)',
      rules: [rule({ fromPort: 443, toPort: 443, cidrs: ['10.0.0.0/16'] })],
      to: S3,
    },
    {
      name: 'egress to CIDRs each holding only one of the S3 prefix list CIDRs (no union is taken)',
      rules: [rule({ fromPort: 443, toPort: 443, cidrs: ['52.0.0.0/8', '3.0.0.0/8'] })],
      to: S3,
    },
    { name: 'no egress rules at all (they were all removed)', rules: [], to: ENDPOINT },
  ])('answers null for $name', ({ rules, to }) => {
    expect(sgAllowsEgress([group('sg-0task', [], rules)], 443, to, [S3_PREFIX_LIST])).toBeNull();
  });

  it('does not resolve an unknown prefix list against a narrower CIDR rule', () => {
    const groups = [group('sg-0task', [], [rule({ fromPort: 443, toPort: 443, cidrs: ['52.0.0.0/8'] })])];
    expect(sgAllowsEgress(groups, 443, { prefixListId: 'pl-0unknown' })).toBeNull();
  });

  it('checks only egress rules, never ingress ones', () => {
    const groups = [group('sg-0task', [rule({ protocol: '-1', cidrs: ['0.0.0.0/0'] })], [])];
    expect(sgAllowsEgress(groups, 443, ENDPOINT)).toBeNull();
  });
});

describe('describePeer', () => {
  it.each([
    [{ kind: 'cidr', cidr: '10.0.0.0/16' } as const, '10.0.0.0/16'],
    [{ kind: 'group', groupId: 'sg-0a' } as const, 'sg-0a'],
    [{ kind: 'prefixList', prefixListId: 'pl-61a54008' } as const, 'pl-61a54008 (com.amazonaws.ap-northeast-1.s3)'],
    [{ kind: 'prefixList', prefixListId: 'pl-0other' } as const, 'pl-0other'],
  ])('describes %j as %j', (peer, text) => {
    expect(describePeer(peer, [S3_PREFIX_LIST])).toBe(text);
  });
});
