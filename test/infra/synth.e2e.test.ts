import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures';

const out = mkdtempSync(join(tmpdir(), 'doctor-synth-'));
const home = mkdtempSync(join(tmpdir(), 'doctor-home-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** The environment of a machine with no AWS credentials and no AWS config at all. */
function withoutAws(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('CDK_')),
  );
  return {
    ...env,
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Tests send nothing off 127.0.0.1: no telemetry, no version check, no notices (below).
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

describe('npm run synth', () => {
  let run: SpawnSyncReturns<string>;
  beforeAll(() => {
    // The README's command, as a new user runs it: the real CDK CLI, real bundling, cdk-nag on.
    run = spawnSync('npm', ['run', 'synth', '--', '--no-notices', '--output', out], {
      cwd: ROOT,
      env: withoutAws(),
      encoding: 'utf8',
      timeout: 240_000,
    });
  }, 300_000);

  it('writes a cloud assembly with both stacks, with no AWS credentials', () => {
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string }>;
    };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    expect(Object.fromEntries(stacks.map(([name, a]) => [name, a.environment]))).toEqual({
      EcsStopDoctor: 'aws://unknown-account/unknown-region',
      EcsStopDoctorReferenceVpc: 'aws://unknown-account/unknown-region',
    });
    expect(readdirSync(out)).toEqual(
      expect.arrayContaining(['EcsStopDoctor.template.json', 'EcsStopDoctorReferenceVpc.template.json']),
    );
  });

  it('bundles the handler with its source map, within the 1 MB budget', () => {
    const template = JSON.parse(readFileSync(join(out, 'EcsStopDoctor.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    const hash = fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    const asset = join(out, `asset.${hash}`);
    expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(statSync(join(asset, 'index.mjs')).size).toBeLessThan(1024 * 1024);
    // The catalog is inlined: the function reads no pattern files.
    expect(readFileSync(join(asset, 'index.mjs'), 'utf8')).toContain('agent-disconnected');
  });
});
