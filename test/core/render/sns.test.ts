import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../functions/catalog/catalog';
import { type Diagnosis, diagnose } from '../../../functions/core/diagnosis';
import { diagnoseWithFacts } from '../../../functions/core/network/diagnose-with-facts';
import { parseNetworkFacts } from '../../../functions/core/network/facts-schema';
import {
  CHATBOT_LIMITS,
  renderSnsMessage,
  SNS_BODY_MAX_BYTES,
  SNS_SUBJECT_MAX,
  snsSubject,
} from '../../../functions/core/render/sns';
import { demoTask, fixture } from '../../helpers/fixtures';

const catalog = loadCatalog();

const bridge = diagnoseWithFacts(
  demoTask('19-ec2-bridge-ecr-pull-timeout.json'),
  catalog,
  parseNetworkFacts(fixture('facts/ec2-bridge-instance-sg-no-egress-443.json')),
);
const oom = diagnose(demoTask('09-oom-killed.json'), catalog);

describe('renderSnsMessage as text', () => {
  it('says what stopped, why, what is wrong and how to fix it, with filterable attributes', () => {
    const { subject, message, attributes } = renderSnsMessage(bridge, { incidentKey: 'k' }, 'text');
    expect(subject).toBe(
      'ECS network: web-ec2: Task could not reach the image registry (Amazon ECR) to pull its image',
    );
    expect(message).toContain('Cause: network (high) · pattern image-pull-unreachable');
    expect(message).toContain('Cluster: web-ec2');
    expect(message).toContain('Task definition: web-ec2:7');
    expect(message).toContain(
      "FAIL [s3] container instance i-05d1e8a7c3b2f4960's security group sg-09e2b7c4d1a3f5e68 does not allow outbound TCP 443 to Amazon S3",
    );
    expect(message).toContain(
      '$ aws ec2 authorize-security-group-egress --region ap-northeast-1 --group-id sg-09e2b7c4d1a3f5e68',
    );
    expect(message).toContain('Stopped reason:\n  CannotPullContainerError: Error response from daemon');
    expect(attributes).toEqual({
      cause: 'network',
      severity: 'high',
      cluster: 'web-ec2',
      service: 'web-ec2',
      patternId: 'image-pull-unreachable',
    });
  });

  it('says how many repeats the alert stands for', () => {
    const { message } = renderSnsMessage(oom, { suppressed: { count: 7, since: '2026-03-21T02:13:41.000Z' } }, 'text');
    expect(message).toContain('Repeats: stopped 7 more time(s) since 2026-03-21T02:13:41.000Z');
  });

  it('leaves out attributes it has no value for (SNS refuses empty ones)', () => {
    const standalone: Diagnosis = { ...oom, service: null, patternId: null };
    expect(Object.keys(renderSnsMessage(standalone, {}, 'text').attributes)).toEqual(['cause', 'severity', 'cluster']);
  });
});

describe('snsSubject', () => {
  it('keeps to printable ASCII on one line, under 100 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 300 }), (service, title) => {
        const subject = snsSubject({ ...oom, service, title });
        expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
        expect(subject).toMatch(/^[\x20-\x7e]*$/);
        expect(subject).toMatch(/^ECS /);
      }),
      { numRuns: 300 },
    );
  });

  it('transliterates accents rather than dropping the word', () => {
    expect(snsSubject({ ...oom, service: 'café-api' })).toContain('cafe-api');
  });
});

describe('renderSnsMessage as an Amazon Q Developer custom notification', () => {
  it('is version 1.0 custom JSON, threaded by incident, with the fix as next steps', () => {
    const notification = JSON.parse(
      renderSnsMessage(bridge, { incidentKey: 'web-ec2/service:web-ec2/x' }, 'chatbot').message,
    );
    expect(notification).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        keywords: ['network', 'high', 'web-ec2', 'web-ec2', 'image-pull-unreachable'],
      },
      metadata: { threadId: 'web-ec2/service:web-ec2/x', additionalContext: { cause: 'network', cluster: 'web-ec2' } },
    });
    expect(notification.content.title).toContain('network · web-ec2');
    expect(notification.content.nextSteps[0]).toContain('authorize-security-group-egress');
    expect(notification.content.description).toContain('```CannotPullContainerError');
  });

  it('escapes what could ping a channel or forge a link, and keeps every documented limit', () => {
    const hostile = fc
      .string({ unit: 'binary', maxLength: 20_000 })
      .map((s) => `<!channel> <@U1> & <https://evil|x> \`\`\` ${s}`);
    fc.assert(
      fc.property(hostile, hostile, hostile, (reason, service, message) => {
        const d: Diagnosis = {
          ...bridge,
          stoppedReason: reason,
          service,
          findings: bridge.findings.map((f) => ({ ...f, message, fix: f.fix && { ...f.fix, summary: message } })),
        };
        const raw = renderSnsMessage(d, { incidentKey: service }, 'chatbot').message;
        const n = JSON.parse(raw);
        const texts: string[] = [n.content.title, n.content.description, ...n.content.nextSteps, ...n.content.keywords];
        for (const text of texts) {
          expect(text).not.toMatch(/[<>]/);
          expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
          expect((text.match(/```/g) ?? []).length % 2).toBe(0);
        }
        expect(n.content.title.length).toBeLessThanOrEqual(CHATBOT_LIMITS.title);
        expect(n.content.description.length).toBeLessThanOrEqual(CHATBOT_LIMITS.description);
        expect(n.content.nextSteps.length).toBeLessThanOrEqual(CHATBOT_LIMITS.nextSteps);
        for (const step of n.content.nextSteps) expect(step.length).toBeLessThanOrEqual(CHATBOT_LIMITS.nextStep);
        for (const keyword of n.content.keywords) expect(keyword.length).toBeLessThanOrEqual(CHATBOT_LIMITS.keyword);
        expect(new TextEncoder().encode(raw).length).toBeLessThan(SNS_BODY_MAX_BYTES);
      }),
      { numRuns: 60 },
    );
  });

  it('cuts a huge text body to fit SNS, with a marker', () => {
    const huge: Diagnosis = { ...oom, stoppedReason: 'x'.repeat(400_000) };
    const { message } = renderSnsMessage(huge, {}, 'text');
    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(SNS_BODY_MAX_BYTES);
    expect(message.endsWith('… (truncated)')).toBe(true);
  });
});
