import { describe, expect, it } from 'vitest';
import { fillPlaceholders, placeholdersOf } from '../../functions/core/template';

describe('fillPlaceholders', () => {
  it('fills known values and marks unknown ones', () => {
    expect(
      fillPlaceholders('aws ecs describe-services --cluster {{cluster}} --region {{ region }} {{service}}', {
        cluster: 'prod',
        region: 'eu-west-1',
        service: '',
      }),
    ).toBe('aws ecs describe-services --cluster prod --region eu-west-1 <service>');
  });

  it('leaves text without placeholders alone', () => {
    expect(fillPlaceholders('no {holes} here', {})).toBe('no {holes} here');
  });

  it('lists the names a text uses', () => {
    expect(placeholdersOf('{{a}} and {{ b }} and {c}')).toEqual(['a', 'b']);
  });
});
