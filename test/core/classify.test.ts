import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../functions/catalog/catalog';
import { classify } from '../../functions/core/classify';
import { normalizeText } from '../../functions/core/text';

const catalog = loadCatalog();
const SEED_000 =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:ap-northeast-1:5394593...';

describe('classify', () => {
  it('classifies seed 000 (secretsmanager private DNS off) as network needing secretsmanager', () => {
    const result = classify({ stoppedReason: SEED_000, containers: [] }, catalog);
    expect(result).toMatchObject({
      cause: 'network',
      patternId: 'secrets-manager-unreachable',
      endpoints: ['secretsmanager'],
    });
    expect(result.matched?.truncated).toBe(true);
  });

  it('prefers a specific container reason over a generic task reason', () => {
    const result = classify(
      {
        stoppedReason: 'Essential container in task exited',
        stopCode: 'EssentialContainerExited',
        containers: [
          { name: 'log-router', exitCode: 0 },
          { name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        ],
      },
      catalog,
    );
    expect(result).toMatchObject({ patternId: 'out-of-memory', matched: { origin: 'container', container: 'app' } });
  });

  it('reads the reason from a container when the task reason says nothing', () => {
    const result = classify(
      {
        stoppedReason: 'Essential container in task exited',
        containers: [
          {
            name: 'web',
            reason:
              'CannotPullContainerError: API error (500): Get https://123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection',
          },
        ],
      },
      catalog,
    );
    expect(result.patternId).toBe('image-pull-unreachable');
  });

  it('matches typographic and straight apostrophes alike', () => {
    for (const apostrophe of ["'", '’']) {
      const text = `The task can${apostrophe}t pull the image. Check that the role has the permissions to pull images from the registry.`;
      expect(classify({ stoppedReason: text, containers: [] }, catalog).patternId).toBe('ecr-pull-permission-denied');
    }
  });

  it.each([
    [
      'a same-region ECR image on Fargate 1.4.0',
      '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/web:1',
      '1.4.0',
      ['ecr.api', 'ecr.dkr', 's3'],
    ],
    [
      'a same-region ECR image on Fargate 1.3.0',
      '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/web:1',
      '1.3.0',
      ['ecr.dkr', 's3'],
    ],
    ['an ECR image in another region', '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1', '1.4.0', ['internet']],
    ['a Docker Hub image', 'nginx:1.27', '1.4.0', ['internet']],
    ['a ghcr.io image', 'ghcr.io/org/app:2', '1.4.0', ['internet']],
    ['an ECR Public image', 'public.ecr.aws/nginx/nginx:1', '1.4.0', ['internet']],
  ])('sets pull endpoints for %s', (_name, image, platformVersion, endpoints) => {
    const result = classify(
      {
        stoppedReason: 'CannotPullContainerError: The task can’t pull the image. Check your network configuration',
        region: 'ap-northeast-1',
        platformVersion,
        containers: [{ name: 'app', image, reason: 'CannotPullContainerError: context deadline exceeded' }],
      },
      catalog,
    );
    expect(result.cause).toBe('network');
    expect(result.endpoints).toEqual(endpoints);
    expect(result.params.image).toBe(image);
  });

  it('extracts parameters from the matched text', () => {
    const result = classify(
      {
        stoppedReason:
          'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": dial tcp 52.46.128.2:443: i/o timeout. Please check your task network configuration.',
        containers: [],
      },
      catalog,
    );
    expect(result.params).toMatchObject({
      address: '52.46.128.2:443',
      url: 'https://api.ecr.us-east-1.amazonaws.com/',
    });
  });

  it('returns unknown with the raw text when nothing matches', () => {
    const result = classify({ stoppedReason: 'Something new went wrong', containers: [] }, catalog);
    expect(result).toMatchObject({
      cause: 'unknown',
      patternId: null,
      endpoints: [],
      matched: { text: 'Something new went wrong' },
    });
  });

  it('returns unknown with no matched text for an empty stop', () => {
    expect(classify({ containers: [] }, catalog)).toMatchObject({ cause: 'unknown', matched: null });
  });
});

describe('normalizeText', () => {
  it.each([
    ['can’t “quoted”', 'can\'t "quoted"', false],
    ['  line one\n  line two  ', 'line one line two', false],
    ['cut here…', 'cut here', true],
    ['cut here...', 'cut here', true],
    ['Your Spot Task was interrupted.', 'Your Spot Task was interrupted.', false],
    ['...', '...', false],
  ])('normalises %j', (raw, text, truncated) => {
    expect(normalizeText(raw)).toEqual({ text, truncated });
  });
});
