import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../functions/catalog/catalog';
import { DEFAULT_ALERT_POLICY, diagnose, type NetworkResult, shouldAlert } from '../../functions/core/diagnosis';
import type { StoppedTask } from '../../functions/core/stopped-task';

const catalog = loadCatalog();
const task = (stoppedReason: string, extra: Partial<StoppedTask> = {}): StoppedTask => ({
  taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/c/abc',
  stoppedReason,
  containers: [],
  ...extra,
});
const ASM_TIMEOUT =
  'ResourceInitializationError: unable to pull secrets or registry auth: There is a connection issue between the task and AWS Secrets Manager. Check your task network configuration. failed to fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 0, RequestID: , canceled, context deadline exceeded';

describe('diagnose', () => {
  it('alerts on failures and stays quiet on expected stops by default', () => {
    expect(diagnose(task(ASM_TIMEOUT), catalog).alert).toBe(true);
    expect(diagnose(task('Task stopped by user', { stopCode: 'UserInitiated' }), catalog).alert).toBe(false);
  });

  it('says why the network was not checked when the cause calls for it', () => {
    const d = diagnose(task(ASM_TIMEOUT), catalog, { networkUnavailable: 'no facts in this test' });
    expect(d.network).toEqual({ status: 'skipped', reason: 'no facts in this test' });
    expect(d.findings).toEqual([]);
  });

  it('skips the network check for causes that are not network', () => {
    const d = diagnose(task('Task failed container health checks'), catalog);
    expect(d.network).toEqual({ status: 'skipped', reason: 'cause is application: no network check needed' });
  });

  it('carries the network result and its findings when supplied', () => {
    const network: NetworkResult = {
      status: 'checked',
      reason: 'read from a snapshot',
      findings: [
        {
          id: 'endpoint-present',
          status: 'fail',
          endpoint: 'secretsmanager',
          message: 'no endpoint',
          evidence: ['vpc-1'],
          fix: null,
        },
      ],
    };
    const d = diagnose(task(ASM_TIMEOUT), catalog, { network });
    expect(d.network).toEqual({ status: 'checked', reason: 'read from a snapshot' });
    expect(d.findings).toEqual(network.findings);
  });

  it('fills the contract fields', () => {
    const d = diagnose(
      task(ASM_TIMEOUT, { region: 'us-east-1', cluster: 'c', eni: { subnetId: 'subnet-1' } }),
      catalog,
    );
    expect(d).toMatchObject({
      kind: 'diagnosis',
      taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/c/abc',
      alert: true,
      cause: 'network',
      patternId: 'secrets-manager-unreachable',
      endpoints: ['secretsmanager'],
      subnetId: 'subnet-1',
      params: { secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf' },
    });
  });
});

describe('shouldAlert', () => {
  it.each([
    ['network', 'high', true],
    ['expected', 'info', false],
    ['unknown', 'medium', true],
  ] as const)('default policy: %s/%s -> %s', (cause, severity, alert) => {
    expect(shouldAlert({ cause, severity }, DEFAULT_ALERT_POLICY)).toBe(alert);
  });

  it('honours a minimum severity and a cause list', () => {
    const policy = { causes: new Set(['network'] as const), minSeverity: 'high' as const };
    expect(shouldAlert({ cause: 'network', severity: 'medium' }, policy)).toBe(false);
    expect(shouldAlert({ cause: 'network', severity: 'critical' }, policy)).toBe(true);
    expect(shouldAlert({ cause: 'application', severity: 'critical' }, policy)).toBe(false);
  });
});
