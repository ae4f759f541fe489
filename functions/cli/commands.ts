import type { Catalog } from '../core/catalog';
import { checkCatalog } from '../core/catalog-check';
import { classify } from '../core/classify';
import { type Diagnosis, diagnose, type IgnoredInput } from '../core/diagnosis';
import { diagnoseClassified } from '../core/network/diagnose-with-facts';
import type { NetworkFacts } from '../core/network/facts';
import { renderSlackMessage } from '../core/render/slack';
import type { StoppedTask } from '../core/stopped-task';
import type { DeliveryReport } from './deliver';
import { type CliIo, EXIT } from './io';
import type { LiveAws } from './live';
import { type FactsLookup, type FactsSource, factsFor } from './read-facts';
import { readInputs } from './read-inputs';
import { renderDiagnosis, renderIgnored } from './render-text';
import { styleFor } from './style';

const NO_FACTS = 'no network facts were supplied (pass --facts FILE or DIR, or --live)';

/**
 * `replay`: diagnose recorded events, tasks and describe-tasks output, with network facts
 * from snapshots (`--facts`) or read live from AWS (`--live`, only for stops whose cause can
 * be the network).
 */
export async function replay(
  paths: readonly string[],
  options: {
    json: boolean;
    facts?: FactsSource;
    live?: LiveAws;
    /** Print the Slack Block Kit message of each stop that would alert, one JSON object per line. */
    slackPreview?: boolean;
    /** Send each stop that would alert (`--slack-webhook`, `--sns-topic`). */
    deliver?: { send(diagnosis: Diagnosis): Promise<DeliveryReport> };
  },
  catalog: Catalog,
  io: CliIo,
): Promise<number> {
  const style = styleFor(io.stdout, io.env);
  const errStyle = styleFor(io.stderr, io.env);
  const inputs = readInputs(paths, io.readStdin);
  const counts = { diagnosed: 0, alerts: 0, ignored: 0, bad: 0, undelivered: 0 };
  const reportedFacts = new Set<string>();
  const blocks: string[] = [];
  for (const input of inputs) {
    if (input.kind === 'error') {
      counts.bad += 1;
      io.stderr.write(`${errStyle.red('error')} ${input.error.message}\n`);
      continue;
    }
    if (input.kind === 'ignored') {
      counts.ignored += 1;
      const entry: IgnoredInput = { kind: 'ignored', taskArn: input.taskArn, alert: false, reason: input.reason };
      const where = input.location ? `${input.file} ${input.location}` : input.file;
      if (options.json) io.stdout.write(`${JSON.stringify({ ...entry, file: input.file })}\n`);
      else if (!options.slackPreview) blocks.push(renderIgnored(entry, where, style));
      continue;
    }
    const classification = classify(input.task, catalog);
    let facts: NetworkFacts | undefined;
    let networkUnavailable = NO_FACTS;
    let found: FactsLookup | undefined;
    if (options.facts) found = factsFor(options.facts, input.file);
    else if (options.live && classification.inspectNetwork) found = await options.live.factsFor(input.task);
    // A bad snapshot is one bad input, reported once however many events it serves.
    if (found?.kind === 'error' && !reportedFacts.has(found.error.message)) {
      reportedFacts.add(found.error.message);
      counts.bad += 1;
      io.stderr.write(`${errStyle.red('error')} ${found.error.message}\n`);
    }
    if (found?.kind === 'facts') facts = found.facts;
    else if (found)
      networkUnavailable = found.kind === 'none' ? found.reason : `facts unreadable: ${found.error.message}`;
    const diagnosis = diagnoseClassified(input.task, classification, facts, { networkUnavailable });
    counts.diagnosed += 1;
    if (diagnosis.alert) counts.alerts += 1;
    if (options.slackPreview) {
      if (diagnosis.alert) io.stdout.write(`${JSON.stringify(renderSlackMessage(diagnosis))}\n`);
      continue;
    }
    const delivery = diagnosis.alert && options.deliver ? await options.deliver.send(diagnosis) : undefined;
    if (delivery && Object.values(delivery).some((r) => !r.ok)) counts.undelivered += 1;
    if (options.json)
      io.stdout.write(`${JSON.stringify({ ...diagnosis, file: input.file, ...(delivery ? { delivery } : {}) })}\n`);
    else
      blocks.push(
        [
          `${style.dim(input.file + (input.location ? ` ${input.location}` : ''))}\n${renderDiagnosis(diagnosis, style)}`,
          ...Object.entries(delivery ?? {}).map(([channel, r]) =>
            r.ok ? `${style.green('✔')} ${channel}: ${r.detail}` : `${style.red('✖')} ${channel}: ${r.detail}`,
          ),
        ].join('\n'),
      );
  }
  if (options.slackPreview) {
    io.stderr.write(
      `${counts.alerts} Slack message(s) printed; ${counts.diagnosed - counts.alerts} stop(s) would not alert; ${counts.ignored} ignored; ${counts.bad} bad input(s)\n`,
    );
  } else if (!options.json) {
    if (blocks.length > 0) io.stdout.write(`${blocks.join('\n\n')}\n\n`);
    io.stdout.write(
      `${counts.diagnosed} stopped task(s) diagnosed: ${counts.alerts} would alert, ${counts.diagnosed - counts.alerts} expected or below threshold; ${counts.ignored} ignored; ${counts.bad} bad input(s)\n`,
    );
  }
  if (inputs.length === 0) {
    io.stderr.write(`${errStyle.red('error')} no .json or .jsonl input found in ${paths.join(', ')}\n`);
    return EXIT.badInput;
  }
  if (counts.bad > 0) return EXIT.badInput;
  return counts.undelivered > 0 ? EXIT.undelivered : EXIT.ok;
}

