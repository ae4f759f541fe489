import type { Catalog, CompiledPattern } from '../core/catalog';
import { CAUSES } from '../core/taxonomy';

const EXAMPLE_LIMIT = 160;

/** Renders `patterns/CATALOG.md` from the catalog (built-in patterns only). */
export function renderCatalogMarkdown(catalog: Catalog): string {
  const patterns = catalog.patterns.filter((p) => p.origin === 'builtin');
  const counts = CAUSES.map((cause) => [cause, patterns.filter((p) => p.cause === cause).length] as const).filter(
    ([, n]) => n > 0,
  );
  const lines = [
    '<!-- Generated from patterns/*.yaml by `npm run catalog`. Do not edit: a test fails when it drifts. -->',
    '# Pattern catalog',
    '',
    `${patterns.length} patterns, in precedence order (highest priority first). ` +
      'Format and precedence rules: [README.md](README.md).',
    '',
    `By cause: ${counts.map(([cause, n]) => `${cause} ${n}`).join(' · ')}`,
    '',
    '| id | cause | endpoints | title | example |',
    '|---|---|---|---|---|',
    ...patterns.map(row),
    '',
  ];
  return lines.join('\n');
}

function row(p: CompiledPattern): string {
  const example = p.examples[0];
  const text = example?.reason ?? example?.containerReason ?? `exit code ${example?.exitCode ?? '?'}`;
  const endpoints = p.endpoints.length > 0 ? p.endpoints.map((e) => `\`${e}\``).join(', ') : '';
  return `| [${p.id}](${p.id}.yaml) | ${p.cause} | ${endpoints} | ${cell(p.title)} | ${cell(clip(text))} |`;
}

function clip(text: string): string {
  return text.length > EXAMPLE_LIMIT ? `${text.slice(0, EXAMPLE_LIMIT)}…` : text;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}
