import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/create-app';
import { NO_BUNDLING } from '../helpers/cdk';

/** The policy validation report CDK writes to the cloud assembly (`validation-report.json`). */
interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    conclusion: 'success' | 'failure';
    violations: Array<{
      ruleName: string;
      description: string;
      severity: string;
      violatingConstructs: Array<{ constructPath: string }>;
    }>;
  }>;
}

/**
 * Synthesizes the app as `cdk synth` does, with cdk-nag's AwsSolutions and Serverless packs
 * as validation plugins: an unacknowledged error fails the synth and is listed here.
 */
function nagErrors(context: Record<string, unknown>): string[] {
  return nagErrorsOf(createApp({ context: { ...NO_BUNDLING, ...context } }).app);
}

function nagErrorsOf(app: App): string[] {
  try {
    app.synth();
    return [];
  } catch (error) {
    const file = join(app.outdir, 'validation-report.json');
    if (!existsSync(file)) throw error;
    const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
    return report.pluginReports.flatMap((plugin) =>
      plugin.violations
        .filter((v) => v.severity === 'error')
        .map(
          (v) =>
            `${plugin.pluginName} ${v.ruleName}: ${v.description} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
        ),
    );
  }
}

describe('cdk-nag AwsSolutions and Serverless packs', () => {
  it.each([
    ['the defaults', {}],
    [
      'every option turned on',
      {
        sampleService: 'true',
        ec2Capacity: 'true',
        endpointSubnets: 'true',
        endpointIngress: 'task-security-group',
        clusters: 'prod,staging',
        snsFormat: 'chatbot',
      },
    ],
    [
      'an existing topic and secret',
      {
        alertTopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:alerts',
        slackWebhookSecretArn: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
        excludeClusters: 'sandbox',
      },
    ],
  ])('finds no unacknowledged error with %s', (_, context) => {
    expect(nagErrors(context)).toEqual([]);
  });

  it('fails the synth, naming the rule, when a finding is not acknowledged', () => {
    const app = new App();
    new Queue(new Stack(app, 'Bare'), 'Queue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(nagErrorsOf(app)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/AwsSolutions-SQS3/),
        expect.stringMatching(/Serverless-SQSRedrivePolicy/),
      ]),
    );
  });
});
