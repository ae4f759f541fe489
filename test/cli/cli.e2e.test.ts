import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAUSES, FINDING_STATUSES } from '../../functions/core/taxonomy';
import { jsonLines, runCli } from '../helpers/cli';
import { DEMO_DIR, demoEvent, demoEventFiles, ROOT } from '../helpers/fixtures';

const SEED_000 =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-northeast-1:5394593...';

function expectDiagnosisContract(d: Record<string, unknown>): void {
  expect(d.taskArn === null || typeof d.taskArn === 'string').toBe(true);
  expect(typeof d.alert).toBe('boolean');
  expect(CAUSES).toContain(d.cause);
  expect(d.patternId === null || typeof d.patternId === 'string').toBe(true);
  expect(typeof d.title).toBe('string');
  expect(Array.isArray(d.endpoints)).toBe(true);
  if (d.cause !== 'network') expect(d.endpoints).toEqual([]);
  expect(Array.isArray(d.findings)).toBe(true);
  for (const finding of d.findings as Array<Record<string, unknown>>) {
    expect(FINDING_STATUSES).toContain(finding.status);
    expect(typeof finding.id).toBe('string');
  }
  const network = d.network as Record<string, unknown>;
  expect(['checked', 'partial', 'skipped']).toContain(network.status);
  expect(typeof network.reason).toBe('string');
}

