import { describe, expect, it } from 'vitest';
import { API_METHODS, MarrowApiError } from '../../../src/shared/api';
import { createHttpApi, type Fetch } from '../../../src/renderer/src/api/http-client';

function fakeFetch(answer: (url: string, body: unknown) => { status: number; text: string }) {
  const calls: { url: string; body: unknown }[] = [];
  const fetchFn: Fetch = async (url, init) => {
    const body: unknown = JSON.parse(String(init.body));
    calls.push({ url, body });
    const { status, text } = answer(url, body);
    return new Response(text, { status });
  };
  return { fetchFn, calls };
}

describe('HTTP transport of MarrowApi', () => {
  it('has a function for every method of the contract', () => {
    const api = createHttpApi(fakeFetch(() => ({ status: 200, text: '{"ok":true,"value":null}' })).fetchFn);
    for (const method of API_METHODS) expect(typeof api[method]).toBe('function');
  });

  it('posts the arguments to /api/<method> and unwraps the value', async () => {
    const { fetchFn, calls } = fakeFetch(() => ({ status: 200, text: JSON.stringify({ ok: true, value: [] }) }));
    const api = createHttpApi(fetchFn);
    await expect(api.listCases({ search: 'MRN1' })).resolves.toEqual([]);
    expect(calls).toEqual([{ url: '/api/listCases', body: { args: [{ search: 'MRN1' }] } }]);
  });

  it('throws MarrowApiError with the kind and field of a failed call', async () => {
    const error = { kind: 'validation', message: 'Enter the accession number.', field: 'accession' };
    const api = createHttpApi(fakeFetch(() => ({ status: 400, text: JSON.stringify({ ok: false, error }) })).fetchFn);
    const caught = await api.getCase(1).catch((thrown: unknown) => thrown);
    expect(caught).toBeInstanceOf(MarrowApiError);
    expect(caught).toMatchObject({ kind: 'validation', field: 'accession', message: 'Enter the accession number.' });
  });

  it('reports a body that is not JSON as an internal error naming the method and status', async () => {
    const api = createHttpApi(fakeFetch(() => ({ status: 502, text: '<html>Bad gateway</html>' })).fetchFn);
    await expect(api.getAbout()).rejects.toMatchObject({ kind: 'internal', message: expect.stringContaining('getAbout') });
    await expect(api.getAbout()).rejects.toThrow(/HTTP 502/);
  });

  it('reports an unreachable service as an io error', async () => {
    const api = createHttpApi(async () => {
      throw new TypeError('fetch failed');
    });
    await expect(api.getSettings()).rejects.toMatchObject({ kind: 'io', message: expect.stringContaining('fetch failed') });
  });
});
