import type { Classification } from '../classify';
import type { Finding, NetworkResult, Remediation } from '../diagnosis';
import { shellQuote } from '../shell';
import type { StoppedTask } from '../stopped-task';
import type { Endpoint, FindingStatus } from '../taxonomy';
import type { EfsMountTargetFacts, NetworkFacts, SecurityGroupFacts, SubnetFacts, VpcEndpointFacts } from './facts';
import {
  assignPublicIpFix,
  cliStructure,
  createInterfaceEndpointFix,
  createMountTargetFix,
  enablePrivateDnsFix,
  instancePublicIpFix,
  naclEntryFix,
  natRouteFix,
  s3GatewayFix,
  securityGroupHttpsFix,
  vpcDnsFix,
} from './fixes';
import { naclAllowsReturn, naclDecision } from './network-acls';
import { INTERFACE_ENDPOINTS, type Requirement, requirementsOf } from './requirements';
import { sgAllowsEgress, sgAllowsIngress } from './security-groups';

const HTTPS = 443;
const NFS = 2049;
const ANYWHERE = '0.0.0.0/0';
/** Which Describe call each kind of fact comes from, to name what was missing. */
const SOURCES = {
  vpc: 'DescribeVpcs / DescribeVpcAttribute',
  subnet: 'DescribeSubnets',
  routeTable: 'DescribeRouteTables',
  endpoints: 'DescribeVpcEndpoints',
  securityGroups: 'DescribeSecurityGroups',
  networkAcl: 'DescribeNetworkAcls',
  efs: 'DescribeNetworkInterfaces',
} as const;

/** Everything a rule reads. */
interface Context {
  readonly task: StoppedTask;
  readonly facts: NetworkFacts;
  readonly region: string;
  readonly requirements: readonly Requirement[];
  readonly internet: InternetPath;
  readonly taskGroups: readonly SecurityGroupFacts[] | null;
}

type InternetPath =
  | { readonly status: 'yes'; readonly via: string }
  | { readonly status: 'no'; readonly why: string; readonly publicSubnetWithoutIp: boolean }
  | { readonly status: 'unknown'; readonly why: string };

/**
 * Evaluates the network rules (DESIGN.md "Network rules") for a stopped task against
 * recorded or live facts. Pure: facts in, findings out. Each finding is
 * `fail | warn | pass | unknown` with the evidence that decided it; facts that could not be
 * read make the rules that need them `unknown`, never `pass`. A rule that throws becomes an
 * `unknown` finding rather than a crash. Findings come by status (fail, unknown, warn, pass),
 * the failed step's first within each; among the unknowns, the calls that could not be read
 * come first, since they are why the rest are unknown.
 */
export function checkNetwork(
  task: StoppedTask,
  classification: Pick<Classification, 'endpoints'>,
  facts: NetworkFacts,
): NetworkResult {
  const region = facts.region;
  const requirements = requirementsOf(task, facts.taskDefinition, classification, region);
  const taskGroupIds = facts.task.securityGroupIds;
  const taskGroups =
    facts.securityGroups && taskGroupIds
      ? taskGroupIds
          .map((id) => facts.securityGroups?.find((g) => g.groupId === id))
          .filter((g): g is SecurityGroupFacts => !!g)
      : null;
  const context: Context = { task, facts, region, requirements, internet: internetPath(facts), taskGroups };
  const findings: Finding[] = [];
  for (const rule of RULES) {
    try {
      findings.push(...rule.evaluate(context));
    } catch (error) {
      findings.push(
        finding(rule.id, 'unknown', `rule ${rule.id} could not be evaluated: ${(error as Error).message}`, []),
      );
    }
  }
  for (const missing of facts.unavailable) {
    // The permission goes in the message too, ahead of AWS's text (an EC2 denial carries a long
    // encoded authorization message): an alert shows undecided checks by message only, cut short.
    const needs = missing.permission ? ` (needs ${missing.permission})` : '';
    findings.push(
      finding(`facts:${missing.call}`, 'unknown', `${missing.call} could not be read${needs}: ${missing.reason}`, [
        missing.permission ? `grant ${missing.permission} to the checker's role` : 'the call failed',
      ]),
    );
  }
  const ordered = order(findings, requirements);
  const unknowns = ordered.filter((f) => f.status === 'unknown').length;
  return {
    status: facts.unavailable.length > 0 || unknowns > 0 ? 'partial' : 'checked',
    reason:
      unknowns > 0
        ? `${unknowns} check(s) could not be decided from the facts`
        : `checked ${requirements.length} requirement(s) of subnet ${facts.task.subnetId ?? '?'}${facts.task.containerInstance ? ` (the network of ${holderOf(facts).who})` : ''}`,
    findings: ordered,
  };
}

interface Rule {
  readonly id: string;
  evaluate(context: Context): Finding[];
}

const RULES: readonly Rule[] = [
  { id: 'subnet-free-ips', evaluate: subnetFreeIps },
  { id: 'vpc-dns', evaluate: vpcDns },
  { id: 'dhcp-dns', evaluate: dhcpDns },
  { id: 'internet-path', evaluate: internetRule },
  { id: 'interface-endpoints', evaluate: interfaceEndpoints },
  { id: 's3', evaluate: s3Rules },
  { id: 'task-egress', evaluate: taskEgress },
  { id: 'nacl', evaluate: naclRules },
  { id: 'efs', evaluate: efsRules },
];

