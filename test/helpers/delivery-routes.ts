import { ecsReply, type Routes, snsPublishReply } from './aws-replay-server';

/** The alert topic the handler tests and the bench publish to. */
export const TOPIC_ARN = 'arn:aws:sns:ap-northeast-1:123456789012:ecs-stop-doctor';
/** The Slack webhook secret the handler tests and the bench read. */
export const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf';

/** Secrets Manager's answer for the webhook secret holding `value`. */
export function webhookSecretReply(value: string) {
  return ecsReply({ ARN: WEBHOOK_SECRET_ARN, Name: 'doctor/slack', SecretString: value });
}

/** Replay-server routes for delivery: the secret holds `webhookUrl`, and SNS accepts every publish. */
export function deliveryRoutes(webhookUrl: string): Routes {
  return {
    GetSecretValue: webhookSecretReply(webhookUrl),
    Publish: (_request, nth) => snsPublishReply(`msg-${nth}`),
  };
}
