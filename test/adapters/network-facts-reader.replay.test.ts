import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { awsPorts } from '../../functions/adapters/aws-clients';
import { NetworkFactsReader } from '../../functions/adapters/network-facts-reader';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import { useAwsReplayServer } from '../helpers/aws-replay-server';
import { awsWorld } from '../helpers/aws-world';
import { fixture, ROOT } from '../helpers/fixtures';

const SNAPSHOTS = readdirSync(join(ROOT, 'test/fixtures/facts'))
  .filter((name) => name.endsWith('.json'))
  .sort();

const server = useAwsReplayServer();
afterEach(() => {
  expect(server().unrouted).toEqual([]);
});

function snapshot(name: string): NetworkFacts {
  return parseNetworkFacts(fixture(`facts/${name}`), name);
}

/** The facts as a snapshot file would hold them, with what the live reader may legitimately leave out. */
function comparable(facts: NetworkFacts, read: NetworkFacts): unknown {
  const byId = <T>(items: readonly T[] | null, key: (t: T) => string) =>
    items ? [...items].sort((a, b) => key(a).localeCompare(key(b))) : items;
  const customDns = facts.vpc?.domainNameServers?.some((s) => s !== 'AmazonProvidedDNS');
  return {
    ...facts,
    capturedAt: undefined,
    vpc: facts.vpc && {
      ...facts.vpc,
      // The reader asks DescribeVpcs (the only source of the set's id) only when some set has custom DNS.
      dhcpOptionsId: customDns ? facts.vpc.dhcpOptionsId : undefined,
    },
    endpoints: byId(facts.endpoints, (e) => e.vpcEndpointId),
    securityGroups: byId(facts.securityGroups, (g) => g.groupId),
    endpointSubnets: byId(facts.endpointSubnets, (s) => s.subnetId),
    // S3's CIDRs are read only when the network ACL makes them matter; the id always comes along.
    prefixLists: read.prefixLists[0]?.cidrs.length
      ? facts.prefixLists
      : facts.prefixLists
          .filter((p) => read.prefixLists.some((r) => r.prefixListId === p.prefixListId))
          .map((p) => ({ ...p, cidrs: [] })),
    unavailable: facts.unavailable.map((u) => u.call).sort(),
  };
}

describe('NetworkFactsReader with the real SDK clients against recorded AWS answers', () => {
  it.each(SNAPSHOTS)('reads back %s exactly as the snapshot records it', async (name) => {
    const facts = snapshot(name);
    server().setRoutes(awsWorld(facts));
    const reader = new NetworkFactsReader({ portsFor: awsPorts() });
    const instance = facts.task.containerInstance?.containerInstanceArn;
    const reading = await reader.read({
      region: facts.region,
      cluster: 'demo',
      service: 'web',
      ...(facts.taskDefinition?.taskDefinitionArn ? { taskDefinition: facts.taskDefinition.taskDefinitionArn } : {}),
      ...(instance
        ? { containerInstanceArn: instance }
        : {
            subnetId: facts.task.subnetId ?? '',
            ...(facts.task.privateIpv4Address ? { privateIpv4Address: facts.task.privateIpv4Address } : {}),
          }),
    });
    expect(comparable(reading.facts, reading.facts)).toEqual(comparable(facts, reading.facts));
    expect(reading.rounds).toBeLessThanOrEqual(2);
  });
});
