import type { Endpoint } from './taxonomy';

/** Values pulled out of a stop reason; they decide endpoints and fill remediation text. */
export interface ReasonParams {
  image?: string;
  registryHost?: string;
  registryRegion?: string;
  secretArn?: string;
  parameterName?: string;
  logGroup?: string;
  bucket?: string;
  key?: string;
  address?: string;
  roleArn?: string;
  url?: string;
  /** Named groups of the matched pattern's regular expression. */
  [group: string]: string | undefined;
}

const EXTRACTORS: ReadonlyArray<readonly [keyof ReasonParams, RegExp]> = [
  // Secret names may hold `!` (RDS-managed secrets: `rds!db-…`).
  ['secretArn', /\barn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:[\w/+=.@!-]+/],
  ['parameterName', /\barn:aws[\w-]*:ssm:[\w-]+:\d{12}:parameter(\/[\w/.-]+)/],
  ['roleArn', /\barn:aws[\w-]*:(?:iam::\d{12}:role\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@/-]+)/],
  ['image', /failed to normalize image reference "([^"]+)"/],
  [
    'image',
    /(?:pull access denied for|failed to resolve ref(?:erence)?|The task cannot pull|pull and unpack image) "?([\w.-]+(?::\d+)?\/[\w./-]+(?::[\w.-]+|@sha256:[a-f0-9]{64})?)"?/,
  ],
  // A registry URI with a repository path; `/v2/…` is the registry API, not an image.
  [
    'image',
    /\b(\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/(?!v2\/)[\w./-]*[\w-](?::[\w.-]*\w|@sha256:[a-f0-9]{64})?)/,
  ],
  ['registryHost', /\b(\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)/],
  ['bucket', /\barn:aws[\w-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/],
  ['bucket', /\bs3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/],
  ['key', /\b(?:arn:aws[\w-]*:s3:::|s3:\/\/)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(\S+?)(?=[\s,;'"]|$)/],
  // From a log group ARN (`…:log-group:/ecs/app:log-stream:…`) or the awslogs-group option; prose like
  // "the specified log group does not exist" names no group.
  ['logGroup', /\blog-group:([\w./#-]+)/],
  ['logGroup', /awslogs-group["':= ]+([\w./#-]+)/],
  ['address', /\b(\d{1,3}(?:\.\d{1,3}){3}:\d{1,5})\b/],
  ['url', /\bhttps?:\/\/[^\s"'<>]*[^\s"'<>:.,;)]/],
];

/** Extracts every parameter the text names; the first occurrence of each wins. */
export function extractParams(text: string): ReasonParams {
  const params: ReasonParams = {};
  for (const [name, regex] of EXTRACTORS) {
    if (params[name] !== undefined) continue;
    const match = regex.exec(text);
    if (match) params[name] = match[1] ?? match[0];
  }
  // An ARN in the image field (seed 003) is not a registry reference.
  const image = params.image?.startsWith('arn:') ? undefined : params.image;
  const host = params.registryHost ?? (image ? registryOf(image).host : undefined);
  if (host) {
    params.registryHost = host;
    const region = ecrRegion(host);
    if (region) params.registryRegion = region;
  }
  return params;
}

/** Where an image lives. */
export interface Registry {
  readonly host: string;
  readonly kind: 'ecr' | 'ecr-public' | 'public';
  /** For private ECR: the registry's region. */
  readonly region?: string;
}

/** Finds the registry of an image reference (`nginx` is Docker Hub, as Docker resolves it). */
export function registryOf(image: string): Registry {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const host = isHost ? first : 'docker.io';
  const region = ecrRegion(host);
  if (region) return { host, kind: 'ecr', region };
  if (host === 'public.ecr.aws') return { host, kind: 'ecr-public' };
  return { host, kind: 'public' };
}

function ecrRegion(host: string): string | undefined {
  return /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
}

/**
 * The endpoints an image pull needs. Same-region private ECR is served by VPC endpoints
 * (`ecr.dkr`, `s3` for layers, and `ecr.api` for auth from Fargate 1.4.0 on); anything
 * else (Docker Hub, ghcr.io, quay.io, ECR Public, ECR in another region) needs a path to
 * the internet because VPC endpoints do not serve it.
 */
export function imagePullEndpoints(
  image: string,
  taskRegion: string | undefined,
  platformVersion?: string,
): Endpoint[] {
  const registry = registryOf(image);
  if (registry.kind !== 'ecr' || (taskRegion !== undefined && registry.region !== taskRegion)) return ['internet'];
  // Fargate 1.3.0 and earlier fetch the auth token through the Fargate agent, not ecr.api.
  return /^1\.[0-3]\./.test(platformVersion ?? '') ? ['ecr.dkr', 's3'] : ['ecr.api', 'ecr.dkr', 's3'];
}
