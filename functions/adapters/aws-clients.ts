import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { Ec2Network } from './ec2-network';
import { EcsTasks } from './ecs-task';
import type { AwsPorts } from './network-facts-reader';

/** How the SDK clients are built. Everything else comes from the standard SDK chain. */
export interface AwsClientOptions {
  /** A named profile from the shared config files; otherwise AWS_PROFILE or the default chain. */
  readonly profile?: string;
  /** Attempts per call, retries included (adaptive mode also paces calls after throttling). @default 4 */
  readonly maxAttempts?: number;
  /** Per-request socket timeout. @default 5000 */
  readonly requestTimeoutMs?: number;
}

/**
 * Builds the EC2 and ECS readers for a region with the standard SDK chain: credentials,
 * profile, `AWS_ENDPOINT_URL` and per-service `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL_ECS`
 * are honoured, so the same code runs against AWS or any AWS-compatible endpoint. Retries use
 * the SDK's adaptive mode, which backs off and rate-limits itself after throttling errors.
 */
export function awsPorts(options: AwsClientOptions = {}): (region: string) => AwsPorts {
  return (region) => {
    const config = clientConfig(options, region);
    return { ec2: new Ec2Network(new EC2Client(config)), ecs: new EcsTasks(new ECSClient(config)) };
  };
}

/** The clients that deliver alerts and keep the ledger, in the function's own region (the SDK chain's). */
export interface DeliveryClients {
  readonly sns: SNSClient;
  readonly secrets: SecretsManagerClient;
  readonly dynamodb: DynamoDBClient;
}

/**
 * Builds the delivery clients lazily, each on first use, so a function without Slack, SNS or
 * a ledger never creates (or pays the start-up of) the client it does not use.
 */
export function deliveryClients(options: AwsClientOptions = {}): DeliveryClients {
  const config = clientConfig(options);
  let sns: SNSClient | undefined;
  let secrets: SecretsManagerClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  return {
    get sns() {
      sns ??= new SNSClient(config);
      return sns;
    },
    get secrets() {
      secrets ??= new SecretsManagerClient(config);
      return secrets;
    },
    get dynamodb() {
      dynamodb ??= new DynamoDBClient(config);
      return dynamodb;
    },
  };
}

function clientConfig(options: AwsClientOptions, region?: string) {
  return {
    ...(region ? { region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 4,
    // Without throwOnRequestTimeout the SDK only logs a warning when a request runs over and
    // keeps waiting; a silent endpoint would then hold the call until the caller's deadline.
    requestHandler: {
      connectionTimeout: 3000,
      requestTimeout: options.requestTimeoutMs ?? 5000,
      throwOnRequestTimeout: true,
    },
  } as const;
}

/**
 * The region the standard SDK chain would use (AWS_REGION, then the profile's `region`), or
 * undefined when none is configured.
 */
export async function defaultRegion(profile?: string): Promise<string | undefined> {
  const client = new EC2Client(profile ? { profile } : {});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}
