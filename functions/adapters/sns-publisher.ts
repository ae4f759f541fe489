import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SnsMessage } from '../core/render/sns';
import { toAwsCallError } from './aws-call-error';
import type { CallOptions } from './ec2-network';

/** Publishes alerts to an SNS topic. */
export interface SnsPublisherPort {
  publish(topicArn: string, message: SnsMessage, options?: CallOptions): Promise<{ readonly messageId: string }>;
}

/** SNS `Publish` with the subject, body and string message attributes of a rendered alert. */
export class SnsPublisher implements SnsPublisherPort {
  constructor(private readonly client: SNSClient) {}

  async publish(topicArn: string, message: SnsMessage, options: CallOptions = {}): Promise<{ messageId: string }> {
    try {
      const output = await this.client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: message.subject,
          Message: message.message,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, value]) => [
              name,
              { DataType: 'String', StringValue: value },
            ]),
          ),
        }),
        { abortSignal: options.abortSignal },
      );
      return { messageId: output.MessageId ?? '' };
    } catch (error) {
      throw toAwsCallError(error, 'sns', 'Publish');
    }
  }
}
