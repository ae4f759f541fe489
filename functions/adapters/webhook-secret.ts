import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DoctorError } from '../core/errors';
import { toAwsCallError } from './aws-call-error';
import type { CallOptions } from './ec2-network';
import { webhookUrlProblem } from './slack-webhook';

/** Where the Slack webhook URL comes from. */
export interface WebhookUrlSource {
  /** The webhook URL; read once and kept. */
  url(options?: CallOptions): Promise<string>;
  /** Drops the kept URL so the next call reads the secret again (after Slack said the hook is gone). */
  forget(): void;
}

/** A secret that does not hold a usable webhook URL; never repeats the secret's value. */
export class WebhookSecretError extends DoctorError {
  override readonly name: string = 'WebhookSecretError';
}

/**
 * The secret holds JSON with an empty `url`, as the CDK app creates it: Slack is not set up
 * yet, so the function skips it (with a warning) instead of failing every alert.
 */
export class WebhookNotSetError extends WebhookSecretError {
  override readonly name: string = 'WebhookNotSetError';
}

/**
 * The Slack incoming-webhook URL from a Secrets Manager secret, read once per warm
 * container. The secret holds the URL itself, or JSON with a `url` (or `webhookUrl`) key.
 */
export class WebhookSecret implements WebhookUrlSource {
  private cached: Promise<string> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  url(options: CallOptions = {}): Promise<string> {
    this.cached ??= this.read(options);
    // A failed read is not kept: the next alert tries again.
    this.cached.catch(() => {
      this.cached = undefined;
    });
    return this.cached;
  }

  forget(): void {
    this.cached = undefined;
  }

  private async read(options: CallOptions): Promise<string> {
    let value: string | undefined;
    try {
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }), {
        abortSignal: options.abortSignal,
      });
      value = output.SecretString;
    } catch (error) {
      throw toAwsCallError(error, 'secretsmanager', 'GetSecretValue');
    }
    const url = webhookUrlIn(value);
    if (url === '' && isUnsetPlaceholder(value))
      throw new WebhookNotSetError(
        `secret ${this.secretArn} has no Slack webhook URL yet; put {"url": "https://hooks.slack.com/services/…"} in it`,
      );
    const problem = url === undefined ? 'it is empty or binary' : webhookUrlProblem(url);
    if (url === undefined || problem)
      throw new WebhookSecretError(
        `secret ${this.secretArn} does not hold a Slack incoming-webhook URL (${problem}); put the URL, or {"url": "https://hooks.slack.com/services/…"}, in the secret`,
      );
    return url;
  }
}

function webhookUrlIn(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (!text.startsWith('{')) return text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const url = json.url ?? json.webhookUrl ?? json.webhook_url;
    return typeof url === 'string' ? url.trim() : '';
  } catch {
    return '';
  }
}

/** `{"url": ""}`: the value the CDK app gives a secret it creates. */
function isUnsetPlaceholder(value: string | undefined): boolean {
  try {
    const json = JSON.parse(value ?? '') as Record<string, unknown>;
    return json.url === '';
  } catch {
    return false;
  }
}
