import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadCatalog } from '../catalog/catalog';
import type { Catalog } from '../core/catalog';
import { DoctorError } from '../core/errors';
import { explain, listPatterns, replay, testPatterns } from './commands';
import { type CliIo, EXIT } from './io';
import type { LiveAws, LiveOptions } from './live';
import { factsSource } from './read-facts';

/**
 * Runs the CLI and returns its exit code: 0 all input read, 1 some input bad (or a
 * failing pattern test), 2 usage or configuration error.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const catalogFor = (dirs: readonly string[] | undefined): Catalog => loadCatalog(dirs ?? []);
  const patternsOption = (): Option =>
    new Option('--patterns <dir>', 'extra pattern folder; adds or overrides built-ins (repeatable)').argParser(collect);

  const program = new Command('ecs-stop-doctor')
    .description('Explain why an Amazon ECS task stopped and what to fix.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('replay')
    .description(
      'diagnose recorded events: .json (one event, a task, or an array), .jsonl, folders of them, or - for stdin',
    )
    .argument('<paths...>', 'files, folders, or - for standard input')
    .option('--json', 'one diagnosis JSON object per line, in input order')
    .addOption(
      new Option(
        '--facts <path>',
        'network facts snapshot for every event, or a folder of snapshots named like the event files',
      ).conflicts('live'),
    )
    .option('--live', "read each stopped task's network from AWS (standard SDK chain, AWS_ENDPOINT_URL honoured)")
    .addOption(
      new Option(
        '--slack-preview',
        'print the Slack Block Kit message of each stop that would alert (JSON lines)',
      ).conflicts(['json', 'slackWebhook', 'snsTopic']),
    )
    .option('--slack-webhook <url>', 'post each stop that would alert to this Slack incoming webhook')
    .option('--sns-topic <arn>', 'publish each stop that would alert to this SNS topic (standard SDK chain)')
    .addOption(
      new Option('--sns-format <format>', 'SNS message body: readable text, or the Amazon Q Developer (Chatbot) JSON')
        .choices(['text', 'chatbot'])
        .default('text'),
    )
    .addOption(patternsOption())
    .addOption(regionOption())
    .addOption(profileOption())
    .addOption(deadlineOption())
    .action(async (paths: string[], options: ReplayFlags & LiveFlags) => {
      const facts = options.facts === undefined ? undefined : factsSource(options.facts);
      code = await replay(
        paths,
        {
          json: options.json === true,
          ...(facts ? { facts } : {}),
          ...(options.live ? { live: await liveAws(options) } : {}),
          ...(options.slackPreview ? { slackPreview: true } : {}),
          ...(options.slackWebhook !== undefined || options.snsTopic !== undefined
            ? { deliver: await cliDelivery(options) }
            : {}),
        },
        catalogFor(options.patterns),
        io,
      );
    });

  program
    .command('check')
    .description(
      "check a service's network before it runs (no stop needed): every subnet it uses, against what its task definition needs",
    )
    .option('--cluster <cluster>', 'cluster name or ARN (with --service)')
    .option('--service <service>', 'service name; its subnets, security groups and task definition are read')
    .option('--task-definition <td>', 'task definition ARN or family:revision (instead of, or overriding, the service)')
    .option('--subnets <ids>', 'comma-separated subnet ids (instead of the service)', list)
    .option('--security-groups <ids>', 'comma-separated security group ids of the task', list)
    .addOption(new Option('--assign-public-ip <value>', 'the awsvpc assignPublicIp').choices(['ENABLED', 'DISABLED']))
    .addOption(new Option('--launch-type <type>', 'launch type').choices(['FARGATE', 'EC2']))
    .option('--platform-version <version>', 'Fargate platform version, e.g. 1.4.0 or LATEST')
    .option('--enable-execute-command', 'the task will use ECS Exec')
    .option('--json', 'one JSON object per subnet')
    .addOption(regionOption())
    .addOption(profileOption())
    .addOption(deadlineOption())
    .action(async (options: CheckFlags & LiveFlags) => {
      if (options.service && !options.cluster) throw new InvalidArgumentError('--service needs --cluster');
      const { check } = await import('./live');
      code = await check(
        {
          json: options.json === true,
          ...(options.cluster ? { cluster: options.cluster } : {}),
          ...(options.service ? { service: options.service } : {}),
          ...(options.taskDefinition ? { taskDefinition: options.taskDefinition } : {}),
          ...(options.subnets ? { subnets: options.subnets } : {}),
          ...(options.securityGroups ? { securityGroups: options.securityGroups } : {}),
          ...(options.assignPublicIp ? { assignPublicIp: options.assignPublicIp } : {}),
          ...(options.launchType ? { launchType: options.launchType } : {}),
          ...(options.platformVersion ? { platformVersion: options.platformVersion } : {}),
          ...(options.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
        },
        await liveAws(options),
        io,
      );
    });

  program
    .command('snapshot')
    .description("record a subnet's network facts as JSON, for replay --facts")
    .requiredOption('--subnet <id>', 'the subnet the task runs in')
    .option('--cluster <cluster>', 'cluster of --service')
    .option('--service <service>', "read the task's security groups and task definition from this service")
    .option('--task-definition <td>', 'task definition ARN or family:revision')
    .option('--security-groups <ids>', 'comma-separated security group ids of the task', list)
    .option('--out <file>', 'write to this file instead of standard output')
    .addOption(regionOption())
    .addOption(profileOption())
    .addOption(deadlineOption())
    .action(async (options: SnapshotFlags & LiveFlags) => {
      if (options.service && !options.cluster) throw new InvalidArgumentError('--service needs --cluster');
      const { snapshot } = await import('./live');
      code = await snapshot(
        {
          subnet: options.subnet,
          ...(options.cluster ? { cluster: options.cluster } : {}),
          ...(options.service ? { service: options.service } : {}),
          ...(options.taskDefinition ? { taskDefinition: options.taskDefinition } : {}),
          ...(options.securityGroups ? { securityGroups: options.securityGroups } : {}),
          ...(options.out ? { out: options.out } : {}),
        },
        await liveAws(options),
        io,
      );
    });

  program
    .command('explain')
    .description('classify a pasted stoppedReason or container reason')
    .argument('<reason...>', 'the reason text (quote it)')
    .option('--json', 'print the diagnosis as JSON')
    .option('--stop-code <code>', 'the task stopCode, e.g. TaskFailedToStart')
    .option('--exit-code <n>', "a container's exit code", parseExitCode)
    .addOption(patternsOption())
    .action(
      (words: string[], options: { json?: boolean; stopCode?: string; exitCode?: number; patterns?: string[] }) => {
        code = explain(
          words.join(' '),
          { json: options.json === true, stopCode: options.stopCode, exitCode: options.exitCode },
          catalogFor(options.patterns),
          io,
        );
      },
    );

  const patterns = program.command('patterns').description('show or test the pattern catalog');
  patterns
    .command('list')
    .description('list patterns in precedence order')
    .option('--json', 'one pattern JSON object per line')
    .addOption(patternsOption())
    .action((options: { json?: boolean; patterns?: string[] }) => {
      code = listPatterns({ json: options.json === true }, catalogFor(options.patterns), io);
    });
  patterns
    .command('test')
    .description('run every pattern example and counter-example through the whole catalog')
    .addOption(patternsOption())
    .action((options: { patterns?: string[] }) => {
      code = testPatterns(catalogFor(options.patterns), io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof CommanderError) {
      // Help and version requests exit 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof DoctorError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

interface ReplayFlags {
  json?: boolean;
  patterns?: string[];
  facts?: string;
  live?: boolean;
  slackPreview?: boolean;
  slackWebhook?: string;
  snsTopic?: string;
  snsFormat?: 'text' | 'chatbot';
}

interface LiveFlags {
  region?: string;
  profile?: string;
  deadline?: number;
}

interface CheckFlags {
  cluster?: string;
  service?: string;
  taskDefinition?: string;
  subnets?: string[];
  securityGroups?: string[];
  assignPublicIp?: 'ENABLED' | 'DISABLED';
  launchType?: string;
  platformVersion?: string;
  enableExecuteCommand?: boolean;
  json?: boolean;
}

interface SnapshotFlags {
  subnet: string;
  cluster?: string;
  service?: string;
  taskDefinition?: string;
  securityGroups?: string[];
  out?: string;
}

/** Seconds allowed to read one subnet's facts before the rest is reported unavailable. */
const DEFAULT_DEADLINE_SECONDS = 20;