describe('doctor replay', () => {
  it('prints one contract-shaped JSON line per input, in input order', () => {
    const run = runCli(['replay', '--json', DEMO_DIR]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const files = demoEventFiles();
    expect(lines.map((l) => String(l.file).split('/').pop())).toEqual(files);
    for (const line of lines.filter((l) => l.kind === 'diagnosis')) expectDiagnosisContract(line);
    const byFile = Object.fromEntries(lines.map((l) => [String(l.file).split('/').pop(), l]));
    expect(byFile['01-seed000-secretsmanager-private-dns-off.json']).toMatchObject({
      cause: 'network',
      endpoints: ['secretsmanager'],
      alert: true,
      network: { status: 'skipped' },
    });
    expect(byFile['08-dockerhub-pull-timeout.json']).toMatchObject({ cause: 'network', endpoints: ['internet'] });
    expect(byFile['05-seed003-normalize-image-reference.json']).toMatchObject({
      cause: 'task-definition',
      endpoints: [],
    });
    expect(byFile['14-user-stopped.json']).toMatchObject({ cause: 'expected', alert: false });
    expect(byFile['18-running-not-stopped.json']).toMatchObject({ kind: 'ignored', alert: false });
  });

  it('reads events from stdin with -', () => {
    const event = readFileSync(join(DEMO_DIR, '09-oom-killed.json'), 'utf8');
    const run = runCli(['replay', '--json', '-'], { input: event });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toMatchObject([
      { cause: 'application', patternId: 'out-of-memory', file: '<stdin>' },
    ]);
  });

  it('reads JSON Lines from stdin and from .jsonl files, reporting bad lines by number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
    const lines = [
      JSON.stringify(demoEvent('09-oom-killed.json')),
      '{not json',
      JSON.stringify(demoEvent('14-user-stopped.json')),
    ];
    writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const run = runCli(['replay', '--json', join(dir, 'events.jsonl')]);
    expect(run.code).toBe(1);
    expect(jsonLines(run.stdout).map((l) => l.patternId)).toEqual(['out-of-memory', 'user-initiated-stop']);
    expect(run.stderr).toContain(`${join(dir, 'events.jsonl')}:2: invalid JSON`);
    const piped = runCli(['replay', '--json', '-'], { input: [lines[0], lines[2]].join('\n') });
    expect(piped.code).toBe(0);
    expect(jsonLines(piped.stdout)).toHaveLength(2);
  });

  it('reports each bad file with its path, processes the rest and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
    writeFileSync(join(dir, 'a-good.json'), JSON.stringify(demoEvent('09-oom-killed.json')));
    writeFileSync(join(dir, 'b-broken.json'), '{"detail-type": ');
    const wrongType = demoEvent('10-exit-code-1.json');
    wrongType.detail.stoppedReason = 7;
    writeFileSync(join(dir, 'c-wrong-type.json'), JSON.stringify(wrongType));
    writeFileSync(join(dir, 'd-good.json'), JSON.stringify([demoEvent('14-user-stopped.json')]));
    writeFileSync(join(dir, 'notes.txt'), 'not an event');
    const run = runCli(['replay', '--json', dir, join(dir, 'missing.json')]);
    expect(run.code).toBe(1);
    expect(jsonLines(run.stdout).map((l) => l.patternId)).toEqual(['out-of-memory', 'user-initiated-stop']);
    expect(run.stderr).toContain(`${join(dir, 'b-broken.json')}: invalid JSON`);
    expect(run.stderr).toContain(`${join(dir, 'c-wrong-type.json')}: field detail.stoppedReason:`);
    expect(run.stderr).toContain(`${join(dir, 'missing.json')}: no such file or directory`);
    expect(run.stderr).not.toContain('notes.txt');
  });

  it('prints readable blocks without colour when not on a terminal', () => {
    const run = runCli(['replay', join(DEMO_DIR, '01-seed000-secretsmanager-private-dns-off.json')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✖ NETWORK  Task could not reach Secrets Manager to fetch its secrets  [high]');
    expect(run.stdout).toMatch(/needs\s+secretsmanager/);
    expect(run.stdout).toContain('1 stopped task(s) diagnosed: 1 would alert');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are no ANSI escapes
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('colours output when FORCE_COLOR is set', () => {
    const run = runCli(['replay', join(DEMO_DIR, '09-oom-killed.json')], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting ANSI escapes are present
    expect(run.stdout).toMatch(/\u001b\[31m/);
  });
});

describe('doctor replay --facts', () => {
  const FACTS = join(ROOT, 'test/fixtures/facts');

  it('prints, for each broken demo snapshot, a fail finding naming the gap with the snapshot IDs in the fix', () => {
    const run = runCli(['replay', '--json', DEMO_DIR, '--facts', join(FACTS, 'demo')]);
    expect(run.code).toBe(0);
    const byFile = Object.fromEntries(jsonLines(run.stdout).map((l) => [String(l.file).split('/').pop(), l]));
    const expectations: Array<[string, string, RegExp]> = [
      [
        '01-seed000-secretsmanager-private-dns-off.json',
        'secretsmanager',
        /--vpc-endpoint-id vpce-\w+ --private-dns-enabled/,
      ],
      [
        '02-seed000-pv13-ecr-dkr-timeout.json',
        'ecr.dkr',
        /create-vpc-endpoint .*--vpc-id vpc-\w+ .*com\.amazonaws\.ap-northeast-1\.ecr\.dkr/,
      ],
      ['04-seed002-logs-unreachable.json', 'logs', /authorize-security-group-ingress .*--group-id sg-\w+/],
      ['07-seed004-ssm-parameter-network-2024.json', 'ssm', /create-vpc-endpoint .*ssm/],
      ['08-dockerhub-pull-timeout.json', 'internet', /update-service .*assignPublicIp=ENABLED/],
      // Bridge mode: the container instance's group is the one to open.
      [
        '19-ec2-bridge-ecr-pull-timeout.json',
        's3',
        /authorize-security-group-egress .*--group-id sg-09e2b7c4d1a3f5e68 /,
      ],
    ];
    for (const [file, endpoint, cli] of expectations) {
      const d = byFile[file] as { network: { status: string }; findings: Array<Record<string, unknown>> };
      expect(d.network.status, file).toBe('checked');
      const failure = d.findings.find((f) => f.status === 'fail' && f.endpoint === endpoint);
      expect(failure, `${file} fails on ${endpoint}`).toBeDefined();
      expect(String(failure?.message)).toContain({ internet: 'public IP', s3: 'Amazon S3' }[endpoint] ?? endpoint);
      expect((failure?.fix as { cli?: string } | undefined)?.cli).toMatch(cli);
    }
    expect(byFile['09-oom-killed.json']).toMatchObject({ network: { status: 'skipped' } });
  });

  it('uses one snapshot file for every event', () => {
    const run = runCli([
      'replay',
      '--json',
      '--facts',
      join(FACTS, 'seed000-good.json'),
      join(DEMO_DIR, '01-seed000-secretsmanager-private-dns-off.json'),
    ]);
    expect(jsonLines(run.stdout)[0]).toMatchObject({ network: { status: 'checked' } });
  });

  it('exits 2 when the --facts path does not exist', () => {
    const run = runCli(['replay', '--facts', join(FACTS, 'nope.json'), DEMO_DIR]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope.json: no such file or directory');
  });

  it('reports a malformed snapshot once with its path and field, diagnoses the events anyway, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facts-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ version: 2 }));
    const event = join(DEMO_DIR, '01-seed000-secretsmanager-private-dns-off.json');
    const run = runCli(['replay', '--json', '--facts', join(dir, 'bad.json'), event, event]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(dir, 'bad.json')}: field version:`);
    expect(run.stderr.split(`${join(dir, 'bad.json')}: field version:`)).toHaveLength(2);
    expect(jsonLines(run.stdout)).toHaveLength(2);
  });
});

describe('doctor explain', () => {
  it('classifies the seed 000 message as network needing secretsmanager', () => {
    const run = runCli(['explain', '--json', SEED_000]);
    expect(run.code).toBe(0);
    const [d] = jsonLines(run.stdout);
    expect(d).toMatchObject({ cause: 'network', patternId: 'secrets-manager-unreachable' });
    expect(d?.endpoints).toContain('secretsmanager');
    expectDiagnosisContract(d ?? {});
  });

  it('takes a stop code and an exit code', () => {
    const run = runCli([
      'explain',
      '--json',
      '--stop-code',
      'EssentialContainerExited',
      '--exit-code',
      '1',
      'Essential container in task exited',
    ]);
    expect(jsonLines(run.stdout)[0]).toMatchObject({
      patternId: 'exit-code-1',
      containers: [{ exitCode: 1 }],
    });
  });
});

describe('doctor patterns', () => {
  it('lists the catalog in precedence order', () => {
    const run = runCli(['patterns', 'list', '--json']);
    expect(run.code).toBe(0);
    const priorities = jsonLines(run.stdout).map((p) => Number(p.priority));
    expect(priorities.length).toBeGreaterThan(10);
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
  });

  it('passes its own examples', () => {
    const run = runCli(['patterns', 'test']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\d+ patterns, (\d+) examples: \1 passed, 0 failed/);
  });

  it('fails, naming the file, when a user pattern breaks an example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patterns-'));
    writeFileSync(
      join(dir, 'greedy.yaml'),
      [
        'id: greedy',
        'title: Claims every OOM',
        'cause: platform',
        'severity: low',
        'priority: 99',
        'match: { reason: ["memory"] }',
        'explanation: A pattern that steals examples from out-of-memory.',
        'docs: [https://example.com/x]',
        'remediation: [do something]',
        'examples: [{ reason: "memory", source: test }]',
      ].join('\n'),
    );
    const run = runCli(['patterns', 'test', '--patterns', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAIL patterns/out-of-memory.yaml examples[0]: expected out-of-memory, got greedy');
  });

  it('exits 2 naming file and field for an invalid user pattern', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patterns-'));
    writeFileSync(join(dir, 'bad.yaml'), 'id: bad\ntitle: Bad one\ncause: oops\n');
    const run = runCli(['patterns', 'list', '--patterns', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(dir, 'bad.yaml')}: field cause:`);
  });
});

describe('usage', () => {
  it.each([
    [['--help']],
    [['replay', '--help']],
    [['explain', '--help']],
    [['patterns', '--help']],
    [['patterns', 'list', '--help']],
    [['patterns', 'test', '--help']],
  ])('%j prints help and exits 0', (args) => {
    const run = runCli(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage:');
  });

  it.each([[['frobnicate']], [['replay']], [['replay', '--nope', 'x']], [['explain', '--exit-code', 'abc', 'text']]])(
    '%j is a usage error (exit 2)',
    (args) => {
      const run = runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/error/);
    },
  );
});
