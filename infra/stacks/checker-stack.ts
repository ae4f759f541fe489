import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { StoppedTaskDoctor, type StoppedTaskDoctorProps } from '../constructs/stopped-task-doctor';

/** Properties of {@link CheckerStack}. */
export interface CheckerStackProps extends StackProps {
  /** How the checker is set up. @default the construct's defaults */
  readonly doctor?: Omit<StoppedTaskDoctorProps, 'alertTopic' | 'slackWebhookSecret' | 'alarmTopic'>;
  /** An existing SNS topic for alerts and alarms. @default a new topic */
  readonly alertTopicArn?: string;
  /**
   * An existing secret holding the Slack webhook URL: its complete ARN (with the six
   * characters Secrets Manager appends to the name) or its ARN without them.
   * @default a new secret holding `{"url": ""}`
   */
  readonly slackWebhookSecretArn?: string;
}

/** The checker on its own: one per account and Region. */
export class CheckerStack extends Stack {
  readonly doctor: StoppedTaskDoctor;

  constructor(scope: Construct, id: string, props: CheckerStackProps = {}) {
    super(scope, id, {
      description: 'ECS stop doctor: diagnoses stopped ECS tasks and alerts on Slack and SNS with the fix',
      ...props,
    });
    const secretArn = props.slackWebhookSecretArn;
    this.doctor = new StoppedTaskDoctor(this, 'Doctor', {
      ...props.doctor,
      ...(props.alertTopicArn ? { alertTopic: Topic.fromTopicArn(this, 'AlertTopic', props.alertTopicArn) } : {}),
      ...(secretArn
        ? {
            slackWebhookSecret: /-[A-Za-z0-9]{6}$/.test(secretArn)
              ? Secret.fromSecretCompleteArn(this, 'SlackWebhookSecret', secretArn)
              : Secret.fromSecretPartialArn(this, 'SlackWebhookSecret', secretArn),
          }
        : {}),
    });

    new CfnOutput(this, 'AlertTopicArn', {
      description:
        'Subscribe to alerts: aws sns subscribe --topic-arn <this> --protocol email --notification-endpoint you@example.com',
      value: this.doctor.alertTopic.topicArn,
    });
    if (this.doctor.slackWebhookSecret)
      new CfnOutput(this, 'SlackWebhookSecretArn', {
        description:
          'Put the Slack incoming-webhook URL in it: aws secretsmanager put-secret-value --secret-id <this> --secret-string \'{"url":"https://hooks.slack.com/services/..."}\'',
        value: this.doctor.slackWebhookSecret.secretArn,
      });
    new CfnOutput(this, 'FunctionName', {
      description: 'The diagnosing function (its logs hold one "task diagnosed" line per stop)',
      value: this.doctor.function.functionName,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Events the checker gave up on',
      value: this.doctor.deadLetterQueue.queueUrl,
    });
  }
}
