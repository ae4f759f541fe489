import { describe, expect, it } from 'vitest';
import type { Finding } from '../../functions/core/diagnosis';
import { checkPlannedTask } from '../../functions/core/network/preflight';
import { logicalIds, synthesize, templateJson } from '../helpers/cdk';
import { type CfnTemplate, serviceCheckInputs } from '../helpers/template-facts';

/**
 * The reference VPC, proven by our own checker: the synthesized template, read as the
 * network facts EC2 would report once it is deployed, run through the network rules for
 * the sample service's task (Fargate 1.4.0, an ECR image, awslogs, a Secrets Manager
 * secret, a Parameter Store parameter, ECS Exec) in each of its subnets.
 */
function check(template: CfnTemplate) {
  const inputs = serviceCheckInputs(template);
  expect(inputs.length).toBeGreaterThanOrEqual(2);
  return inputs.map(({ planned, facts }) => ({ subnet: planned.subnetId, result: checkPlannedTask(planned, facts) }));
}

const notPassing = (findings: readonly Finding[]) =>
  findings.filter((f) => f.status !== 'pass').map((f) => `${f.status} ${f.id}: ${f.message}`);

const sample = templateJson(synthesize({ sampleService: true }).referenceVpc);

/** The template with one change: `mutate` edits the resources of a clone. */
function broken(mutate: (resources: CfnTemplate['Resources']) => void): CfnTemplate {
  const clone = structuredClone(sample);
  mutate(clone.Resources);
  return clone;
}

function endpointLogicalId(template: CfnTemplate, name: string): string {
  const [id] = logicalIds(template, 'AWS::EC2::VPCEndpoint', (p) =>
    JSON.stringify(p.ServiceName).endsWith(`.${name}"]]}`),
  );
  if (!id) throw new Error(`no ${name} endpoint in the template`);
  return id;
}

function props(resources: CfnTemplate['Resources'], id: string): Record<string, unknown> {
  const resource = resources[id];
  if (!resource?.Properties) throw new Error(`no resource ${id}`);
  return resource.Properties;
}

