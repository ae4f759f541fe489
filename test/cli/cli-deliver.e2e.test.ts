import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT } from '../../functions/core/render/slack';
import type { SlackMessage } from '../../functions/core/render/slack-message';
import { replayEnv, snsPublishReply, useAwsReplayServer } from '../helpers/aws-replay-server';
import { jsonLines, runCli, runCliAsync } from '../helpers/cli';
import { DEMO_DIR } from '../helpers/fixtures';
import { SECRET_WEBHOOK_PATH, useSlackReceiver } from '../helpers/slack-receiver';

const aws = useAwsReplayServer();
const slack = useSlackReceiver();

const NETWORK = join(DEMO_DIR, '04-seed002-logs-unreachable.json');
const EXPECTED = join(DEMO_DIR, '14-user-stopped.json');
const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:doctor-test';

function run(args: readonly string[]) {
  return runCliAsync(args, { env: replayEnv(aws().url) });
}

/** Block texts of a Slack message, for checking limits and escaping. */
function texts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) => {
    if (block.type === 'header') return [block.text.text];
    if (block.type === 'section')
      return [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((f) => f.text)];
    if (block.type === 'context') return block.elements.map((e) => e.text);
    return [];
  });
}

describe('replay --slack-preview', () => {
  it('prints the exact Block Kit message of each stop that would alert, and nothing for the others', () => {
    const result = runCli(['replay', '--slack-preview', NETWORK, EXPECTED]);
    expect(result.code).toBe(0);
    const messages = jsonLines(result.stdout) as unknown as SlackMessage[];
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.blocks[0]).toMatchObject({ type: 'header' });
    expect(JSON.stringify(message)).toContain('logs');
    expect(result.stderr).toContain('1 Slack message(s) printed; 1 stop(s) would not alert');
  });

  it('cannot be combined with --json', () => {
    const result = runCli(['replay', '--slack-preview', '--json', NETWORK]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--slack-preview' cannot be used with option '--json'");
  });
});

describe('replay --slack-webhook', () => {
  it('posts a valid, escaped Block Kit message within Slack limits to the webhook', async () => {
    const result = await run(['replay', '--slack-webhook', `${slack().url}/x`, NETWORK]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ slack: posted');
    expect(slack().posts).toHaveLength(1);
    const [post] = slack().posts;
    expect(post?.path).toBe('/x');
    expect(post?.headers['content-type']).toContain('application/json');
    const message = post?.body as SlackMessage;
    expect(message.text.length).toBeGreaterThan(0);
    expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    const [header, ...rest] = texts(message);
    expect(header?.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
    for (const text of rest) {
      expect(text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
      // Every `&` is an entity; the only `<…>` are links the renderer made.
      expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
      expect(text.replace(/<https:\/\/[^|>]+\|[^>]*>/g, '')).not.toMatch(/[<>]/);
    }
  });

  it('exits 4 and says why when Slack refuses, without printing the webhook URL', async () => {
    slack().script([], { status: 404, body: 'no_service' });
    const result = await run(['replay', '--slack-webhook', slack().webhookUrl(), NETWORK]);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/✖ slack: .*no_service/);
    expect(result.stdout + result.stderr).not.toContain(SECRET_WEBHOOK_PATH);
  });

  it('refuses a URL that is not a Slack webhook, before reading any input', async () => {
    const result = await run(['replay', '--slack-webhook', 'https://example.com/hook', NETWORK]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--slack-webhook:');
    expect(slack().posts).toEqual([]);
  });
});

describe('replay --sns-topic', () => {
  it('publishes each alert with its subject and filterable attributes, in the JSON output too', async () => {
    aws().setRoutes({ Publish: snsPublishReply('5b8d7a2e-0000-4000-8000-000000000001') });
    const result = await run(['replay', '--json', '--sns-topic', TOPIC, NETWORK, EXPECTED]);
    expect(result.code).toBe(0);
    const [alerted, quiet] = jsonLines(result.stdout);
    expect(alerted?.delivery).toEqual({
      sns: { ok: true, detail: 'published (message 5b8d7a2e-0000-4000-8000-000000000001)' },
    });
    expect(quiet?.delivery).toBeUndefined();
    const [publish] = aws().requests;
    expect(aws().requests).toHaveLength(1);
    expect(publish?.params).toMatchObject({
      Action: 'Publish',
      TopicArn: TOPIC,
      'MessageAttributes.entry.1.Name': 'cause',
      'MessageAttributes.entry.1.Value.StringValue': 'network',
    });
    expect(String(publish?.params.Subject)).toMatch(/^ECS network: cf-ecs-sample-service: /);
  });

  it('publishes the Amazon Q Developer (Chatbot) custom notification with --sns-format chatbot', async () => {
    aws().setRoutes({ Publish: snsPublishReply('m-1') });
    const result = await run(['replay', '--sns-topic', TOPIC, '--sns-format', 'chatbot', NETWORK]);
    expect(result.code).toBe(0);
    const notification = JSON.parse(String(aws().requests[0]?.params.Message));
    expect(notification).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
  });

  it('rejects an ARN that is not a topic', async () => {
    const result = await run(['replay', '--sns-topic', 'arn:aws:sqs:ap-northeast-1:123456789012:q', NETWORK]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--sns-topic: expected an SNS topic ARN');
  });
});