function subnetFreeIps({ facts }: Context): Finding[] {
  const { subnet } = facts;
  if (!subnet) return [unknownFor('subnet-free-ips', 'subnet', facts)];
  const evidence = [
    `${subnet.subnetId} (${subnet.cidrBlock}) has ${subnet.availableIpAddressCount} free IPv4 addresses`,
  ];
  if (subnet.availableIpAddressCount === 0) {
    return [
      finding(
        'subnet-free-ips',
        'fail',
        `subnet ${subnet.subnetId} has no free IP address for the task's network interface`,
        evidence,
        {
          summary: `Free addresses in ${subnet.subnetId} or add a larger subnet to the service's awsvpcConfiguration`,
          cli: `aws ec2 describe-network-interfaces --region ${shellQuote(facts.region)} --filters ${cliStructure(`Name=subnet-id,Values=${subnet.subnetId}`, [{ Name: 'subnet-id', Values: [subnet.subnetId] }], [subnet.subnetId])} --query 'NetworkInterfaces[].{id:NetworkInterfaceId,status:Status,desc:Description}'`,
        },
      ),
    ];
  }
  const status: FindingStatus = subnet.availableIpAddressCount < 5 ? 'warn' : 'pass';
  return [
    finding(
      'subnet-free-ips',
      status,
      `subnet ${subnet.subnetId} has ${subnet.availableIpAddressCount} free IP addresses`,
      evidence,
    ),
  ];
}

function vpcDns({ facts, requirements, region }: Context): Finding[] {
  const { vpc } = facts;
  if (!vpc) return [unknownFor('vpc-dns-support', 'vpc', facts)];
  const out: Finding[] = [];
  if (vpc.enableDnsSupport === null) out.push(unknownFor('vpc-dns-support', 'vpc', facts));
  else if (!vpc.enableDnsSupport) {
    // AWS names DNS resolution off as a common cause of ResourceInitializationError.
    out.push(
      finding(
        'vpc-dns-support',
        'fail',
        `VPC ${vpc.vpcId} has enableDnsSupport off: tasks cannot resolve any AWS service name`,
        [`${vpc.vpcId} enableDnsSupport=false`],
        vpcDnsFix({ region, vpcId: vpc.vpcId, attribute: 'enableDnsSupport' }),
      ),
    );
  } else
    out.push(
      finding('vpc-dns-support', 'pass', `VPC ${vpc.vpcId} resolves DNS (enableDnsSupport)`, [
        `${vpc.vpcId} enableDnsSupport=true`,
      ]),
    );
  const usesPrivateDns = requirements.some(
    (r) => INTERFACE_ENDPOINTS.has(r.endpoint) && endpointFor(facts, r.endpoint)?.privateDnsEnabled,
  );
  if (vpc.enableDnsHostnames === null) out.push(unknownFor('vpc-dns-hostnames', 'vpc', facts));
  else if (!vpc.enableDnsHostnames) {
    // Private DNS names of interface endpoints need both DNS attributes on.
    out.push(
      finding(
        'vpc-dns-hostnames',
        usesPrivateDns ? 'fail' : 'warn',
        `VPC ${vpc.vpcId} has enableDnsHostnames off: endpoint private DNS names do not resolve`,
        [`${vpc.vpcId} enableDnsHostnames=false`],
        vpcDnsFix({ region, vpcId: vpc.vpcId, attribute: 'enableDnsHostnames' }),
      ),
    );
  } else
    out.push(
      finding('vpc-dns-hostnames', 'pass', `VPC ${vpc.vpcId} has enableDnsHostnames on`, [
        `${vpc.vpcId} enableDnsHostnames=true`,
      ]),
    );
  return out;
}

function dhcpDns({ facts }: Context): Finding[] {
  const servers = facts.vpc?.domainNameServers;
  if (!facts.vpc || servers === null || servers === undefined) return [unknownFor('dhcp-dns', 'vpc', facts)];
  if (servers.length === 0 || servers.every((s) => s === 'AmazonProvidedDNS')) {
    return [
      finding('dhcp-dns', 'pass', 'the VPC uses the Amazon-provided DNS resolver', [
        `domain-name-servers=${servers.join(',') || 'AmazonProvidedDNS'}`,
      ]),
    ];
  }
  return [
    finding(
      'dhcp-dns',
      'warn',
      `the VPC's DHCP options use custom DNS servers (${servers.join(', ')}): endpoint private DNS works only if they forward to the Amazon resolver`,
      [`${facts.vpc.dhcpOptionsId ?? 'DHCP options'} domain-name-servers=${servers.join(',')}`],
      {
        summary:
          'Forward the AWS service zones (amazonaws.com) from your DNS servers to the VPC resolver (VPC CIDR base +2, or 169.254.169.253), or use Route 53 Resolver rules',
      },
    ),
  ];
}