describe('reference VPC: our own checker passes it', () => {
  it.each([
    ['the defaults', {}],
    ['dedicated endpoint subnets (seed 004)', { endpointSubnets: true }],
    ['endpoints open to the task security group only (seed 002)', { endpointIngress: 'task-security-group' }],
    ['EC2 capacity endpoints', { ec2Capacity: true }],
    ['another CIDR', { vpcCidr: '172.20.0.0/16' }],
  ])('finds nothing to fix with %s, in every task subnet', (_, context) => {
    const template = templateJson(synthesize({ sampleService: true, ...context }).referenceVpc);
    for (const { subnet, result } of check(template)) {
      expect(notPassing(result.findings), subnet).toEqual([]);
      expect(result.status).toBe('checked');
      // Every requirement of the sample task was checked, not skipped.
      expect(result.findings.map((f) => f.endpoint)).toEqual(
        expect.arrayContaining(['ecr.api', 'ecr.dkr', 's3', 'logs', 'secretsmanager', 'ssm', 'ssmmessages']),
      );
    }
  });

  it('passes an EC2-launch task only when the ecs, ecs-agent and ecs-telemetry endpoints are there', () => {
    const asEc2Task = (template: CfnTemplate) =>
      serviceCheckInputs(template).map(({ planned: { platformVersion: _, ...planned }, facts }) =>
        checkPlannedTask({ ...planned, launchType: 'EC2' }, facts),
      );
    for (const result of asEc2Task(templateJson(synthesize({ sampleService: true, ec2Capacity: true }).referenceVpc)))
      expect(notPassing(result.findings)).toEqual([]);
    for (const result of asEc2Task(sample))
      expect(result.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual([
        'endpoint:ecs-agent',
        'endpoint:ecs-telemetry',
        'endpoint:ecs',
      ]);
  });
});

describe('reference VPC: each deliberate breakage fails the matching check', () => {
  it.each(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'ssm'])(
    'fails endpoint:%s when that endpoint is removed',
    (name) => {
      const template = broken((resources) => {
        delete resources[endpointLogicalId(sample, name)];
      });
      for (const { result } of check(template)) {
        const failing = result.findings.filter((f) => f.status === 'fail');
        expect(failing.map((f) => f.id)).toEqual([`endpoint:${name}`]);
      }
    },
  );

  it('warns (does not fail) about a missing ssmmessages endpoint: the task starts, only ECS Exec breaks', () => {
    const template = broken((resources) => {
      delete resources[endpointLogicalId(sample, 'ssmmessages')];
    });
    for (const { result } of check(template)) {
      expect(result.findings.filter((f) => f.status === 'fail')).toEqual([]);
      expect(result.findings.find((f) => f.id === 'endpoint:ssmmessages')?.status).toBe('warn');
    }
  });

  it.each(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'ssm'])(
    'fails private-dns:%s when private DNS is turned off on that endpoint',
    (name) => {
      const template = broken((resources) => {
        props(resources, endpointLogicalId(sample, name)).PrivateDnsEnabled = false;
      });
      for (const { result } of check(template))
        expect(result.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual([`private-dns:${name}`]);
    },
  );

  it('fails s3-gateway in exactly the subnet whose route table is detached from the s3 gateway endpoint', () => {
    const s3 = endpointLogicalId(sample, 's3');
    const template = broken((resources) => {
      const tables = props(resources, s3).RouteTableIds as unknown[];
      tables.shift();
    });
    const results = check(template);
    const failing = results.map(({ result }) => result.findings.filter((f) => f.status === 'fail').map((f) => f.id));
    expect(failing).toEqual([['s3-gateway'], []]);
  });

  it('fails s3-endpoint-policy when the gateway policy no longer allows the ECR layer bucket', () => {
    const s3 = endpointLogicalId(sample, 's3');
    const template = broken((resources) => {
      props(resources, s3).PolicyDocument = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-bucket/*' }],
      };
    });
    for (const { result } of check(template))
      expect(result.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(['s3-endpoint-policy']);
  });

  it('fails vpc-dns-hostnames when the VPC stops giving DNS hostnames', () => {
    const [vpc] = logicalIds(sample, 'AWS::EC2::VPC');
    const template = broken((resources) => {
      props(resources, vpc as string).EnableDnsHostnames = false;
    });
    for (const { result } of check(template))
      expect(result.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toContain('vpc-dns-hostnames');
  });

  it('fails every endpoint security group check when the endpoints stop accepting HTTPS from the VPC', () => {
    const [group] = logicalIds(sample, 'AWS::EC2::SecurityGroup', (p) =>
      String(p.GroupDescription).startsWith('VPC interface endpoints'),
    );
    const template = broken((resources) => {
      props(resources, group as string).SecurityGroupIngress = [];
    });
    for (const { result } of check(template)) {
      const failing = result.findings.filter((f) => f.status === 'fail').map((f) => f.id);
      expect(failing).toEqual(
        expect.arrayContaining(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'ssm'].map((n) => `endpoint-sg:${n}`)),
      );
      expect(failing.every((id) => id.startsWith('endpoint-sg:'))).toBe(true);
    }
  });

  it('fails the task egress checks when the task security group loses its HTTPS egress', () => {
    const [group] = logicalIds(sample, 'AWS::EC2::SecurityGroup', (p) =>
      String(p.GroupDescription).startsWith('ECS tasks'),
    );
    const template = broken((resources) => {
      props(resources, group as string).SecurityGroupEgress = [
        { CidrIp: '255.255.255.255/32', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 },
      ];
    });
    for (const { result } of check(template))
      expect(result.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(
        expect.arrayContaining(['task-egress:endpoints', 'task-egress:s3']),
      );
  });
});
