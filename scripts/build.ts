import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { builtinPatternSources } from '../functions/catalog/builtin-patterns';
import { compileCatalog } from '../functions/core/catalog';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Entry points of the Lambda functions, relative to the project root. */
export const HANDLER_ENTRY = 'functions/handlers/stopped-task.ts';

/**
 * Swaps the module that reads `patterns/*.yaml` from disk for one that returns the same
 * sources inlined as JSON. The catalog is validated here, so a bad pattern fails the build.
 */
function inlineCatalog(): Plugin {
  return {
    name: 'inline-catalog',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /functions[\\/]catalog[\\/]builtin-patterns\.ts$/ }, () => {
        const sources = builtinPatternSources();
        compileCatalog(sources);
        return {
          loader: 'ts',
          contents: `export function builtinPatternSources() { return ${JSON.stringify(sources)}; }`,
        };
      });
    },
  };
}

/** Bundles the Lambda handler into `outdir/index.mjs` (minified, source maps, node22). */
export async function buildHandler(
  outdir: string = join(root, 'dist/handler'),
): Promise<{ file: string; bytes: number }> {
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
    // The AWS SDK v3 ships with the nodejs22.x runtime, but we bundle our own pinned copy.
    external: [],
    // Some CommonJS dependencies call require(); give ESM output a require.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [inlineCatalog()],
    metafile: true,
    logLevel: 'warning',
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('index.mjs'));
  return { file: join(outdir, 'index.mjs'), bytes: output?.[1].bytes ?? 0 };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes } = await buildHandler(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${file} (${(bytes / 1024).toFixed(1)} KiB)`);
}