function internetRule(context: Context): Finding[] {
  const { facts, internet, region, task } = context;
  const needs = context.requirements.find((r) => r.endpoint === 'internet');
  if (!needs) return [];
  const evidence = [`needed for: ${needs.reasons.join('; ')}`];
  if (internet.status === 'yes')
    return [
      finding(
        'internet-path',
        'pass',
        `subnet ${facts.task.subnetId} reaches the internet through ${internet.via}`,
        evidence,
        null,
        'internet',
      ),
    ];
  if (internet.status === 'unknown')
    return [finding('internet-path', 'unknown', internet.why, evidence, null, 'internet')];
  if (internet.publicSubnetWithoutIp) {
    const instance = facts.task.containerInstance;
    return [
      finding(
        'public-subnet-public-ip',
        'fail',
        instance
          ? `subnet ${facts.task.subnetId} routes to an internet gateway but ${holderOf(facts).who} has no public IP, so the task cannot reach the internet`
          : `subnet ${facts.task.subnetId} routes to an internet gateway but the task has no public IP (assignPublicIp DISABLED), so it cannot reach the internet`,
        [...evidence, internet.why],
        instance && facts.task.subnetId
          ? instancePublicIpFix({ region, subnetId: facts.task.subnetId })
          : task.cluster && task.service && facts.task.subnetId
            ? assignPublicIpFix({
                region,
                cluster: task.cluster,
                service: task.service,
                subnetId: facts.task.subnetId,
                securityGroupIds: facts.task.securityGroupIds ?? [],
              })
            : null,
        'internet',
      ),
    ];
  }
  return [
    finding(
      'internet-path',
      'fail',
      `subnet ${facts.task.subnetId} has no route to the internet (no NAT gateway), and no VPC endpoint can serve what needs it`,
      [...evidence, internet.why],
      facts.routeTable ? natRouteFix({ region, routeTableId: facts.routeTable.routeTableId }) : null,
      'internet',
    ),
  ];
}

function interfaceEndpoints(context: Context): Finding[] {
  const { facts, region, internet } = context;
  const out: Finding[] = [];
  for (const requirement of context.requirements) {
    const name = requirement.endpoint;
    if (!INTERFACE_ENDPOINTS.has(name)) continue;
    const service = `com.amazonaws.${region}.${name}`;
    const why = `needed for: ${requirement.reasons.join('; ')}`;
    if (!facts.endpoints) {
      out.push(unknownFor(`endpoint:${name}`, 'endpoints', facts, name));
      continue;
    }
    const endpoint = endpointFor(facts, name);
    if (!endpoint) {
      if (internet.status === 'yes') {
        out.push(
          finding(
            `endpoint:${name}`,
            'pass',
            `no ${service} endpoint; the task reaches ${name} through ${internet.via}`,
            [why],
            null,
            name,
          ),
        );
      } else if (internet.status === 'unknown') {
        out.push(
          finding(
            `endpoint:${name}`,
            'unknown',
            `no ${service} endpoint, and whether the subnet reaches the internet is unknown: ${internet.why}`,
            [why],
            null,
            name,
          ),
        );
      } else {
        const vpcId = facts.vpc?.vpcId ?? facts.subnet?.vpcId ?? '<vpc-id>';
        const existingSgs = [
          ...new Set((facts.endpoints ?? []).filter((e) => e.type === 'Interface').flatMap((e) => e.securityGroupIds)),
        ];
        // ECS Exec's endpoint is only used once the task runs: its absence earns a warning, not the blame.
        out.push(
          finding(
            `endpoint:${name}`,
            requirement.neededToStart ? 'fail' : 'warn',
            `VPC ${vpcId} has no ${service} interface endpoint and subnet ${facts.task.subnetId} cannot reach the internet (${internet.why})`,
            [why],
            createInterfaceEndpointFix({
              region,
              vpcId,
              endpoint: name,
              subnetIds: endpointSubnetsFor(facts),
              securityGroupIds: existingSgs,
            }),
            name,
          ),
        );
      }
      continue;
    }
    if (endpoint.state !== 'available') {
      out.push(
        finding(
          `endpoint:${name}`,
          'fail',
          `endpoint ${endpoint.vpcEndpointId} (${name}) is ${endpoint.state}, not available`,
          [why],
          null,
          name,
        ),
      );
      continue;
    }
    out.push(
      finding(
        `endpoint:${name}`,
        'pass',
        `endpoint ${endpoint.vpcEndpointId} (${name}) is available`,
        [why],
        null,
        name,
      ),
    );
    out.push(privateDns(context, name, endpoint));
    out.push(endpointIngress(context, name, endpoint));
    out.push(endpointZone(context, name, endpoint));
  }
  return out;
}

function privateDns({ region, internet }: Context, name: Endpoint, endpoint: VpcEndpointFacts): Finding {
  const evidence = [`${endpoint.vpcEndpointId} privateDnsEnabled=${endpoint.privateDnsEnabled}`];
  if (endpoint.privateDnsEnabled)
    return finding(
      `private-dns:${name}`,
      'pass',
      `endpoint ${endpoint.vpcEndpointId} has private DNS on`,
      evidence,
      null,
      name,
    );
  // Without private DNS the service's public name resolves to public IPs: the endpoint is bypassed.
  const status: FindingStatus = internet.status === 'yes' ? 'warn' : 'fail';
  const message =
    status === 'warn'
      ? `endpoint ${endpoint.vpcEndpointId} (${name}) has private DNS off: traffic bypasses it through ${internet.status === 'yes' ? internet.via : 'the internet'}`
      : `endpoint ${endpoint.vpcEndpointId} (${name}) has private DNS off: ${name}.${region}.amazonaws.com resolves to public addresses the subnet cannot reach`;
  return finding(
    `private-dns:${name}`,
    status,
    message,
    evidence,
    enablePrivateDnsFix({ region, vpcEndpointId: endpoint.vpcEndpointId, endpoint: name }),
    name,
  );
}

function endpointIngress({ facts, region }: Context, name: Endpoint, endpoint: VpcEndpointFacts): Finding {
  return acceptsFromTask(facts, region, {
    id: `endpoint-sg:${name}`,
    endpoint: name,
    what: `endpoint ${endpoint.vpcEndpointId} (${name})`,
    resourceId: endpoint.vpcEndpointId,
    groupIds: endpoint.securityGroupIds,
    port: HTTPS,
    placeholder: '<endpoint-security-group-id>',
  });
}

