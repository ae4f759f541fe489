import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../functions/core/errors';
import { parseTaskStateChangeEvent, readTaskInputs, type StoppedTask } from '../../functions/core/stopped-task';
import { demoEvent, demoEventFiles, fixture } from '../helpers/fixtures';

function onlyTask(value: unknown): StoppedTask {
  const [input, ...rest] = readTaskInputs(value, 'x.json');
  expect(rest).toHaveLength(0);
  if (input?.kind !== 'task') throw new Error(`expected a task, got ${JSON.stringify(input)}`);
  return input.task;
}

describe('readTaskInputs', () => {
  it.each(demoEventFiles().filter((f) => !f.includes('running')))('reads the stopped demo event %s', (name) => {
    const task = onlyTask(demoEvent(name));
    expect(task.taskArn).toMatch(/^arn:aws:ecs:/);
    expect(task.lastStatus).toBe('STOPPED');
    expect(task.region).toBe('ap-northeast-1');
  });

  it('keeps the fields the diagnosis needs from a Fargate event', () => {
    const task = onlyTask(demoEvent('01-seed000-secretsmanager-private-dns-off.json'));
    expect(task).toMatchObject({
      cluster: 'ecs-fargate-vpc-endpoint',
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      stopCode: 'TaskFailedToStart',
      eni: { subnetId: expect.stringMatching(/^subnet-/) },
    });
    expect(task.stoppedReason).toContain('unable to retrieve secret from asm');
    expect(task.eventId).toBeDefined();
  });

  it('derives service and family from group and task definition', () => {
    const event = demoEvent('11-elb-health-check.json');
    event.detail.group = 'service:checkout';
    event.detail.taskDefinitionArn = 'arn:aws:ecs:ap-northeast-1:123456789012:task-definition/checkout-api:42';
    expect(onlyTask(event)).toMatchObject({ service: 'checkout', family: 'checkout-api' });
  });

  it('reads describe-tasks output with epoch timestamps and ElasticNetworkInterface attachments', () => {
    const task = onlyTask(fixture('events/parser/describe-tasks-output.json'));
    expect(task).toMatchObject({
      region: 'us-east-1',
      account: '111122223333',
      cluster: 'default',
      service: 'web',
      createdAt: '2024-05-29T16:26:40.123Z',
      eni: { subnetId: 'subnet-0abcdef1234567890', privateIpv4Address: '10.0.1.23' },
    });
    expect(task.containers[0]?.reason).toContain('i/o timeout');
  });

  it('accepts a bare task and an array of events and tasks, in order', () => {
    const event = demoEvent('09-oom-killed.json');
    const inputs = readTaskInputs([event, event.detail, demoEvent('18-running-not-stopped.json')]);
    expect(inputs.map((i) => i.kind)).toEqual(['task', 'task', 'ignored']);
    expect(inputs.map((i) => i.location)).toEqual(['[0]', '[1]', '[2]']);
  });

  it('tolerates missing attachments, containers, stopCode and stoppedReason', () => {
    const event = demoEvent('10-exit-code-1.json');
    for (const key of ['attachments', 'containers', 'stopCode']) delete event.detail[key];
    const task = onlyTask(event);
    expect(task.containers).toEqual([]);
    expect(task.eni).toBeUndefined();
    expect(task.stopCode).toBeUndefined();
    delete event.detail.stoppedReason;
    expect(onlyTask(event).stoppedReason).toBeUndefined();
  });

  it('tolerates a GuardDuty sidecar with no image and a "null" cpu string, and unknown fields', () => {
    const event = demoEvent('09-oom-killed.json');
    event.detail.containers.push({ name: 'aws-guardduty-agent-nm40lC', cpu: 'null', lastStatus: 'STOPPED' });
    event.detail.someFutureField = { nested: [1, 2, 3] };
    const task = onlyTask(event);
    expect(task.containers.at(-1)).toEqual({ name: 'aws-guardduty-agent-nm40lC', lastStatus: 'STOPPED' });
  });

  it.each([
    [
      'a RUNNING task',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e.detail, { lastStatus: 'RUNNING' }),
      /lastStatus is RUNNING/,
    ],
    [
      'a Spot notice (desired STOPPED, still RUNNING)',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e.detail, { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }),
      /lastStatus is RUNNING/,
    ],
    [
      'another detail-type',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e, { 'detail-type': 'ECS Deployment State Change' }),
      /detail-type is "ECS Deployment State Change"/,
    ],
    [
      'another source',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e, { source: 'aws.ec2' }),
      /source is "aws.ec2"/,
    ],
  ])('ignores %s with a stated reason', (_name, edit, reason) => {
    const event = demoEvent('14-user-stopped.json');
    edit(event);
    const [input] = readTaskInputs(event);
    expect(input).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(reason) });
  });

  it.each([
    [
      'stoppedReason (a number)',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e.detail, { stoppedReason: 42 }),
      'detail.stoppedReason',
    ],
    [
      'containers (an object)',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e.detail, { containers: {} }),
      'detail.containers',
    ],
    [
      'a container exitCode (a string)',
      (e: ReturnType<typeof demoEvent>) => Object.assign(e.detail.containers[0] ?? {}, { exitCode: '137' }),
      'detail.containers[0].exitCode',
    ],
    ['detail (a string)', (e: ReturnType<typeof demoEvent>) => Object.assign(e, { detail: 'oops' }), 'detail'],
  ])('rejects a wrong-typed %s, naming the field and file', (_name, edit, field) => {
    const event = demoEvent('09-oom-killed.json');
    edit(event);
    const [input] = readTaskInputs(event, 'events/bad.json');
    expect(input?.kind).toBe('error');
    if (input?.kind !== 'error') return;
    expect(input.error).toBeInstanceOf(InputError);
    expect(input.error.field).toBe(field);
    expect(input.error.file).toBe('events/bad.json');
    expect(input.error.message).toContain(`events/bad.json: field ${field}:`);
  });

  it('rejects values that are neither events nor tasks', () => {
    const inputs = readTaskInputs([42, { hello: 'world' }, null], 'f.json');
    expect(inputs.map((i) => i.kind)).toEqual(['error', 'error', 'error']);
    expect(inputs[1]?.kind === 'error' && inputs[1].error.message).toMatch(
      /f\.json: field \[1\]: not an ECS Task State Change event/,
    );
  });

  it('never throws on arbitrary JSON, and reports problems only as InputError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const input of readTaskInputs(value, 'any.json')) {
          if (input.kind === 'error') expect(input.error).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON shaped like an event', () => {
    const container = fc.record(
      { name: fc.jsonValue(), image: fc.jsonValue(), reason: fc.jsonValue(), exitCode: fc.jsonValue() },
      { requiredKeys: [] },
    );
    const detail = fc.record(
      {
        lastStatus: fc.oneof(fc.constant('STOPPED'), fc.jsonValue()),
        stoppedReason: fc.oneof(fc.string(), fc.jsonValue()),
        stopCode: fc.jsonValue(),
        containers: fc.oneof(fc.array(container), fc.jsonValue()),
        attachments: fc.jsonValue(),
        createdAt: fc.oneof(fc.double(), fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const event = fc.record({
      'detail-type': fc.constant('ECS Task State Change'),
      source: fc.constant('aws.ecs'),
      detail,
    });
    fc.assert(
      fc.property(event, (value) => {
        try {
          parseTaskStateChangeEvent(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseTaskStateChangeEvent', () => {
  it('returns the task of a stopped event', () => {
    const parsed = parseTaskStateChangeEvent(demoEvent('09-oom-killed.json'));
    expect('task' in parsed && parsed.task.stopCode).toBe('EssentialContainerExited');
  });

  it('returns the ignore reason of a running event', () => {
    expect(parseTaskStateChangeEvent(demoEvent('18-running-not-stopped.json'))).toEqual({
      ignored: 'lastStatus is RUNNING; only STOPPED tasks are diagnosed',
    });
  });

  it('throws InputError for an array (the Lambda receives exactly one event)', () => {
    expect(() => parseTaskStateChangeEvent([])).toThrow(InputError);
  });
});
