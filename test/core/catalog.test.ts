import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILTIN_PATTERN_DIR, builtinPatternSources } from '../../functions/catalog/builtin-patterns';
import { loadCatalog } from '../../functions/catalog/catalog';
import { renderCatalogMarkdown } from '../../functions/catalog/catalog-markdown';
import { parsePatternFile } from '../../functions/catalog/load-pattern-dir';
import { compileCatalog, type PatternSource } from '../../functions/core/catalog';
import { checkCatalog, exampleSignal } from '../../functions/core/catalog-check';
import { classify, patternMatches } from '../../functions/core/classify';
import { PatternError } from '../../functions/core/errors';
import { CAUSES } from '../../functions/core/taxonomy';
import { placeholdersOf } from '../../functions/core/template';

const catalog = loadCatalog();
/** Patterns below this priority are generic fallbacks: they overlap other causes by design. */
const FALLBACK_BELOW = 40;
const KNOWN_PLACEHOLDERS = new Set([
  'image',
  'registryHost',
  'registryRegion',
  'secretArn',
  'parameterName',
  'logGroup',
  'bucket',
  'key',
  'address',
  'roleArn',
  'url',
  'region',
  'cluster',
  'service',
  'taskDefinition',
  'subnetId',
]);

/** A valid built-in pattern's data, cloned so a test can break one field. */
function validPatternData(): Record<string, unknown> {
  return parse(readFileSync(`${BUILTIN_PATTERN_DIR}/out-of-memory.yaml`, 'utf8')) as Record<string, unknown>;
}

function source(data: unknown, name = 'out-of-memory'): PatternSource {
  return { file: `user/${name}.yaml`, name, data, origin: 'user' };
}

