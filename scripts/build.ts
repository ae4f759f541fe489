import { mkdirSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { builtinPatternSources } from '../functions/catalog/builtin-patterns';
import { loadPatternDir } from '../functions/catalog/load-pattern-dir';
import { compileCatalog, type PatternSource } from '../functions/core/catalog';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Entry points of the Lambda functions, relative to the project root. */
export const HANDLER_ENTRY = 'functions/handlers/stopped-task.ts';

/** Options for {@link buildHandler}. */
export interface BuildOptions {
  /** Output folder; the bundle is `index.mjs` in it. @default dist/handler */
  readonly outdir?: string;
  /**
   * Folders of user pattern files to ship with the function: they add patterns or override
   * built-ins with the same id. @default the folders in DOCTOR_PATTERNS_DIRS
   */
  readonly extraPatternDirs?: readonly string[];
}

/**
 * Swaps the module that reads `patterns/*.yaml` from disk for one that returns the same
 * sources (plus the user's folders) inlined as JSON. The whole catalog is validated here,
 * so a bad pattern fails the build, not the first invocation.
 */
function inlineCatalog(extraPatternDirs: readonly string[]): Plugin {
  return {
    name: 'inline-catalog',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /functions[\\/]catalog[\\/]builtin-patterns\.ts$/ }, () => {
        const sources = [...builtinPatternSources(), ...extraPatternDirs.flatMap((dir) => loadPatternDir(dir))];
        compileCatalog(sources);
        return {
          loader: 'ts',
          contents: `export function builtinPatternSources() { return ${JSON.stringify(sources.map(withoutTestData))}; }`,
        };
      });
    },
  };
}

/**
 * A pattern source without what only tests use: the function needs one example (the schema
 * asks for it), not all of them nor the counter-examples. Halves the bundle.
 */
function withoutTestData(source: PatternSource): PatternSource {
  const data = source.data as { examples?: unknown[]; counterExamples?: unknown[] } | null;
  if (!data || typeof data !== 'object' || !Array.isArray(data.examples)) return source;
  return { ...source, data: { ...data, examples: data.examples.slice(0, 1), counterExamples: [] } };
}

/** Bundles the Lambda handler into `outdir/index.mjs` (minified, source maps, node22). */
export async function buildHandler(options: BuildOptions = {}): Promise<{ file: string; bytes: number }> {
  const outdir = options.outdir ?? join(root, 'dist/handler');
  const extraPatternDirs = options.extraPatternDirs ?? patternDirsFromEnv(process.env.DOCTOR_PATTERNS_DIRS);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, HANDLER_ENTRY)],
    outfile: join(outdir, 'index.mjs'),
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // The nodejs22.x runtime ships an AWS SDK v3, but we bundle our own pinned copy: the code
    // that runs is the code that was tested, and a bundled, tree-shaken SDK loads several
    // times faster than the runtime's full packages. ES module builds first: esbuild can
    // drop the SDK's unused operations only from those.
    external: [],
    mainFields: ['module', 'main'],
    // Some CommonJS dependencies call require(); give ESM output a require.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [inlineCatalog(extraPatternDirs)],
    metafile: true,
    logLevel: 'warning',
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('index.mjs'));
  return { file: join(outdir, 'index.mjs'), bytes: output?.[1].bytes ?? 0 };
}

/** Splits a DOCTOR_PATTERNS_DIRS value (the platform's path delimiter, as in PATH). */
export function patternDirsFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(delimiter)
    .filter((dir) => dir.trim() !== '')
    .map((dir) => resolve(dir));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes } = await buildHandler(process.argv[2] ? { outdir: resolve(process.argv[2]) } : {});
  console.log(`built ${file} (${(bytes / 1024).toFixed(1)} KiB)`);
}
