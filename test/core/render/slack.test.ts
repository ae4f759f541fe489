import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../functions/catalog/catalog';
import type { AlertContext } from '../../../functions/core/alert';
import { type Diagnosis, diagnose, type Finding } from '../../../functions/core/diagnosis';
import { diagnoseWithFacts } from '../../../functions/core/network/diagnose-with-facts';
import { parseNetworkFacts } from '../../../functions/core/network/facts-schema';
import {
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_CONTEXT_ELEMENTS,
  MAX_FALLBACK_TEXT,
  MAX_FIELD_TEXT,
  MAX_FIELDS,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  renderSlackMessage,
} from '../../../functions/core/render/slack';
import type { SlackBlock, SlackMessage, SlackText } from '../../../functions/core/render/slack-message';
import { readTaskInputs } from '../../../functions/core/stopped-task';
import { CAUSES, FINDING_STATUSES, SEVERITIES } from '../../../functions/core/taxonomy';
import { demoEvent, type EventFixture, fixture } from '../../helpers/fixtures';

const catalog = loadCatalog();

/** The diagnosis of a demo event, with a facts snapshot when the event is about the network. */
function diagnosisOf(event: string | EventFixture, facts?: string): Diagnosis {
  const [input] = readTaskInputs(typeof event === 'string' ? demoEvent(event) : event);
  if (input?.kind !== 'task') throw new Error('not a stopped task');
  if (!facts) return diagnose(input.task, catalog);
  return diagnoseWithFacts(input.task, catalog, parseNetworkFacts(fixture(`facts/${facts}.json`), facts));
}

/** Event 14 with a reason no pattern knows, so the cause is `unknown`. */
function unknownEvent(): EventFixture {
  const event = demoEvent('14-user-stopped.json');
  event.detail.stopCode = 'TaskFailedToStart';
  event.detail.stoppedReason = 'FrobnicatorError: the flux capacitor refused the task';
  return event;
}

const NETWORK_WITH_FIXES = diagnosisOf('04-seed002-logs-unreachable.json', 'seed002-endpoint-sg-no-443-from-task');
const OOM = diagnosisOf('09-oom-killed.json');
const EXPECTED = diagnosisOf('14-user-stopped.json');
const BRIDGE = diagnosisOf('19-ec2-bridge-ecr-pull-timeout.json', 'ec2-bridge-instance-sg-no-egress-443');

/** A failing finding with every kind of fix, for cloning. */
const FAILING: Finding = {
  id: 'endpoint:logs',
  status: 'fail',
  endpoint: 'logs',
  message: 'no logs endpoint in vpc-1',
  evidence: ['vpc-1 has no com.amazonaws.ap-northeast-1.logs endpoint'],
  fix: {
    summary: 'Create the logs endpoint',
    cli: 'aws ec2 create-vpc-endpoint',
    terraform: 'resource {}',
    cdk: 'new X()',
  },
};

function withFindings(findings: readonly Finding[], base: Diagnosis = NETWORK_WITH_FIXES): Diagnosis {
  return { ...base, findings };
}

function texts(message: SlackMessage): SlackText[] {
  return message.blocks.flatMap((block): SlackText[] => {
    if (block.type === 'header') return [block.text];
    if (block.type === 'section') return [...(block.text ? [block.text] : []), ...(block.fields ?? [])];
    if (block.type === 'context') return [...block.elements];
    return [];
  });
}

function allText(message: SlackMessage): string {
  return texts(message)
    .map((t) => t.text)
    .join('\n');
}

function sections(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
}

function fields(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) => (b.type === 'section' ? (b.fields ?? []).map((f) => f.text) : []));
}

function header(message: SlackMessage): string {
  const block = message.blocks[0];
  if (block?.type !== 'header') throw new Error('the first block is not a header');
  return block.text.text;
}

function contexts(message: SlackMessage): string[][] {
  return message.blocks.flatMap((b) => (b.type === 'context' ? [b.elements.map((e) => e.text)] : []));
}

/** `<url|label>` tokens: the only place a raw `<` or `>` may appear. */
const LINK = /<(https?:\/\/[^\s<>|]+)\|[^<>]*>/g;
const CONSOLE_URL = /^https:\/\/[^/]+\.console\.aws\.amazon\.com\/ecs\/v2\//;