function regionOption(): Option {
  return new Option('--region <region>', 'AWS region when the input does not name one (default: the SDK chain)');
}

function profileOption(): Option {
  return new Option('--profile <name>', 'named profile from the AWS shared config files');
}

function deadlineOption(): Option {
  return new Option('--deadline <seconds>', 'time allowed to read one subnet from AWS; the rest is reported unread')
    .default(DEFAULT_DEADLINE_SECONDS)
    .argParser(parseSeconds);
}

/** The AWS side of the CLI, loaded only by the commands that use it: the SDK takes time to load. */
async function liveAws(flags: LiveFlags): Promise<LiveAws> {
  const { LiveAws } = await import('./live');
  return new LiveAws(liveOptions(flags));
}

/** Delivery for `replay --slack-webhook / --sns-topic`, loaded only then (the SNS client is part of the SDK). */
async function cliDelivery(flags: ReplayFlags & LiveFlags) {
  const { CliDelivery } = await import('./deliver');
  return new CliDelivery({
    ...(flags.slackWebhook !== undefined ? { slackWebhook: flags.slackWebhook } : {}),
    ...(flags.snsTopic !== undefined ? { snsTopic: flags.snsTopic } : {}),
    snsFormat: flags.snsFormat ?? 'text',
    ...(flags.profile ? { profile: flags.profile } : {}),
    deadlineSeconds: flags.deadline ?? DEFAULT_DEADLINE_SECONDS,
  });
}

function liveOptions(flags: LiveFlags): LiveOptions {
  return {
    deadlineSeconds: flags.deadline ?? DEFAULT_DEADLINE_SECONDS,
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  };
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return seconds;
}

function list(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new InvalidArgumentError('must list at least one id, comma-separated');
  return items;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseExitCode(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('must be an integer');
  return Number(value);
}