/**
 * Whose network the task's traffic leaves from, as findings name it: the task's own
 * interface, or in `bridge`/`host` mode its container instance.
 */
function holderOf(facts: NetworkFacts): { readonly who: string; readonly whose: string } {
  const instance = facts.task.containerInstance;
  if (!instance) return { who: 'the task', whose: "the task's" };
  const id = instance.ec2InstanceId ?? instance.containerInstanceArn?.split('/').pop();
  const who = id ? `container instance ${id}` : 'the container instance';
  return { who, whose: `${who}'s` };
}

/**
 * Does the security group of something the task connects to (an endpoint, a mount target)
 * let the task in on `port`, by the task's group, address or subnet?
 */
function acceptsFromTask(
  facts: NetworkFacts,
  region: string,
  target: {
    id: string;
    endpoint: Endpoint;
    what: string;
    resourceId: string;
    groupIds: readonly string[];
    port: number;
    placeholder: string;
  },
): Finding {
  const { id, endpoint: name, what, port } = target;
  if (!facts.securityGroups) return unknownFor(id, 'securityGroups', facts, name);
  const groups = target.groupIds.map((gid) => facts.securityGroups?.find((g) => g.groupId === gid));
  if (groups.some((g) => !g) || groups.length === 0)
    return finding(
      id,
      'unknown',
      `the security groups of ${target.resourceId} were not all read`,
      target.groupIds,
      null,
      name,
    );
  const taskGroupIds = facts.task.securityGroupIds ?? [];
  const match = sgAllowsIngress(groups as SecurityGroupFacts[], port, {
    groupIds: taskGroupIds,
    ...(facts.task.privateIpv4Address ? { ip: facts.task.privateIpv4Address } : {}),
    ...(facts.subnet ? { cidr: facts.subnet.cidrBlock } : {}),
  });
  const protocol = port === NFS ? 'NFS' : 'HTTPS';
  const { who, whose } = holderOf(facts);
  if (match) return finding(id, 'pass', `${what} accepts ${protocol} from ${who}`, [match.evidence], null, name);
  return finding(
    id,
    'fail',
    `the security group of ${what} does not allow inbound TCP ${port} from ${who} (${taskGroupIds.join(', ') || facts.subnet?.cidrBlock || 'its subnet'})`,
    target.groupIds.map((g) => `${g}: no inbound rule for tcp ${port} from ${whose} security groups or address`),
    securityGroupHttpsFix({
      region,
      groupId: target.groupIds[0] ?? target.placeholder,
      direction: 'ingress',
      port,
      peer: taskGroupIds[0] ? { groupId: taskGroupIds[0] } : { cidr: facts.subnet?.cidrBlock ?? '<task-subnet-cidr>' },
    }),
    name,
  );
}

function endpointZone({ facts, task }: Context, name: Endpoint, endpoint: VpcEndpointFacts): Finding {
  const id = `endpoint-az:${name}`;
  const zone = facts.subnet?.availabilityZone ?? task.availabilityZone;
  const subnets = [facts.subnet, ...facts.endpointSubnets].filter((s): s is SubnetFacts => !!s);
  const zones = endpoint.subnetIds.map((sid) => subnets.find((s) => s.subnetId === sid)?.availabilityZone);
  if (!zone || zones.some((z) => z === undefined))
    return finding(
      id,
      'unknown',
      `the Availability Zones of ${endpoint.vpcEndpointId} are not known`,
      endpoint.subnetIds,
      null,
      name,
    );
  const evidence = [`${endpoint.vpcEndpointId} in ${[...new Set(zones)].join(', ')}; task in ${zone}`];
  if (zones.includes(zone))
    return finding(
      id,
      'pass',
      `endpoint ${endpoint.vpcEndpointId} (${name}) has a network interface in ${zone}`,
      evidence,
      null,
      name,
    );
  // Seed 004: any subnet of the VPC reaches the endpoint through the local route, so this works.
  return finding(
    id,
    'warn',
    `endpoint ${endpoint.vpcEndpointId} (${name}) has no network interface in the task's zone ${zone}: it works across zones, but an outage of ${[...new Set(zones)].join(', ')} cuts the task off`,
    evidence,
    { summary: `Add a subnet in ${zone} to ${endpoint.vpcEndpointId}` },
    name,
  );
}