/** Asserts every Slack limit and every escaping rule on one rendered message. */
function expectSafe(message: SlackMessage, diagnosis: Diagnosis): void {
  const { blocks } = message;
  expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  expect(header(message).length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
  expect(message.text.length).toBeLessThanOrEqual(MAX_FALLBACK_TEXT);
  expect(message.text).not.toContain('\n');
  for (const block of blocks as SlackBlock[]) {
    if (block.type === 'section') {
      expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(MAX_SECTION_TEXT);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(MAX_FIELDS);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(MAX_FIELD_TEXT);
    }
    if (block.type === 'context') {
      expect(block.elements.length).toBeGreaterThan(0);
      expect(block.elements.length).toBeLessThanOrEqual(MAX_CONTEXT_ELEMENTS);
    }
  }
  const all = texts(message);
  expect(all.reduce((n, t) => n + t.text.length, 0)).toBeLessThanOrEqual(MAX_TOTAL_BLOCK_TEXT);
  const allowedDocUrls = new Set(diagnosis.docs.map(escapeMrkdwn));
  const fallback: SlackText = { type: 'plain_text', text: message.text };
  for (const t of [...all, fallback]) {
    if (t.type === 'mrkdwn') expect(t.verbatim).toBe(true);
    const withoutLinks = t.text.replace(LINK, (_, url: string) => {
      expect(CONSOLE_URL.test(url) || allowedDocUrls.has(url), `link to ${url}`).toBe(true);
      return '';
    });
    expect(withoutLinks).not.toMatch(/[<>]/);
    expect(t.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(t.text.split('```').length % 2, `unclosed code fence in ${t.text.slice(0, 200)}`).toBe(1);
  }
  expect(JSON.parse(JSON.stringify(message))).toEqual(message);
}

describe('escapeMrkdwn', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<!channel>', '&lt;!channel&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<https://evil|click>', '&lt;https://evil|click&gt;'],
    ['&lt; stays literal', '&amp;lt; stays literal'],
    ['no control characters: *_~`', 'no control characters: *_~`'],
    ['', ''],
  ])('escapes %j as %j', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it('escapes & first so that the entities it adds are not escaped again', () => {
    expect(escapeMrkdwn('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('is undone exactly by decoding the three entities, for any string', () => {
    const decode = (s: string) => s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const escaped = escapeMrkdwn(s);
        expect(escaped).not.toMatch(/[<>]|&(?!amp;|lt;|gt;)/);
        expect(decode(escaped)).toBe(s);
      }),
    );
  });
});

