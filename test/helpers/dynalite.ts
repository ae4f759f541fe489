import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll } from 'vitest';
import { LEDGER_KEY } from '../../functions/adapters/incident-ledger';

/** A dynalite server on a random loopback port, with the ledger's table created. */
export interface DynaliteServer {
  /** `http://127.0.0.1:PORT`, for the client `endpoint`. */
  readonly url: string;
  /** The ledger table, created with the key schema the CDK app gives it. */
  readonly tableName: string;
  /** A DynamoDB client for this server with dummy credentials; destroyed when the server closes. */
  client(overrides?: DynamoDBClientConfig): DynamoDBClient;
  /** Creates another ledger table (for a test that needs an empty one) and returns its name. */
  createLedgerTable(name: string): Promise<string>;
  close(): Promise<void>;
}

/** The table name {@link startDynalite} creates. */
export const LEDGER_TABLE = 'ecs-stop-doctor-ledger';

/**
 * Client settings for an AWS-compatible endpoint on loopback: dummy credentials and region,
 * so the SDK never reads the environment, the shared config files or instance metadata.
 */
export function loopbackClientConfig(url: string, overrides: DynamoDBClientConfig = {}): DynamoDBClientConfig {
  return {
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIADYNALITEEXAMPLE', secretAccessKey: 'dynalite-secret' },
    ...overrides,
  };
}

/**
 * Starts an in-memory dynalite and creates the ledger table: partition key `pk` (S), no sort
 * key, on-demand billing. dynalite has no UpdateTimeToLive, so the table's TTL setting
 * (`expiresAt`) is not declared here and nothing expires; tests read `expiresAt` back instead.
 */
export async function startDynalite(): Promise<DynaliteServer> {
  // Zero delays: tables are ACTIVE at once, so setup costs milliseconds.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const clients: DynamoDBClient[] = [];
  const client = (overrides: DynamoDBClientConfig = {}) => {
    const created = new DynamoDBClient(loopbackClientConfig(url, overrides));
    clients.push(created);
    return created;
  };
  const admin = client();
  const createLedgerTable = async (name: string) => {
    await admin.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: LEDGER_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: LEDGER_KEY, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // Even with createTableMs 0 the table turns ACTIVE on a timer, after CreateTable answers.
    for (let attempt = 0; attempt < 200; attempt++) {
      const { Table } = await admin.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return name;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`dynalite table ${name} did not become ACTIVE`);
  };
  await createLedgerTable(LEDGER_TABLE);
  return {
    url,
    tableName: LEDGER_TABLE,
    client,
    createLedgerTable,
    close: async () => {
      for (const created of clients) created.destroy();
      // The SDK keeps sockets alive; without this, close waits for them to idle out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** One dynalite server for a test file, started before its tests and closed after. Returns a getter. */
export function useDynalite(): () => DynaliteServer {
  let server: DynaliteServer | undefined;
  beforeAll(async () => {
    server = await startDynalite();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('dynalite starts in beforeAll');
    return server;
  };
}
