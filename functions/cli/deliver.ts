import { SNSClient } from '@aws-sdk/client-sns';
import { postToSlack, webhookUrlProblem } from '../adapters/slack-webhook';
import { SnsPublisher } from '../adapters/sns-publisher';
import type { Channel } from '../core/alert';
import { SNS_TOPIC_ARN, type SnsFormat } from '../core/config';
import type { Diagnosis } from '../core/diagnosis';
import { DoctorError } from '../core/errors';
import { renderSlackMessage } from '../core/render/slack';
import { renderSnsMessage } from '../core/render/sns';

/** Where `replay` sends its alerts, for testing a webhook or topic from a terminal. */
export interface CliDeliveryOptions {
  readonly slackWebhook?: string;
  readonly snsTopic?: string;
  readonly snsFormat: SnsFormat;
  readonly profile?: string;
  /** Seconds each alert may take on a channel, retries included. */
  readonly deadlineSeconds: number;
}

/** How one alert fared: per channel, `sent` or why not. */
export type DeliveryReport = Partial<Record<Channel, { readonly ok: boolean; readonly detail: string }>>;

/**
 * Sends alerts the way the Lambda does (same rendering, same Slack retries), without the
 * ledger: every diagnosis that would alert is sent. The SNS client uses the standard SDK
 * chain, in the topic's own region.
 * @throws DoctorError at construction for a URL that is not a webhook or an ARN that is not a topic.
 */
export class CliDelivery {
  private readonly sns: { readonly topicArn: string; readonly publisher: SnsPublisher } | undefined;

  constructor(private readonly options: CliDeliveryOptions) {
    const problem = options.slackWebhook === undefined ? null : webhookUrlProblem(options.slackWebhook);
    if (problem) throw new DoctorError(`--slack-webhook: ${problem}`);
    if (options.snsTopic !== undefined) {
      const region = SNS_TOPIC_ARN.exec(options.snsTopic)?.[1];
      if (!region)
        throw new DoctorError(
          `--sns-topic: expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got "${options.snsTopic}"`,
        );
      const client = new SNSClient({
        region,
        ...(options.profile ? { profile: options.profile } : {}),
        maxAttempts: 3,
      });
      this.sns = { topicArn: options.snsTopic, publisher: new SnsPublisher(client) };
    }
  }

  /** Sends one diagnosis to every channel given; never throws, reports per channel. */
  async send(diagnosis: Diagnosis): Promise<DeliveryReport> {
    const deadline = Date.now() + this.options.deadlineSeconds * 1000;
    const report: { -readonly [C in Channel]?: { ok: boolean; detail: string } } = {};
    const attempts: Promise<void>[] = [];
    if (this.options.slackWebhook !== undefined) {
      const url = this.options.slackWebhook;
      attempts.push(
        postToSlack(url, renderSlackMessage(diagnosis), { deadline }).then(
          ({ attempts: n }) => {
            report.slack = { ok: true, detail: `posted${n > 1 ? ` after ${n} attempts` : ''}` };
          },
          (error: unknown) => {
            report.slack = { ok: false, detail: (error as Error).message };
          },
        ),
      );
    }
    if (this.sns) {
      const { topicArn, publisher } = this.sns;
      attempts.push(
        publisher
          .publish(topicArn, renderSnsMessage(diagnosis, {}, this.options.snsFormat), {
            abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
          })
          .then(
            ({ messageId }) => {
              report.sns = { ok: true, detail: `published (message ${messageId})` };
            },
            (error: unknown) => {
              report.sns = { ok: false, detail: (error as Error).message };
            },
          ),
      );
    }
    await Promise.all(attempts);
    return report;
  }
}