function s3Rules(context: Context): Finding[] {
  const { facts, region, internet } = context;
  const requirement = context.requirements.find((r) => r.endpoint === 's3');
  if (!requirement) return [];
  const why = `needed for: ${requirement.reasons.join('; ')}`;
  if (!facts.endpoints) return [unknownFor('s3-gateway', 'endpoints', facts, 's3')];
  if (!facts.routeTable) return [unknownFor('s3-gateway', 'routeTable', facts, 's3')];
  const service = `com.amazonaws.${region}.s3`;
  const gateway = facts.endpoints.find((e) => e.serviceName === service && e.type === 'Gateway');
  const table = facts.routeTable;
  const tableNote = table.main ? ' (the VPC main route table: the subnet has no explicit association)' : '';
  const associated =
    gateway &&
    (gateway.routeTableIds.includes(table.routeTableId) ||
      table.routes.some((r) => r.target === gateway.vpcEndpointId && r.state === 'active'));
  if (associated && gateway) {
    return [
      finding(
        's3-gateway',
        'pass',
        `s3 gateway endpoint ${gateway.vpcEndpointId} is on route table ${table.routeTableId}${tableNote}`,
        [why],
        null,
        's3',
      ),
      s3Policy(context, gateway),
    ];
  }
  const s3Interface = facts.endpoints.find(
    (e) => e.serviceName === service && e.type === 'Interface' && e.state === 'available',
  );
  if (s3Interface)
    return [
      finding(
        's3-gateway',
        'pass',
        `no s3 gateway on ${table.routeTableId}, but interface endpoint ${s3Interface.vpcEndpointId} serves s3`,
        [why],
        null,
        's3',
      ),
    ];
  if (internet.status === 'yes')
    return [
      finding(
        's3-gateway',
        'pass',
        `no s3 gateway endpoint on ${table.routeTableId}; the task reaches S3 through ${internet.via}`,
        [why],
        null,
        's3',
      ),
    ];
  const message = gateway
    ? `s3 gateway endpoint ${gateway.vpcEndpointId} is not associated with route table ${table.routeTableId}${tableNote} of subnet ${facts.task.subnetId}`
    : `VPC has no s3 gateway endpoint and subnet ${facts.task.subnetId} has no route to the internet`;
  const vpcId = facts.vpc?.vpcId ?? facts.subnet?.vpcId ?? '<vpc-id>';
  return [
    finding(
      's3-gateway',
      internet.status === 'unknown' ? 'unknown' : 'fail',
      message,
      [
        why,
        `route table ${table.routeTableId} routes: ${table.routes.map((r) => `${r.destinationCidrBlock ?? r.destinationPrefixListId} → ${r.target}`).join(', ')}`,
      ],
      s3GatewayFix({
        region,
        vpcId,
        routeTableId: table.routeTableId,
        ...(gateway ? { vpcEndpointId: gateway.vpcEndpointId } : {}),
      }),
      's3',
    ),
  ];
}

function s3Policy({ region }: Context, gateway: VpcEndpointFacts): Finding {
  const bucket = `prod-${region}-starport-layer-bucket`;
  if (!gateway.policyDocument)
    return finding(
      's3-endpoint-policy',
      'pass',
      `s3 gateway ${gateway.vpcEndpointId} has the default full-access policy`,
      [],
      null,
      's3',
    );
  let allows: boolean;
  try {
    allows = policyAllowsObject(JSON.parse(gateway.policyDocument), `arn:aws:s3:::${bucket}/layer`);
  } catch {
    return finding(
      's3-endpoint-policy',
      'unknown',
      `the policy of ${gateway.vpcEndpointId} is not valid JSON`,
      [],
      null,
      's3',
    );
  }
  if (allows)
    return finding(
      's3-endpoint-policy',
      'pass',
      `the policy of ${gateway.vpcEndpointId} allows s3:GetObject on ${bucket}`,
      [],
      null,
      's3',
    );
  return finding(
    's3-endpoint-policy',
    'fail',
    `the policy of s3 gateway ${gateway.vpcEndpointId} does not allow s3:GetObject on arn:aws:s3:::${bucket}/*, where ECR keeps image layers`,
    [gateway.policyDocument.slice(0, 300)],
    {
      summary: `Add a statement allowing s3:GetObject on arn:aws:s3:::${bucket}/* to the policy of ${gateway.vpcEndpointId}`,
      cli: `aws ec2 modify-vpc-endpoint --region ${shellQuote(region)} --vpc-endpoint-id ${shellQuote(gateway.vpcEndpointId)} --policy-document ${shellQuote(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }))}`,
    },
    's3',
  );
}