describe('renderSlackMessage', () => {
  describe('payload snapshots', () => {
    it.each<[string, () => Diagnosis, AlertContext | undefined]>([
      ['a network failure with fixes (event 04, endpoint SG without 443)', () => NETWORK_WITH_FIXES, undefined],
      [
        'a private-DNS failure (event 01)',
        () => diagnosisOf('01-seed000-secretsmanager-private-dns-off.json', 'seed000-secretsmanager-private-dns-off'),
        undefined,
      ],
      [
        'the bridge-mode event 19 with suppressed repeats',
        () => BRIDGE,
        {
          incidentKey: 'web-ec2/web-ec2/image-pull-unreachable',
          suppressed: { count: 4, since: '2026-03-14T01:02:03Z' },
        },
      ],
      ['an application OOM kill (event 09)', () => OOM, undefined],
      ['an unknown reason', () => diagnosisOf(unknownEvent()), undefined],
      ['an expected stop (event 14)', () => EXPECTED, undefined],
    ])('renders %s', (_, diagnosis, context) => {
      const message = renderSlackMessage(diagnosis(), context);
      expectSafe(message, diagnosis());
      expect(message).toMatchSnapshot();
    });
  });

  describe('header and fallback text', () => {
    it('names the severity, cause, service and title', () => {
      expect(header(renderSlackMessage(BRIDGE))).toBe(
        '🔴 network · web-ec2: Task could not reach the image registry (Amazon ECR) to pull its image',
      );
    });

    it('falls back to the task group when the task has no service', () => {
      expect(header(renderSlackMessage(EXPECTED))).toBe(
        '🔵 expected · family:api-maintenance: Task stopped by a StopTask call',
      );
    });

    it('cuts a long title to 150 characters with an ellipsis', () => {
      const text = header(renderSlackMessage({ ...OOM, title: 'x'.repeat(500) }));
      expect(text).toHaveLength(MAX_HEADER_TEXT);
      expect(text.endsWith('x…')).toBe(true);
    });

    it('gives a one-line escaped summary with the cluster when it differs from the service', () => {
      const message = renderSlackMessage({ ...OOM, title: 'Killed\n<!here> & gone' });
      expect(message.text).toBe('🔴 application · api (cluster prod-api): Killed &lt;!here&gt; &amp; gone');
    });
  });

  describe('console links', () => {
    it('links cluster, service, task and task definition in the event region', () => {
      expect(fields(renderSlackMessage(BRIDGE))).toEqual([
        '*Cluster*\n<https://ap-northeast-1.console.aws.amazon.com/ecs/v2/clusters/web-ec2/services?region=ap-northeast-1|web-ec2>',
        '*Service*\n<https://ap-northeast-1.console.aws.amazon.com/ecs/v2/clusters/web-ec2/services/web-ec2/health?region=ap-northeast-1|web-ec2>',
        '*Task*\n<https://ap-northeast-1.console.aws.amazon.com/ecs/v2/clusters/web-ec2/tasks/5c0e2a9b7d4f41e6a3b8c1d0e9f7a264/configuration?region=ap-northeast-1|5c0e2a9b7d4f41e6a3b8c1d0e9f7a264>',
        '*Task definition*\n<https://ap-northeast-1.console.aws.amazon.com/ecs/v2/task-definitions/web-ec2/7/containers?region=ap-northeast-1|web-ec2:7>',
      ]);
    });

    it('encodes special characters in the region and the names, and escapes the labels', () => {
      const message = renderSlackMessage({
        ...BRIDGE,
        region: 'eu west/1?',
        cluster: 'a|b&c<d>#/e',
        service: 'svc 1',
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/x/id?&',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/fam%ily:12',
      });
      const base = 'https://eu%20west%2F1%3F.console.aws.amazon.com/ecs/v2';
      const query = '?region=eu%20west%2F1%3F';
      expect(fields(message)).toEqual([
        `*Cluster*\n<${base}/clusters/a%7Cb%26c%3Cd%3E%23%2Fe/services${query}|a|b&amp;c&lt;d&gt;#/e>`,
        `*Service*\n<${base}/clusters/a%7Cb%26c%3Cd%3E%23%2Fe/services/svc%201/health${query}|svc 1>`,
        `*Task*\n<${base}/clusters/a%7Cb%26c%3Cd%3E%23%2Fe/tasks/id%3F%26/configuration${query}|id?&amp;>`,
        `*Task definition*\n<${base}/task-definitions/fam%25ily/12/containers${query}|fam%ily:12>`,
      ]);
      expectSafe(message, BRIDGE);
    });

    it('shows plain escaped values without links when the region is missing', () => {
      const message = renderSlackMessage({ ...BRIDGE, region: null, cluster: 'web<1>' });
      expect(fields(message)).toEqual([
        '*Cluster*\nweb&lt;1&gt;',
        '*Service*\nweb-ec2',
        '*Task*\n5c0e2a9b7d4f41e6a3b8c1d0e9f7a264',
        '*Task definition*\nweb-ec2:7',
      ]);
    });

    it('keeps the task-definition link but drops cluster-scoped links when the cluster is missing', () => {
      const [clusterField, serviceField, taskField, taskDefinitionField] = fields(
        renderSlackMessage({ ...BRIDGE, cluster: null }),
      );
      expect([clusterField, serviceField, taskField]).toEqual([
        '*Cluster*\n—',
        '*Service*\nweb-ec2',
        '*Task*\n5c0e2a9b7d4f41e6a3b8c1d0e9f7a264',
      ]);
      expect(taskDefinitionField).toMatch(/^\*Task definition\*\n<https:\/\/ap-northeast-1\.console/);
    });

    it('labels a standalone task with its task group, unlinked', () => {
      expect(fields(renderSlackMessage(EXPECTED))[1]).toBe('*Task group*\nfamily:api-maintenance');
    });
  });

  describe('findings', () => {
    it('shows failing findings with evidence and fix code in the diagnosis order, and never pass findings', () => {
      const message = renderSlackMessage(BRIDGE);
      const body = allText(message);
      expect(BRIDGE.findings.some((f) => f.status === 'pass')).toBe(true);
      for (const finding of BRIDGE.findings.filter((f) => f.status === 'pass')) {
        expect(body).not.toContain(escapeMrkdwn(finding.message));
      }
      const failing = sections(message).filter((s) => s.startsWith('❌'));
      expect(failing.map((s) => s.split('\n')[0])).toEqual([
        '❌ *FAIL* · task-egress:s3',
        '❌ *FAIL* · task-egress:endpoints',
      ]);
      expect(failing[0]).toContain('• sg-09e2b7c4d1a3f5e68 egress: tcp 80-80 → 0.0.0.0/0');
      expect(failing[0]).toContain('*Fix:* Allow outbound TCP 443 on sg-09e2b7c4d1a3f5e68 to pl-61a54008');
      expect(body).toContain('*CLI*\n```\naws ec2 authorize-security-group-egress');
      expect(body).toContain('*Terraform*\n```\nresource "aws_vpc_security_group_egress_rule"');
      expect(body).toContain('*CDK*\n```\nec2.SecurityGroup.fromSecurityGroupId');
    });

    it('points back to the first finding when a fix repeats it', () => {
      const failing = sections(renderSlackMessage(NETWORK_WITH_FIXES)).filter((s) => s.startsWith('❌'));
      expect(failing).toHaveLength(3);
      expect(failing[1]).toContain('*Fix:* same as endpoint-sg:logs above');
      expect(sections(renderSlackMessage(NETWORK_WITH_FIXES)).filter((s) => s.startsWith('*CLI*'))).toHaveLength(1);
    });

    it('shows warning findings without fix code', () => {
      const warning: Finding = { ...FAILING, id: 'endpoint-az:logs', status: 'warn', message: 'only in 1c' };
      const message = renderSlackMessage(withFindings([warning]));
      expect(sections(message)).toContainEqual(
        '⚠️ *WARN* · endpoint-az:logs\nonly in 1c\n• vpc-1 has no com.amazonaws.ap-northeast-1.logs endpoint',
      );
      expect(allText(message)).not.toContain('*CLI*');
    });

    it('summarises undecided checks in one line', () => {
      const unknown = (id: string): Finding => ({
        ...FAILING,
        id,
        status: 'unknown',
        message: `${id} unreadable`,
        fix: null,
      });
      const message = renderSlackMessage(withFindings([unknown('nacl:s3'), FAILING, unknown('dhcp-dns')]));
      expect(sections(message)).toContainEqual(
        '❔ 2 checks could not be decided: nacl:s3 (nacl:s3 unreadable); dhcp-dns (dhcp-dns unreadable)',
      );
    });

    it('lists the remediation steps when no failing finding has a fix', () => {
      const remediation = sections(renderSlackMessage(OOM)).find((s) => s.startsWith('*What to do*'));
      expect(remediation?.split('\n')).toHaveLength(1 + OOM.remediation.length);
      expect(remediation).toContain('--task-definition &lt;new-revision&gt;');
      expect(allText(renderSlackMessage(NETWORK_WITH_FIXES))).not.toContain('*What to do*');
    });
  });

  describe('stop reason', () => {
    it('quotes the stop reason and the containers in code blocks', () => {
      const reason = sections(renderSlackMessage(OOM)).find((s) => s.startsWith('*Stop reason*'));
      expect(reason).toBe(
        '*Stop reason*\n```\nEssential container in task exited\n```\n*Containers*\n```\napi (exit 137): OutOfMemoryError: Container killed due to memory usage\nlog-router (exit 0)\n```',
      );
    });

    it('uses the first container reason when the task has no stopped reason', () => {
      const reason = sections(renderSlackMessage({ ...OOM, stoppedReason: null })).find((s) =>
        s.startsWith('*Stop reason*'),
      );
      expect(reason).toMatch(/^\*Stop reason\*\n```\nOutOfMemoryError: Container killed due to memory usage\n```/);
    });

    it('escapes pings and links, and replaces ``` so the reason cannot close its code block', () => {
      const message = renderSlackMessage({ ...OOM, stoppedReason: '<!channel> ```*bold*``` <https://evil|click> &' });
      const reason = sections(message).find((s) => s.startsWith('*Stop reason*'));
      expect(reason).toContain('```\n&lt;!channel&gt; ʼʼʼ*bold*ʼʼʼ &lt;https://evil|click&gt; &amp;\n```');
      expectSafe(message, OOM);
    });
  });

  describe('docs and facts', () => {
    it('links the docs by page name in a context block', () => {
      expect(contexts(renderSlackMessage(OOM))).toContainEqual([
        '📖 <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html|out-of-memory>',
        '📖 <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_memory|task_definition_parameters#container_definition_memory>',
      ]);
    });

    it('shows a doc that is not a plain https URL as escaped text', () => {
      const [docs] = contexts(renderSlackMessage({ ...OOM, docs: ['https://evil|<!channel>'] })).filter((c) =>
        c[0]?.startsWith('📖'),
      );
      expect(docs).toEqual(['📖 https://evil|&lt;!channel&gt;']);
    });

    it('ends with account-free facts: event, stop code, launch type, pattern and network check', () => {
      const facts = contexts(renderSlackMessage(NETWORK_WITH_FIXES, { incidentKey: 'k' })).at(-1);
      expect(facts).toEqual([
        'Event 890b62d1-c200-915b-3eb0-6d3c349073f1',
        'Stop code TaskFailedToStart',
        'Launch type FARGATE, platform 1.4.0',
        'Region ap-northeast-1',
        'Severity high',
        'Pattern logs-unreachable',
        'Network checked: checked 4 requirement(s) of subnet subnet-07b5d13883607188a',
        'Incident k',
      ]);
      expect([...(facts ?? []), ...fields(renderSlackMessage(NETWORK_WITH_FIXES))].join()).not.toContain(
        '123456789012',
      );
    });

    it('says so when no pattern matched', () => {
      expect(contexts(renderSlackMessage(diagnosisOf(unknownEvent()))).at(-1)).toContain('No pattern matched');
    });
  });

  describe('suppressed repeats', () => {
    it.each([
      [3, 'Also stopped 3 more times since 2026-03-14T01:02:03Z (suppressed)'],
      [1, 'Also stopped 1 more time since 2026-03-14T01:02:03Z (suppressed)'],
    ])('says how many stops were suppressed (%i)', (count, line) => {
      const message = renderSlackMessage(OOM, { suppressed: { count, since: '2026-03-14T01:02:03Z' } });
      expect(message.blocks[1]).toEqual({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `🔁 ${line}`, verbatim: true }],
      });
    });

    it('adds no suppressed line without a suppressed summary', () => {
      expect(allText(renderSlackMessage(OOM, { incidentKey: 'k' }))).not.toContain('suppressed');
    });
  });

  describe('truncation', () => {
    it('cuts a huge stop reason inside its code block and still closes the block', () => {
      const message = renderSlackMessage({ ...OOM, stoppedReason: `${'x'.repeat(100_000)}<!channel>` });
      const reason = sections(message).find((s) => s.startsWith('*Stop reason*')) ?? '';
      expect(reason).toMatch(/x… \(truncated\)\n```\n\*Containers\*/);
      expectSafe(message, OOM);
    });

    it('never cuts an entity in half', () => {
      const message = renderSlackMessage({ ...BRIDGE, cluster: '&'.repeat(1000) });
      const [cluster] = fields(message);
      // 200 characters would end inside the 40th `&amp;`: the cut backs off to the 39th.
      expect(cluster).toBe(`*Cluster*\n${'&amp;'.repeat(39)}…`);
      expectSafe(message, BRIDGE);
    });

    it('shows as many findings as fit and says how many more there are', () => {
      const many = Array.from({ length: 200 }, (_, i) => ({ ...FAILING, id: `rule-${i}`, cli: `aws ${i}` }));
      const message = renderSlackMessage(withFindings(many));
      const shown = sections(message).filter((s) => s.startsWith('❌')).length;
      expect(shown).toBeGreaterThan(5);
      expect(shown).toBeLessThan(200);
      const note = contexts(message).find((c) => c[0]?.startsWith('✂️'));
      expect(note?.[0]).toContain(`…and ${200 - shown} more findings`);
      expectSafe(message, NETWORK_WITH_FIXES);
    });

    /** A failing finding whose fix has long Terraform and CDK snippets. */
    const bigFix = (i: number, repeat: number): Finding => ({
      ...FAILING,
      id: `rule-${i}`,
      fix: {
        summary: `fix ${i}`,
        cli: `cli ${i}`,
        terraform: `tf ${i} `.repeat(repeat),
        cdk: `cdk ${i} `.repeat(repeat),
      },
    });
    const omissionNote = (message: SlackMessage) => contexts(message).find((c) => c[0]?.startsWith('✂️'))?.[0];

    it('keeps every failing finding and its CLI, and gives up Terraform/CDK of later findings first', () => {
      const message = renderSlackMessage(withFindings([1, 2, 3, 4, 5, 6].map((i) => bigFix(i, 140))));
      const body = allText(message);
      for (let i = 1; i <= 6; i++) expect(body).toContain(`❌ *FAIL* · rule-${i}\n`);
      for (let i = 1; i <= 6; i++) expect(body).toContain(`\ncli ${i}\n`);
      expect(body).toContain('tf 1 ');
      expect(body).not.toContain('cdk 6 ');
      expect(omissionNote(message)).toMatch(/not shown: \d+ fix snippets? \(CLI\/Terraform\/CDK\)/);
      expectSafe(message, NETWORK_WITH_FIXES);
    });

    it('gives up doc links before any Terraform/CDK snippet', () => {
      const docs = Array.from({ length: 10 }, (_, i) => `https://docs.aws.amazon.com/${'a'.repeat(900)}/${i}.html`);
      const d = { ...withFindings([1, 2, 3, 4].map((i) => bigFix(i, 160))), docs };
      const message = renderSlackMessage(d);
      const body = allText(message);
      for (let i = 1; i <= 4; i++) expect(body).toContain(`cdk ${i} `);
      expect(omissionNote(message)).toMatch(/not shown: \d+ doc links\.$/);
      expectSafe(message, d);
    });

    it('adds no omission note when everything fits', () => {
      expect(allText(renderSlackMessage(NETWORK_WITH_FIXES))).not.toContain('✂️');
    });
  });

  describe('hostile and huge input (property)', () => {
    const HOSTILE = [
      '<!channel>',
      '<@U1>',
      '<https://evil|click>',
      '&',
      '&amp;',
      '```',
      '``',
      '|',
      '\n',
      '*_~',
      '\uD83D',
    ];
    /** 100,000 characters: each hostile piece repeated, and all of them mixed. */
    const HUGE = [...HOSTILE, HOSTILE.join('x')].map((piece) => piece.repeat(Math.ceil(100_000 / piece.length)));
    const text = fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      {
        weight: 5,
        arbitrary: fc
          .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 12 })
          .map((parts) => parts.join('')),
      },
      { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
    );
    const nullable = fc.option(text, { nil: null });
    const url = fc.oneof(
      text,
      text.map((s) => `https://docs.aws.amazon.com/${s}`),
      fc.webUrl(),
    );
    const finding: fc.Arbitrary<Finding> = fc.record({
      id: text,
      status: fc.constantFrom(...FINDING_STATUSES),
      message: text,
      evidence: fc.array(text, { maxLength: 8 }),
      fix: fc.option(
        fc.record({ summary: text, cli: text, terraform: text, cdk: text }, { requiredKeys: ['summary'] }),
        { nil: null },
      ),
    });
    const findings = fc.oneof(
      fc.array(finding, { maxLength: 10 }),
      fc.integer({ min: 0, max: 200 }).chain((n) => fc.array(finding, { minLength: n, maxLength: n })),
    );
    const diagnosis: fc.Arbitrary<Diagnosis> = fc
      .record({
        title: text,
        explanation: text,
        cause: fc.constantFrom(...CAUSES),
        severity: fc.constantFrom(...SEVERITIES),
        patternId: nullable,
        stoppedReason: nullable,
        stopCode: nullable,
        region: nullable,
        cluster: nullable,
        service: nullable,
        group: nullable,
        taskArn: nullable,
        taskDefinitionArn: nullable,
        launchType: nullable,
        platformVersion: nullable,
        eventId: nullable,
        networkReason: text,
        remediation: fc.array(text, { maxLength: 12 }),
        docs: fc.array(url, { maxLength: 14 }),
        findings,
        containers: fc.array(
          fc.record({
            name: text,
            image: nullable,
            exitCode: fc.option(fc.integer(), { nil: null }),
            reason: nullable,
          }),
          { maxLength: 12 },
        ),
      })
      .map(({ networkReason, ...fields }) => ({
        ...BRIDGE,
        ...fields,
        network: { status: 'partial' as const, reason: networkReason },
      }));
    const context: fc.Arbitrary<AlertContext> = fc.record(
      {
        incidentKey: text,
        suppressed: fc.record({ count: fc.integer({ min: 0, max: 1_000_000 }), since: text }),
      },
      { requiredKeys: [] },
    );

    it('keeps every Slack limit and escapes every untrusted text, for any diagnosis', () => {
      fc.assert(
        fc.property(diagnosis, context, (d, ctx) => {
          expectSafe(renderSlackMessage(d, ctx), d);
        }),
        { numRuns: 200 },
      );
    });
  });
});
