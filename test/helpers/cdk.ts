import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/create-app';
import type { CfnTemplate } from './template-facts';

/** Context that skips asset bundling: assertions do not need the handler built. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** Both stacks of the app for this context (as `-c key=value` would give), without cdk-nag. */
export function synthesize(context: Record<string, unknown> = {}): { checker: Template; referenceVpc: Template } {
  const { checker, referenceVpc } = createApp({ nag: false, context: { ...NO_BUNDLING, ...context } });
  return { checker: Template.fromStack(checker), referenceVpc: Template.fromStack(referenceVpc) };
}

/** A template as plain JSON, to clone and break. */
export function templateJson(template: Template): CfnTemplate {
  return structuredClone(template.toJSON()) as CfnTemplate;
}

/** The logical ids of resources of one type whose properties match. */
export function logicalIds(
  template: CfnTemplate,
  type: string,
  match: (props: Record<string, unknown>) => boolean = () => true,
): string[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type && match(r.Properties ?? {}))
    .map(([id]) => id);
}

/** Replaces 64-hex asset hashes, so snapshots change only when the infrastructure does. */
export function scrubbed(template: Template): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}
