import { expect } from 'vitest';
import { AwsCallError } from '../../functions/adapters/aws-call-error';

/** The error a promise rejected with (fails the test when it resolved), for assertions on its fields. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) expect.fail('expected the promise to reject, but it resolved');
  return outcome.resolved ? undefined : outcome.error;
}

/** The {@link AwsCallError} an adapter call rejected with. */
export async function awsFailure(promise: Promise<unknown>): Promise<AwsCallError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(AwsCallError);
  return error as AwsCallError;
}
