import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadCatalog } from '../catalog/catalog';
import type { Catalog } from '../core/catalog';
import { DoctorError } from '../core/errors';
import { explain, listPatterns, replay, testPatterns } from './commands';
import { type CliIo, EXIT } from './io';
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
    .option(
      '--facts <path>',
      'network facts snapshot for every event, or a folder of snapshots named like the event files',
    )
    .addOption(patternsOption())
    .action((paths: string[], options: { json?: boolean; patterns?: string[]; facts?: string }) => {
      const facts = options.facts === undefined ? undefined : factsSource(options.facts);
      code = replay(
        paths,
        { json: options.json === true, ...(facts ? { facts } : {}) },
        catalogFor(options.patterns),
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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseExitCode(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('must be an integer');
  return Number(value);
}
