import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFn, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';

/** The project root: the build script and the handler's sources live under it. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Partition key and TTL attribute of the incident ledger (functions/adapters/incident-ledger.ts). */
export const LEDGER_PARTITION_KEY = 'pk';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The cause taxonomy (DESIGN.md), for `alertCauses`. A copy, because infra never imports
 * function code; a test pins it to functions/core/taxonomy.ts.
 */
export const CAUSES = [
  'network',
  'permission',
  'not-found',
  'task-definition',
  'capacity',
  'application',
  'platform',
  'expected',
  'unknown',
] as const;
export type Cause = (typeof CAUSES)[number];

/** Severities, highest first, for `minSeverity` (pinned like {@link CAUSES}). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * EC2 Describe calls the network check makes. EC2 `Describe*` actions support no
 * resource-level permissions (Service Authorization Reference: no resource types), so they
 * can only be granted on `*`; they are read-only.
 */
export const NETWORK_CHECK_EC2_ACTIONS = [
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribePrefixLists',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeVpcs',
] as const;

/** Properties of {@link StoppedTaskDoctor}. */
export interface StoppedTaskDoctorProps {
  /**
   * Clusters (names or ARNs) whose stopped tasks are diagnosed; names are taken to be in
   * this stack's account and Region. The EventBridge rule matches only these, and the
   * function's ECS read permissions are scoped to them.
   * @default every cluster in the account and Region
   */
  readonly clusters?: readonly string[];
  /**
   * Clusters (names or ARNs) whose stops never reach the function. Ignored for clusters
   * also listed in `clusters`, which already narrows the rule.
   * @default none
   */
  readonly excludeClusters?: readonly string[];
  /**
   * The SNS topic alerts are published to (and the alarms notify, unless `alarmTopic` is
   * set). Subscribe e-mail, a chat integration or another account to it.
   * @default a new topic that accepts only TLS publishers
   */
  readonly alertTopic?: ITopic;
  /**
   * What goes to the topic: `text` (a readable subject and body, with `cause`, `severity`,
   * `cluster`, `service` and `patternId` message attributes) or `chatbot` (the Amazon Q
   * Developer in chat applications custom notification, for Slack, Teams or Chime via Chatbot).
   * @default 'text'
   */
  readonly snsFormat?: 'text' | 'chatbot';
  /**
   * Whether to post to Slack through an incoming webhook.
   * @default true
   */
  readonly slack?: boolean;
  /**
   * The Secrets Manager secret holding the Slack incoming-webhook URL (the URL itself, or
   * `{"url": "…"}`). Only used when `slack` is true.
   * @default a new secret holding `{"url": ""}`: the function skips Slack, with a warning,
   * until you put the URL in it
   */
  readonly slackWebhookSecret?: ISecret;
  /**
   * The window in which repeats of one incident (cluster + service + pattern) are counted,
   * not sent; the next alert says how many there were. Between 1 minute and 7 days.
   * @default Duration.minutes(60)
   */
  readonly dedupeWindow?: Duration;
  /**
   * Causes that alert.
   * @default every cause but `expected`
   */
  readonly alertCauses?: readonly Cause[];
  /**
   * The lowest severity that alerts.
   * @default 'info' (every severity)
   */
  readonly minSeverity?: Severity;
  /**
   * Concurrent executions reserved for (and capping) the function, so a storm of stops
   * cannot starve other functions or flood the Describe APIs; events beyond it wait in
   * Lambda's asynchronous queue. `undefined` reserves none: an account whose concurrency
   * quota is still 10 cannot reserve any.
   * @default 5
   */
  readonly reservedConcurrency?: number;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Where the alarms on the checker itself (function errors, dead-lettered events, rule
   * delivery failures) are sent.
   * @default the alert topic
   */
  readonly alarmTopic?: ITopic;
  /**
   * Folders of your own pattern files to bundle with the function; they add patterns or
   * override built-ins with the same id. Relative paths are taken from the project root.
   * @default none
   */
  readonly patternDirs?: readonly string[];
  /**
   * What happens to the ledger table and the log group when the stack is deleted. Both hold
   * only data the checker can do without (dedupe state, its own logs).
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The ECS stop doctor: an EventBridge rule for stopped ECS tasks, the function that
 * diagnoses them (classifies the reason, checks the task's network live) and alerts on
 * Slack and SNS, its incident ledger, dead-letter queue and alarms, with only the
 * permissions the diagnosis uses.
 */
export class StoppedTaskDoctor extends Construct {
  /** The diagnosing function. */
  readonly function: LambdaFn;
  /** The rule that sends "ECS Task State Change" events with `lastStatus` STOPPED to the function. */
  readonly rule: Rule;
  /** Where alerts are published. */
  readonly alertTopic: ITopic;
  /** The Slack webhook secret, when Slack is on. */
  readonly slackWebhookSecret?: ISecret;
  /** The incident ledger (storm control and delivery record). */
  readonly ledger: Table;
  /** Events that could not be diagnosed or delivered after retries. */
  readonly deadLetterQueue: Queue;
  /** Alarms on the checker itself. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: StoppedTaskDoctorProps = {}) {
    super(scope, id);
    validate(props);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const clusterNames = props.clusters ?? [];
    const clusters = clusterNames.map((c) => clusterArn(stack, c));
    const excluded = (props.excludeClusters ?? []).map((c) => clusterArn(stack, c));

    this.alertTopic =
      props.alertTopic ?? new Topic(this, 'AlertTopic', { displayName: 'ECS stop doctor', enforceSSL: true });
    if (props.slack ?? true) {
      this.slackWebhookSecret =
        props.slackWebhookSecret ??
        new Secret(this, 'SlackWebhookSecret', {
          description:
            'Slack incoming-webhook URL for ECS stop doctor: put {"url": "https://hooks.slack.com/services/…"}',
          secretObjectValue: { url: SecretValue.unsafePlainText('') },
          removalPolicy,
        });
    }

    this.ledger = new Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'ECS stop doctor: read-only network and ECS lookups, its own ledger, topic and secret',
    });
    logGroup.grantWrite(role);

    this.function = new LambdaFn(this, 'Function', {
      description: 'Diagnoses stopped ECS tasks and alerts with the fix',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      handler: 'index.handler',
      code: handlerCode(props.patternDirs ?? []),
      memorySize: 512,
      // Below the ledger's 90-second claim lease, so a retry never races a live invocation.
      timeout: Duration.seconds(60),
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: 'reservedConcurrency' in props ? props.reservedConcurrency : 5,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        DOCTOR_SNS_TOPIC_ARN: this.alertTopic.topicArn,
        DOCTOR_SNS_FORMAT: props.snsFormat ?? 'text',
        DOCTOR_LEDGER_TABLE: this.ledger.tableName,
        DOCTOR_DEDUPE_WINDOW_MINUTES: String((props.dedupeWindow ?? Duration.minutes(60)).toMinutes()),
        ...(this.slackWebhookSecret ? { DOCTOR_SLACK_WEBHOOK_SECRET_ARN: this.slackWebhookSecret.secretArn } : {}),
        ...(props.alertCauses ? { DOCTOR_ALERT_CAUSES: props.alertCauses.join(',') } : {}),
        ...(props.minSeverity ? { DOCTOR_MIN_SEVERITY: props.minSeverity } : {}),
      },
    });
    // Lambda retries a failed asynchronous invocation twice (a delivery that failed is
    // resent only on the channels that missed it), then keeps the event in the queue.
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });

    this.grantPermissions(role, clusterNames);

    this.rule = new Rule(this, 'TaskStoppedRule', {
      description: 'Stopped ECS tasks, for ECS stop doctor',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          lastStatus: ['STOPPED'],
          ...(clusters.length > 0
            ? { clusterArn: clusters }
            : excluded.length > 0
              ? { clusterArn: [{ 'anything-but': excluded }] }
              : {}),
        },
      },
      targets: [
        new LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 10,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const action: IAlarmAction = new SnsAction(props.alarmTopic ?? this.alertTopic);
    // Each fires at the first occurrence in five minutes: any of them means a stop went unexplained for now.
    const alarmOn = (id: string, alarmDescription: string, metric: IMetric) =>
      new Alarm(this, id, {
        alarmDescription,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    const period = Duration.minutes(5);
    this.alarms = [
      alarmOn(
        'ErrorsAlarm',
        'ECS stop doctor failed to diagnose or deliver an alert (it is retried, then dead-lettered)',
        this.function.metricErrors({ period }),
      ),
      alarmOn(
        'DeadLetterAlarm',
        'Stopped-task events ECS stop doctor gave up on are waiting in its dead-letter queue: read them, fix the cause, redrive',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period }),
      ),
      alarmOn(
        'RuleFailedInvocationsAlarm',
        'EventBridge could not invoke ECS stop doctor for a stopped task',
        new Metric({
          namespace: 'AWS/Events',
          metricName: 'FailedInvocations',
          dimensionsMap: { RuleName: this.rule.ruleName },
          statistic: 'Sum',
          period,
        }),
      ),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(action);

    this.acknowledgeNagFindings(role, ecsReadScopes(clusterNames));
  }

  /** Exactly what the function calls: the network check's reads, its topic, secret and table. */
  private grantPermissions(role: Role, clusters: readonly string[]): void {
    // Service and container-instance ARNs name their cluster: scope those reads to the clusters watched.
    const stack = Stack.of(this);
    role.addToPolicy(
      new PolicyStatement({
        sid: 'NetworkCheckReads',
        effect: Effect.ALLOW,
        actions: [...NETWORK_CHECK_EC2_ACTIONS],
        // EC2 Describe actions cannot be scoped to resources.
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'TaskDefinitionReads',
        actions: ['ecs:DescribeTaskDefinition'],
        // DescribeTaskDefinition supports no resource-level permissions.
        resources: ['*'],
      }),
    );
    const scopes = ecsReadScopes(clusters);
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ServiceAndInstanceReads',
        actions: ['ecs:DescribeServices', 'ecs:DescribeContainerInstances'],
        resources: scopes.flatMap((cluster) => [
          stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${cluster}/*` }),
          stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${cluster}/*` }),
        ]),
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'Ledger',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.ledger.tableArn],
      }),
    );
    this.alertTopic.grantPublish(role);
    const secret = this.slackWebhookSecret;
    if (secret) {
      role.addToPolicy(
        new PolicyStatement({
          sid: 'SlackWebhookSecret',
          actions: ['secretsmanager:GetSecretValue'],
          // A secret imported by its name-only ARN is matched with its six random suffix characters.
          resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
        }),
      );
      secret.encryptionKey?.grantDecrypt(role);
    }
  }

  /** Every cdk-nag finding this construct accepts, with the reason it is right here. */
  private acknowledgeNagFindings(role: Role, ecsReadScopes: readonly string[]): void {
    const policy = role.node.tryFindChild('DefaultPolicy') ?? role;
    const runtime =
      'nodejs22.x is the runtime the handler is built for (target node22) and tested on; move with the project, not ahead of it';
    acknowledge(policy, {
      'AwsSolutions-IAM5[Resource::*]':
        'EC2 Describe* and ecs:DescribeTaskDefinition support no resource-level permissions; X-Ray PutTraceSegments/PutTelemetryRecords require *. All are read-only or telemetry',
      ...Object.fromEntries(
        ecsReadScopes.flatMap((cluster) =>
          ['service', 'container-instance'].map((type) => [
            `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:${type}/${cluster}/*]`,
            `ecs:DescribeServices and DescribeContainerInstances of any ${type} in ${cluster === '*' ? 'the watched account and Region' : `cluster ${cluster}`}: which one stops is known only at run time`,
          ]),
        ),
      ),
    });
    acknowledge(this.function, {
      'AwsSolutions-L1': runtime,
      'Serverless-LambdaLatestVersion': runtime,
      'Serverless-LambdaDLQ':
        'Failed asynchronous invocations go to the on-failure destination (the dead-letter queue), which also records the error; a DeadLetterConfig would not',
    });
    const dlq = 'This queue is itself the dead-letter queue (Lambda on-failure destination and EventBridge target DLQ)';
    acknowledge(this.deadLetterQueue, { 'AwsSolutions-SQS3': dlq, 'Serverless-SQSRedrivePolicy': dlq });
    if (this.slackWebhookSecret instanceof Secret)
      acknowledge(this.slackWebhookSecret, {
        'AwsSolutions-SMG4':
          'Slack issues incoming-webhook URLs; no rotation function can mint a new one. Replace the value when Slack revokes the hook',
      });
  }
}

/**
 * The handler bundle, built by scripts/build.ts: the same esbuild build the tests run
 * against. It inlines and validates the pattern catalog (and `patternDirs`) with an esbuild
 * plugin, which NodejsFunction's esbuild command line cannot run, so a NodejsFunction would
 * deploy a second, untested build. The build runs locally with the Node.js running the CDK
 * app; a failed build fails the synth.
 */
function handlerCode(patternDirs: readonly string[]): Code {
  const dirs = patternDirs.map((dir) => resolve(PROJECT_ROOT, dir));
  const env = { ...process.env, DOCTOR_PATTERNS_DIRS: dirs.join(process.platform === 'win32' ? ';' : ':') };
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    exclude: ['node_modules', 'cdk.out', 'dist', 'coverage', '.git'],
    bundling: {
      local: {
        tryBundle(outputDir: string): boolean {
          const build = spawnSync(
            process.execPath,
            [join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(PROJECT_ROOT, 'scripts/build.ts'), outputDir],
            { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] },
          );
          if (build.error || build.status !== 0)
            throw new Error(
              `the handler build (scripts/build.ts) failed: ${build.error?.message ?? `exit ${build.status}, see its output above`}; run \`npm ci\` in ${PROJECT_ROOT} first`,
            );
          return true;
        },
      },
      // Required by the API, never used: the local build either succeeds or fails the synth.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
    },
  });
}

function validate(props: StoppedTaskDoctorProps): void {
  const minutes = props.dedupeWindow?.toMinutes({ integral: false });
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 10_080))
    throw new Error(`dedupeWindow must be a whole number of minutes from 1 to 10080 (7 days), got ${minutes}`);
  const reserved = props.reservedConcurrency;
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1))
    throw new Error(
      `reservedConcurrency must be a whole number of at least 1 (or undefined to reserve none), got ${reserved}`,
    );
  if (props.slack === false && props.slackWebhookSecret)
    throw new Error('slackWebhookSecret was given but slack is false: drop one of them');
  for (const cluster of [...(props.clusters ?? []), ...(props.excludeClusters ?? [])])
    if (!/^(arn:aws[\w-]*:ecs:[\w-]+:\d{12}:cluster\/)?[A-Za-z0-9_-]{1,255}$/.test(cluster))
      throw new Error(`"${cluster}" is not an ECS cluster name or ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)`);
}

/** Cluster names that scope the service and container-instance reads; `*` for every cluster. */
function ecsReadScopes(clusters: readonly string[]): string[] {
  return clusters.length > 0 ? clusters.map((cluster) => cluster.split('/').pop() ?? cluster) : ['*'];
}

/** Accepts cdk-nag findings on a construct, each with its reason. */
export function acknowledge(scope: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason });
}

/** A cluster name in this stack's account and Region as an ARN; an ARN as it is. */
function clusterArn(stack: Stack, cluster: string): string {
  return cluster.startsWith('arn:')
    ? cluster
    : stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: cluster });
}
