import { describe, expect, it } from 'vitest';
import { MarrowApiError } from '../../../src/shared/api';
import { errorDetail, errorText, isApiError } from '../../../src/renderer/src/api/errors';

describe('renderer error handling', () => {
  it('recognises a MarrowApiError thrown by the HTTP transport, by kind', () => {
    const error = new MarrowApiError({ kind: 'unreviewed', message: '3 flagged cells are unreviewed.' });
    expect(isApiError(error)).toBe(true);
    expect(isApiError(error, 'unreviewed')).toBe(true);
    expect(isApiError(error, 'validation')).toBe(false);
  });

  it('recognises the plain object the Electron bridge delivers instead of the class instance', () => {
    const bridged = { name: 'MarrowApiError', kind: 'validation', message: 'Enter the accession.', field: 'accession' };
    expect(isApiError(bridged, 'validation')).toBe(true);
    expect(errorText(bridged)).toBe('Enter the accession.');
  });

  it('does not take an arbitrary object for an API error', () => {
    expect(isApiError({ message: 'x' })).toBe(false);
    expect(isApiError(null)).toBe(false);
    expect(isApiError('validation')).toBe(false);
  });

  it('always produces readable text, never "[object Object]"', () => {
    expect(errorText(new TypeError('fetch failed'))).toBe('fetch failed');
    expect(errorText({ message: 'plain message' })).toBe('plain message');
    expect(errorText('text')).toBe('text');
    expect(errorText(undefined)).toBe('Unexpected error: undefined');
    expect(errorText({})).not.toContain('[object Object]');
  });

  it('exposes the detail of an API error only when there is one', () => {
    expect(errorDetail(new MarrowApiError({ kind: 'io', message: 'm', detail: 'EACCES' }))).toBe('EACCES');
    expect(errorDetail(new MarrowApiError({ kind: 'io', message: 'm' }))).toBeNull();
    expect(errorDetail(new Error('x'))).toBeNull();
  });
});
