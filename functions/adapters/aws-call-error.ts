import { DoctorError } from '../core/errors';
import type { UnavailableFact } from '../core/network/facts';

/** Why an AWS call gave no answer; decides the wording and whether a permission is named. */
export type AwsFailureKind = 'denied' | 'throttled' | 'timeout' | 'not-found' | 'failed';

/**
 * An AWS call that failed, translated once at the adapter boundary: which call, why, and
 * the IAM action to grant when the failure was a permission error. Callers never see SDK
 * error types.
 */
export class AwsCallError extends DoctorError {
  override readonly name: string = 'AwsCallError';
  constructor(
    /** The API operation, e.g. `DescribeVpcEndpoints`. */
    readonly call: string,
    readonly kind: AwsFailureKind,
    readonly reason: string,
    /** The IAM action that was denied (`ec2:DescribeVpcEndpoints`), for `denied`. */
    readonly permission?: string,
    options?: { cause?: unknown },
  ) {
    super(`${call} failed: ${reason}`, options);
  }

  /** The same failure as the facts model records it. */
  toUnavailable(): UnavailableFact {
    return { call: this.call, reason: this.reason, ...(this.permission ? { permission: this.permission } : {}) };
  }
}

/** Error codes meaning "you may not": EC2 says UnauthorizedOperation, JSON services AccessDenied(Exception). */
const DENIED = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
]);
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
]);
const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'AuthFailure',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
]);

/**
 * Translates whatever an SDK `send` threw into an {@link AwsCallError}. `service` is the
 * IAM prefix (`ec2`, `ecs`) used to name the permission.
 */
export function toAwsCallError(error: unknown, service: string, call: string): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const err = error as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = err?.Code ?? err?.name ?? 'Error';
  const message = (err?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const status = err?.$metadata?.httpStatusCode;
  if (code === 'AbortError' || code === 'TimeoutError' || /aborted|timed? ?out|ETIMEDOUT/i.test(message)) {
    return new AwsCallError(call, 'timeout', `no answer in time (${message})`, undefined, { cause: error });
  }
  if (DENIED.has(code)) {
    return new AwsCallError(call, 'denied', `${code}: ${message}`, `${service}:${call}`, { cause: error });
  }
  if (THROTTLED.has(code)) {
    return new AwsCallError(call, 'throttled', `throttled by AWS after retries (${code})`, undefined, {
      cause: error,
    });
  }
  if (CREDENTIALS.has(code)) {
    return new AwsCallError(call, 'failed', `no usable AWS credentials (${code}: ${message})`, undefined, {
      cause: error,
    });
  }
  if (/NotFound/.test(code)) {
    return new AwsCallError(call, 'not-found', `${code}: ${message}`, undefined, { cause: error });
  }
  const where = status ? `HTTP ${status} ` : '';
  return new AwsCallError(call, 'failed', `${where}${code}: ${message}`, undefined, { cause: error });
}