/** `explain`: classify a pasted stoppedReason (or container reason). */
export function explain(
  text: string,
  options: { json: boolean; stopCode?: string; exitCode?: number },
  catalog: Catalog,
  io: CliIo,
): number {
  const task: StoppedTask = {
    taskArn: null,
    stoppedReason: text,
    ...(options.stopCode ? { stopCode: options.stopCode } : {}),
    containers: options.exitCode === undefined ? [] : [{ name: 'container', exitCode: options.exitCode }],
  };
  const diagnosis: Diagnosis = diagnose(task, catalog, {
    networkUnavailable: 'explain reads text only; replay an event with --facts or --live to check the network',
  });
  io.stdout.write(
    options.json ? `${JSON.stringify(diagnosis)}\n` : `${renderDiagnosis(diagnosis, styleFor(io.stdout, io.env))}\n`,
  );
  return EXIT.ok;
}

/** `patterns list`: the catalog in precedence order. */
export function listPatterns(options: { json: boolean }, catalog: Catalog, io: CliIo): number {
  for (const p of catalog.patterns) {
    if (options.json) {
      const { matchers: _compiled, ...data } = p;
      io.stdout.write(`${JSON.stringify(data)}\n`);
    } else {
      const endpoints = p.endpoints.length > 0 ? `  [${p.endpoints.join(', ')}]` : '';
      io.stdout.write(
        `${String(p.priority).padStart(3)}  ${p.id.padEnd(40)} ${p.cause.padEnd(16)} ${p.title}${endpoints}${p.origin === 'builtin' ? '' : `  (from ${p.origin})`}\n`,
      );
    }
  }
  return EXIT.ok;
}

/** `patterns test`: every example and counter-example through the whole catalog. */
export function testPatterns(catalog: Catalog, io: CliIo): number {
  const style = styleFor(io.stdout, io.env);
  const result = checkCatalog(catalog);
  for (const f of result.failures) {
    const expectation =
      f.kind === 'example' ? `expected ${f.patternId}, got ${f.got ?? 'no match'}` : `must not be ${f.patternId}`;
    io.stdout.write(`${style.red('FAIL')} ${f.file} ${f.kind}s[${f.index}]: ${expectation}\n     ${f.text}\n`);
  }
  const passed = result.examples - result.failures.length;
  io.stdout.write(
    `${result.patterns} patterns, ${result.examples} examples: ${passed} passed, ${result.failures.length} failed\n`,
  );
  return result.failures.length === 0 ? EXIT.ok : EXIT.badInput;
}
