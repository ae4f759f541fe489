import * as z from 'zod/mini';
import { CAUSES, ENDPOINTS, SEVERITIES } from './taxonomy';
import './zod-messages';

/**
 * The step of a task's life that a pattern is about. It decides which endpoints a
 * network failure involves when the text alone does not (e.g. an image pull needs
 * `ecr.dkr` + `s3` for same-region ECR but `internet` for Docker Hub).
 */
export const STEPS = [
  'image-pull',
  'registry-auth',
  'secrets-manager',
  'ssm-parameters',
  'logs',
  'env-files',
  'efs',
  'eni',
  'placement',
  'runtime',
  'run',
  'stop',
] as const;
export type Step = (typeof STEPS)[number];

const text = (min = 1) => z.string().check(z.minLength(min));
const texts = () => z.array(text());

const exampleSchema = z
  .strictObject({
    /** Matched as the task's `stoppedReason`. */
    reason: z.optional(text()),
    /** Matched as a container's `reason` (with `exitCode`, when given). */
    containerReason: z.optional(text()),
    stopCode: z.optional(text()),
    exitCode: z.optional(z.int()),
    /** Where the text was seen: a URL, "seed 000", or "AWS docs". */
    source: text(),
  })
  .check(
    z.refine(
      (e) =>
        e.reason !== undefined ||
        e.containerReason !== undefined ||
        e.exitCode !== undefined ||
        e.stopCode !== undefined,
      'an example needs at least one of reason, containerReason, exitCode, stopCode',
    ),
  );

/** All conditions of a block must hold. */
const matchBlockSchema = z
  .strictObject({
    /** Regular expressions (case-insensitive) over the normalised stoppedReason or one container's reason; any may match. */
    reason: z.optional(texts()),
    /** Regular expressions that must not match the same text. */
    notReason: z.optional(texts()),
    /** The task's stopCode must be one of these. */
    stopCode: z.optional(texts()),
    /** The same container's exitCode must be one of these. */
    exitCode: z.optional(z.array(z.int())),
  })
  .check(
    z.refine(
      (m) => m.reason || m.stopCode || m.exitCode,
      'a match block needs at least one of reason, stopCode, exitCode',
    ),
  );

/** Schema of one pattern file (`patterns/<id>.yaml`). */
export const patternFileSchema = z.strictObject({
  id: z.string().check(z.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (a-z, 0-9, -)')),
  title: z.string().check(z.minLength(3), z.maxLength(100)),
  cause: z.enum(CAUSES),
  severity: z.enum(SEVERITIES),
  /**
   * Precedence: higher wins. Bands: 90–99 exact documented messages, 70–89 message
   * families, 40–69 stop-code or exit-code rules, 10–39 generic fallbacks.
   */
  priority: z.int().check(z.minimum(0), z.maximum(100)),
  step: z.optional(z.enum(STEPS)),
  endpoints: z._default(z.array(z.enum(ENDPOINTS)), []),
  /** Read the task's network even though the cause is not `network` (e.g. EFS mount failures). */
  inspectNetwork: z.optional(z.boolean()),
  /** One match block, or a list of alternative blocks (any may match). */
  match: z.union([matchBlockSchema, z.array(matchBlockSchema).check(z.minLength(1))]),
  explanation: text(10),
  remediation: z._default(z.array(text(3)), []),
  docs: z._default(z.array(z.url()), []),
  examples: z.array(exampleSchema).check(z.minLength(1)),
  /** Why the pattern has fewer than two real examples (the catalog asks for two where two exist). */
  exampleScarcity: z.optional(text(10)),
  counterExamples: z._default(z.array(exampleSchema), []),
});

/** A pattern file as written. */
export type PatternFile = z.output<typeof patternFileSchema>;
/** One example or counter-example of a pattern. */
export type PatternExample = PatternFile['examples'][number];