describe('built-in catalog', () => {
  it('loads every pattern file, with ids equal to file names', () => {
    expect(catalog.patterns.length).toBe(builtinPatternSources().length);
    for (const pattern of catalog.patterns) expect(pattern.file).toBe(`patterns/${pattern.id}.yaml`);
  });

  it.each(catalog.patterns.map((p) => [p.id, p] as const))(
    '%s: each example matches the pattern on its own',
    (_id, pattern) => {
      for (const example of pattern.examples)
        expect(patternMatches(pattern, exampleSignal(example)), example.reason ?? example.containerReason).toBe(true);
    },
  );

  it('classifies every example as its own pattern and no counter-example as it (precedence included)', () => {
    const result = checkCatalog(catalog);
    expect(result.failures).toEqual([]);
    expect(result.examples).toBeGreaterThan(catalog.patterns.length);
  });

  it('gives every alerting pattern remediation and documentation links', () => {
    for (const pattern of catalog.patterns.filter((p) => p.cause !== 'expected')) {
      expect(pattern.remediation.length, pattern.id).toBeGreaterThan(0);
      expect(pattern.docs.length, pattern.id).toBeGreaterThan(0);
    }
  });

  it('gives network patterns endpoints and other patterns none', () => {
    for (const pattern of catalog.patterns) {
      if (pattern.cause === 'network') expect(pattern.endpoints.length, pattern.id).toBeGreaterThan(0);
      else expect(pattern.endpoints, pattern.id).toEqual([]);
    }
  });

  it('covers the routine stops as expected', () => {
    const expected = (reason: string, stopCode?: string) =>
      classify({ stoppedReason: reason, stopCode, containers: [] }, catalog).cause;
    expect(expected('Task stopped by user', 'UserInitiated')).toBe('expected');
    expect(expected('Scaling activity initiated by (deployment ecs-svc/123)', 'ServiceSchedulerInitiated')).toBe(
      'expected',
    );
    expect(expected('Your Spot Task was interrupted.', 'SpotInterruption')).toBe('expected');
    expect(expected('anything', 'SpotInterruption')).toBe('expected');
  });

  it('has two real examples per pattern, or says why there are fewer', () => {
    for (const pattern of catalog.patterns) {
      if (pattern.examples.length < 2) expect(pattern.exampleScarcity, `${pattern.id} has one example`).toBeDefined();
      for (const example of pattern.examples) expect(example.source.length, pattern.id).toBeGreaterThan(3);
    }
  });

  it('has a counter-example for every pattern', () => {
    for (const pattern of catalog.patterns) expect(pattern.counterExamples.length, pattern.id).toBeGreaterThan(0);
  });

  it('never lets an example match, on its own, a non-fallback pattern of another cause', () => {
    const specific = catalog.patterns.filter((p) => p.priority >= FALLBACK_BELOW);
    const clashes: string[] = [];
    for (const pattern of catalog.patterns) {
      for (const example of pattern.examples) {
        for (const other of specific) {
          if (other.cause !== pattern.cause && patternMatches(other, exampleSignal(example))) {
            clashes.push(
              `${pattern.id} example "${example.reason ?? example.containerReason}" also matches ${other.id} (${other.cause})`,
            );
          }
        }
      }
    }
    expect(clashes).toEqual([]);
  });

  it('uses only placeholders the diagnosis can fill', () => {
    for (const pattern of catalog.patterns) {
      const groups = new Set(
        pattern.matchers.flatMap((m) =>
          (m.reason ?? []).flatMap((r) => [...r.source.matchAll(/\(\?<(\w+)>/g)].map((g) => g[1])),
        ),
      );
      for (const text of [pattern.explanation, ...pattern.remediation]) {
        for (const name of placeholdersOf(text)) {
          expect(KNOWN_PLACEHOLDERS.has(name) || groups.has(name), `${pattern.id} uses {{${name}}}`).toBe(true);
        }
      }
    }
  });

  it('keeps patterns/CATALOG.md in step with the pattern files (run npm run catalog)', () => {
    const onDisk = readFileSync(join(BUILTIN_PATTERN_DIR, 'CATALOG.md'), 'utf8');
    expect(onDisk).toBe(renderCatalogMarkdown(catalog));
  });

  it('uses only taxonomy causes', () => {
    for (const pattern of catalog.patterns) expect(CAUSES).toContain(pattern.cause);
  });
});

describe('compileCatalog', () => {
  it.each([
    ['an unknown cause', (d: Record<string, unknown>) => Object.assign(d, { cause: 'networking' }), 'cause'],
    ['a missing title', (d: Record<string, unknown>) => Object.assign(d, { title: undefined }), 'title'],
    ['an unknown field', (d: Record<string, unknown>) => Object.assign(d, { severty: 'high' }), undefined],
    ['an unknown endpoint', (d: Record<string, unknown>) => Object.assign(d, { endpoints: ['ecr'] }), 'endpoints[0]'],
    ['an empty match', (d: Record<string, unknown>) => Object.assign(d, { match: {} }), 'match'],
    ['no examples', (d: Record<string, unknown>) => Object.assign(d, { examples: [] }), 'examples'],
    ['a non-URL doc', (d: Record<string, unknown>) => Object.assign(d, { docs: ['see the wiki'] }), 'docs[0]'],
    ['a priority above 100', (d: Record<string, unknown>) => Object.assign(d, { priority: 101 }), 'priority'],
  ])('rejects %s with an error naming the file and field', (_name, edit, field) => {
    const data = edit(validPatternData());
    let thrown: unknown;
    try {
      compileCatalog([source(data)]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PatternError);
    const error = thrown as PatternError;
    expect(error.file).toBe('user/out-of-memory.yaml');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/^user\/out-of-memory\.yaml: /);
  });

  it('rejects an id that differs from the file name', () => {
    expect(() => compileCatalog([source(validPatternData(), 'oom')])).toThrow(
      'user/oom.yaml: field id: id "out-of-memory" must equal the file name "oom"',
    );
  });

  it('rejects an invalid regular expression, naming its index', () => {
    const data = Object.assign(validPatternData(), { match: { reason: ['ok', '(unclosed'] } });
    expect(() => compileCatalog([source(data)])).toThrow(/field match\.reason\[1\]: invalid regular expression/);
  });

  it('reports YAML syntax errors with file and line', () => {
    expect(() => parsePatternFile('user/x.yaml', 'id: x\ntitle: a: b\n', 'user')).toThrow(
      /user\/x\.yaml: invalid YAML: .*line 2/,
    );
  });

  it('lets a later source override a pattern with the same id', () => {
    const override = Object.assign(validPatternData(), { title: 'Our own OOM advice', severity: 'critical' });
    const merged = compileCatalog([...builtinPatternSources(), source(override)]);
    expect(merged.patterns).toHaveLength(catalog.patterns.length);
    expect(merged.byId.get('out-of-memory')).toMatchObject({ title: 'Our own OOM advice', origin: 'user' });
  });

  it('orders patterns by priority, then id', () => {
    const priorities = catalog.patterns.map((p) => p.priority);
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
  });
});