/** A minimal evaluation of an endpoint policy: some Allow statement covers GetObject on the ARN and no Deny does. */
export function policyAllowsObject(policy: unknown, objectArn: string): boolean {
  const statements = toArray((policy as { Statement?: unknown })?.Statement) as Array<Record<string, unknown>>;
  const covers = (s: Record<string, unknown>): boolean =>
    toArray(s.Action).some((a) => typeof a === 'string' && wildcard(a, 's3:GetObject')) &&
    toArray(s.Resource).some((r) => typeof r === 'string' && wildcard(r, objectArn));
  if (statements.some((s) => s.Effect === 'Deny' && covers(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && covers(s));
}

function wildcard(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(value);
}

function toArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function taskEgress(context: Context): Finding[] {
  const { facts, region, taskGroups, requirements } = context;
  const out: Finding[] = [];
  const taskGroupId = facts.task.securityGroupIds?.[0] ?? '<task-security-group-id>';
  const interfaceNeeds = requirements.filter(
    (r) => INTERFACE_ENDPOINTS.has(r.endpoint) && endpointFor(facts, r.endpoint),
  );
  const checks: Array<{
    id: string;
    endpoint?: Endpoint;
    what: string;
    to: Parameters<typeof sgAllowsEgress>[2];
    fix: Remediation;
  }> = [];
  if (interfaceNeeds.length > 0) {
    const cidr = facts.vpc?.cidrBlocks[0] ?? facts.subnet?.cidrBlock ?? ANYWHERE;
    const endpointGroups = [
      ...new Set(interfaceNeeds.flatMap((r) => endpointFor(facts, r.endpoint)?.securityGroupIds ?? [])),
    ];
    checks.push({
      id: 'task-egress:endpoints',
      what: `the VPC endpoints (${interfaceNeeds.map((r) => r.endpoint).join(', ')})`,
      to: { cidr, groupIds: endpointGroups },
      fix: securityGroupHttpsFix({ region, groupId: taskGroupId, direction: 'egress', peer: { cidr } }),
    });
  }
  if (requirements.some((r) => r.endpoint === 's3')) {
    const prefixList = facts.prefixLists.find((p) => p.prefixListName === `com.amazonaws.${region}.s3`);
    checks.push({
      id: 'task-egress:s3',
      endpoint: 's3',
      what: 'Amazon S3',
      to: prefixList
        ? { prefixListId: prefixList.prefixListId, cidr: prefixList.cidrs[0] ?? ANYWHERE }
        : { cidr: ANYWHERE },
      fix: securityGroupHttpsFix({
        region,
        groupId: taskGroupId,
        direction: 'egress',
        peer: prefixList ? { prefixListId: prefixList.prefixListId } : { cidr: ANYWHERE },
      }),
    });
  }
  if (requirements.some((r) => r.endpoint === 'internet')) {
    checks.push({
      id: 'task-egress:internet',
      endpoint: 'internet',
      what: 'the internet',
      to: { cidr: ANYWHERE },
      fix: securityGroupHttpsFix({ region, groupId: taskGroupId, direction: 'egress', peer: { cidr: ANYWHERE } }),
    });
  }
  const { whose } = holderOf(facts);
  for (const check of checks) {
    if (facts.securityGroups && !facts.task.securityGroupIds) {
      // A stop event does not carry the task's security groups; only its service's configuration does.
      out.push(
        finding(
          check.id,
          'unknown',
          facts.task.containerInstance
            ? `cannot tell: ${whose} security groups are unknown`
            : "cannot tell: the task's security groups are unknown (a task not started by a service: `check` or `snapshot` take them with --security-groups)",
          [],
          null,
          check.endpoint,
        ),
      );
      continue;
    }
    if (!taskGroups || taskGroups.length === 0) {
      out.push(unknownFor(check.id, 'securityGroups', facts, check.endpoint));
      continue;
    }
    const match = sgAllowsEgress(taskGroups, HTTPS, check.to);
    out.push(
      match
        ? finding(
            check.id,
            'pass',
            `${whose} security group allows HTTPS to ${check.what}`,
            [match.evidence],
            null,
            check.endpoint,
          )
        : finding(
            check.id,
            'fail',
            `${whose} security group ${taskGroups.map((g) => g.groupId).join(', ')} does not allow outbound TCP 443 to ${check.what}`,
            taskGroups.map(
              (g) =>
                `${g.groupId} egress: ${g.egress.map((r) => `${r.protocol} ${r.fromPort ?? '*'}-${r.toPort ?? '*'} → ${[...r.cidrs, ...r.prefixListIds, ...r.groupIds].join(',')}`).join('; ') || 'none'}`,
            ),
            check.fix,
            check.endpoint,
          ),
    );
  }
  return out;
}

function naclRules(context: Context): Finding[] {
  const { facts, region, requirements } = context;
  const acl = facts.networkAcl;
  const destinations: Array<{ id: string; endpoint?: Endpoint; cidr: string; what: string }> = [];
  const interfaceNeeded = requirements.some(
    (r) => INTERFACE_ENDPOINTS.has(r.endpoint) && endpointFor(facts, r.endpoint),
  );
  if (interfaceNeeded) {
    const zoneSubnets = facts.endpointSubnets.filter((s) => s.subnetId !== facts.task.subnetId);
    // Traffic inside the task's own subnet does not cross its NACL; endpoints elsewhere do.
    for (const subnet of zoneSubnets)
      destinations.push({
        id: `nacl:endpoints:${subnet.subnetId}`,
        cidr: subnet.cidrBlock,
        what: `endpoint subnet ${subnet.subnetId}`,
      });
    if (zoneSubnets.length === 0 && facts.vpc?.cidrBlocks[0] && !endpointsOnlyInTaskSubnet(facts)) {
      destinations.push({ id: 'nacl:endpoints', cidr: facts.vpc.cidrBlocks[0], what: 'the VPC endpoints' });
    }
  }
  if (requirements.some((r) => r.endpoint === 's3')) {
    const prefixList = facts.prefixLists.find((p) => p.prefixListName === `com.amazonaws.${region}.s3`);
    // Without the list's CIDRs (not read when the ACL lets HTTPS through to anywhere), judge anywhere.
    for (const cidr of prefixList?.cidrs.length ? prefixList.cidrs.slice(0, 1) : [ANYWHERE])
      destinations.push({
        id: 'nacl:s3',
        endpoint: 's3',
        cidr,
        what: `Amazon S3 (${cidr === ANYWHERE ? 'any address' : cidr})`,
      });
  }
  if (requirements.some((r) => r.endpoint === 'internet'))
    destinations.push({ id: 'nacl:internet', endpoint: 'internet', cidr: ANYWHERE, what: 'the internet' });
  if (destinations.length === 0) return [];
  if (!acl) return destinations.map((d) => unknownFor(d.id, 'networkAcl', facts, d.endpoint));
  const out: Finding[] = [];
  for (const d of destinations) {
    const egress = naclDecision(acl, 'egress', HTTPS, d.cidr);
    const ingress = naclAllowsReturn(acl, 'ingress', d.cidr);
    if (egress.allowed && ingress.allowed) {
      out.push(
        finding(
          d.id,
          'pass',
          `network ACL ${acl.networkAclId} lets HTTPS out to ${d.what} and the replies back in`,
          [egress.evidence, ingress.evidence],
          null,
          d.endpoint,
        ),
      );
      continue;
    }
    const fix = !egress.allowed
      ? naclEntryFix({
          region,
          networkAclId: acl.networkAclId,
          direction: 'egress',
          from: HTTPS,
          to: HTTPS,
          cidr: d.cidr,
          ruleNumber: freeRuleNumber(acl, true, egress.ruleNumber),
        })
      : naclEntryFix({
          region,
          networkAclId: acl.networkAclId,
          direction: 'ingress',
          from: 1024,
          to: 65535,
          cidr: d.cidr,
          ruleNumber: freeRuleNumber(acl, false, ingress.ruleNumber),
        });
    const message = !egress.allowed
      ? `network ACL ${acl.networkAclId} of subnet ${facts.task.subnetId} blocks outbound TCP 443 to ${d.what}`
      : `network ACL ${acl.networkAclId} of subnet ${facts.task.subnetId} blocks the return traffic (TCP 1024-65535) from ${d.what}`;
    out.push(finding(d.id, 'fail', message, [egress.evidence, ingress.evidence], fix, d.endpoint));
  }
  return out;
}

function endpointsOnlyInTaskSubnet(facts: NetworkFacts): boolean {
  const subnetId = facts.task.subnetId;
  const interfaces = (facts.endpoints ?? []).filter((e) => e.type === 'Interface');
  return (
    subnetId !== null &&
    interfaces.length > 0 &&
    interfaces.every((e) => e.subnetIds.length === 1 && e.subnetIds[0] === subnetId)
  );
}

/** A rule number below the blocking one and not already used, so the new entry is evaluated first. */
function freeRuleNumber(
  acl: NonNullable<NetworkFacts['networkAcl']>,
  egress: boolean,
  blocking: number | null,
): number {
  const used = new Set(acl.entries.filter((e) => e.egress === egress).map((e) => e.ruleNumber));
  for (let n = Math.max(1, (blocking ?? 100) - 1); n >= 1; n -= 1) if (!used.has(n)) return n;
  return 1;
}

function internetPath(facts: NetworkFacts): InternetPath {
  const table = facts.routeTable;
  if (!table) return { status: 'unknown', why: `the subnet's route table was not read (${SOURCES.routeTable})` };
  const route = table.routes.find((r) => r.destinationCidrBlock === ANYWHERE);
  if (!route)
    return {
      status: 'no',
      why: `route table ${table.routeTableId} has no 0.0.0.0/0 route`,
      publicSubnetWithoutIp: false,
    };
  if (route.state !== 'active')
    return {
      status: 'no',
      why: `0.0.0.0/0 in ${table.routeTableId} points to ${route.target}, which is ${route.state}`,
      publicSubnetWithoutIp: false,
    };
  const target = route.target;
  if (target.startsWith('nat-')) return { status: 'yes', via: `NAT gateway ${target}` };
  if (target.startsWith('tgw-'))
    return { status: 'yes', via: `transit gateway ${target} (egress assumed to be provided behind it)` };
  if (target.startsWith('vpce-')) return { status: 'yes', via: `firewall endpoint ${target}` };
  if (target.startsWith('eni-'))
    return { status: 'yes', via: `network interface ${target} (NAT instance or appliance)` };
  if (target.startsWith('igw-')) {
    if (facts.task.assignPublicIp === 'ENABLED')
      return { status: 'yes', via: `internet gateway ${target} with ${holderOf(facts).whose} public IP` };
    if (facts.task.assignPublicIp === 'DISABLED')
      return {
        status: 'no',
        why: facts.task.containerInstance
          ? `0.0.0.0/0 → ${target} in ${table.routeTableId}, but ${holderOf(facts).who} has no public IP`
          : `0.0.0.0/0 → ${target} in ${table.routeTableId}, but assignPublicIp is DISABLED`,
        publicSubnetWithoutIp: true,
      };
    return {
      status: 'unknown',
      why: `0.0.0.0/0 → ${target}, and whether ${holderOf(facts).who} had a public IP is not known`,
    };
  }
  return {
    status: 'unknown',
    why: `0.0.0.0/0 → ${target} in ${table.routeTableId}: not a target this checker recognises`,
  };
}

function endpointFor(facts: NetworkFacts, name: Endpoint): VpcEndpointFacts | undefined {
  const service = `com.amazonaws.${facts.region}.${name}`;
  return facts.endpoints?.find((e) => e.serviceName === service && e.type !== 'Gateway');
}

/** Subnets for a new interface endpoint: the endpoint subnets already in use, else the task's. */
function endpointSubnetsFor(facts: NetworkFacts): string[] {
  const used = [...new Set((facts.endpoints ?? []).filter((e) => e.type === 'Interface').flatMap((e) => e.subnetIds))];
  if (used.length > 0) return used;
  return facts.task.subnetId ? [facts.task.subnetId] : ['<subnet-id>'];
}

function unknownFor(id: string, fact: keyof typeof SOURCES, facts: NetworkFacts, endpoint?: Endpoint): Finding {
  const call = SOURCES[fact];
  const missing = facts.unavailable.find((u) => call.includes(u.call));
  const why = missing
    ? `${missing.call} failed: ${missing.reason}${missing.permission ? ` (needs ${missing.permission})` : ''}`
    : `${call} was not read`;
  return finding(
    id,
    'unknown',
    `cannot tell: ${why}`,
    missing?.permission ? [`grant ${missing.permission}`] : [],
    null,
    endpoint,
  );
}

function finding(
  id: string,
  status: FindingStatus,
  message: string,
  evidence: readonly string[],
  fix: Remediation | null = null,
  endpoint?: Endpoint,
): Finding {
  return { id, status, ...(endpoint ? { endpoint } : {}), message, evidence, fix: status === 'pass' ? null : fix };
}

const STATUS_ORDER: Record<FindingStatus, number> = { fail: 0, unknown: 1, warn: 2, pass: 3 };

function order(findings: Finding[], requirements: readonly Requirement[]): Finding[] {
  const failedStep = new Set(requirements.filter((r) => r.failedStep).map((r) => r.endpoint));
  // A call that could not be read comes first among the unknowns: it is why the others are.
  const place = (f: Finding) => (f.id.startsWith('facts:') ? 0 : f.endpoint && failedStep.has(f.endpoint) ? 1 : 2);
  const rank = (f: Finding) => STATUS_ORDER[f.status] * 3 + place(f);
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map(({ f }) => f);
}

/**
 * EFS volumes: the file system needs an available mount target in the task's Availability
 * Zone (the mount helper resolves the file system's DNS name to the mount target of its own
 * zone), whose security group accepts NFS (TCP 2049) from the task, and the task's security
 * group must let 2049 out (efs-volumes.html; reference: EFS mount targets, R9).
 */
function efsRules({ facts, region, taskGroups }: Context): Finding[] {
  const systems = [...new Set((facts.taskDefinition?.efsVolumes ?? []).map((v) => v.fileSystemId))];
  const out: Finding[] = [];
  const EFS: Endpoint = 'elasticfilesystem';
  for (const fileSystemId of systems) {
    const id = `efs-mount-target:${fileSystemId}`;
    if (!facts.efsMountTargets) {
      out.push(unknownFor(id, 'efs', facts, EFS));
      continue;
    }
    const zone = facts.subnet?.availabilityZone;
    if (!zone) {
      out.push(unknownFor(id, 'subnet', facts, EFS));
      continue;
    }
    const targets = facts.efsMountTargets.filter((t) => t.fileSystemId === fileSystemId);
    if (targets.length === 0) {
      // Found by their network interfaces: none at all may also mean a file system shared from another account.
      out.push(
        finding(
          id,
          'unknown',
          `no mount target of ${fileSystemId} was found in ${region}: the file system has none, or belongs to another account`,
          [
            `aws efs describe-mount-targets --region ${shellQuote(region)} --file-system-id ${shellQuote(fileSystemId)}`,
          ],
          null,
          EFS,
        ),
      );
      continue;
    }
    const evidence = targets.map((t) => `${t.mountTargetId} in ${t.availabilityZone} (${t.subnetId}, ${t.state})`);
    const target = targets.find((t) => t.availabilityZone === zone && t.state === 'available');
    if (!target) {
      out.push(
        finding(
          id,
          'fail',
          `file system ${fileSystemId} has no available mount target in ${zone}, the task's zone: its DNS name does not resolve there`,
          evidence,
          createMountTargetFix({
            region,
            fileSystemId,
            subnetId: facts.task.subnetId ?? '<task-subnet-id>',
            securityGroupIds: targets.find((t) => t.securityGroupIds)?.securityGroupIds ?? [],
          }),
          EFS,
        ),
      );
      continue;
    }
    out.push(
      finding(
        id,
        'pass',
        `file system ${fileSystemId} has mount target ${target.mountTargetId} in ${zone}`,
        evidence,
        null,
        EFS,
      ),
    );
    out.push(mountTargetIngress(facts, region, fileSystemId, target));
    if (!taskGroups || taskGroups.length === 0) continue;
    const egressId = `task-egress:efs:${fileSystemId}`;
    const to = { ...(target.ipAddress ? { ip: target.ipAddress } : {}), groupIds: target.securityGroupIds ?? [] };
    const match = sgAllowsEgress(taskGroups, NFS, to);
    out.push(
      match
        ? finding(
            egressId,
            'pass',
            `${holderOf(facts).whose} security group allows NFS to ${target.mountTargetId}`,
            [match.evidence],
            null,
            EFS,
          )
        : finding(
            egressId,
            'fail',
            `${holderOf(facts).whose} security group ${taskGroups.map((g) => g.groupId).join(', ')} does not allow outbound TCP 2049 to mount target ${target.mountTargetId}`,
            [`${target.mountTargetId} ${target.ipAddress ?? ''}`.trim()],
            securityGroupHttpsFix({
              region,
              groupId: taskGroups[0]?.groupId ?? '<task-security-group-id>',
              direction: 'egress',
              port: NFS,
              peer: target.securityGroupIds?.[0]
                ? { groupId: target.securityGroupIds[0] }
                : { cidr: target.ipAddress ? `${target.ipAddress}/32` : ANYWHERE },
            }),
            EFS,
          ),
    );
  }
  return out;
}

function mountTargetIngress(
  facts: NetworkFacts,
  region: string,
  fileSystemId: string,
  target: EfsMountTargetFacts,
): Finding {
  const id = `efs-sg:${fileSystemId}`;
  if (!target.securityGroupIds) return unknownFor(id, 'efs', facts, 'elasticfilesystem');
  return acceptsFromTask(facts, region, {
    id,
    endpoint: 'elasticfilesystem',
    what: `mount target ${target.mountTargetId} (${fileSystemId})`,
    resourceId: target.mountTargetId,
    groupIds: target.securityGroupIds,
    port: NFS,
    placeholder: '<mount-target-security-group-id>',
  });
}
