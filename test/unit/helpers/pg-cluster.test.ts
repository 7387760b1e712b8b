// The PostgreSQL test set-up must never let CI pass without PostgreSQL: locally a missing server skips the engine's
// tests with the reason printed; under CI it is an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findPostgres, postgresUnavailable } from '../../helpers/pg-cluster';

const ci = process.env['CI'];
afterEach(() => {
  if (ci === undefined) delete process.env['CI'];
  else process.env['CI'] = ci;
  vi.restoreAllMocks();
});

describe('PostgreSQL test set-up without PostgreSQL', () => {
  it('names the missing installation', () => {
    expect(findPostgres('/nonexistent/postgresql')).toEqual({
      reason: "PostgreSQL is not installed (no /nonexistent/postgresql); install Debian's postgresql package",
    });
  });

  it('skips with the reason printed when not on CI', () => {
    delete process.env['CI'];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(postgresUnavailable('/nonexistent/postgresql')).toMatch(/not installed/);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^PostgreSQL tests skipped: PostgreSQL is not installed/));
  });

  it('fails under CI instead of skipping', () => {
    process.env['CI'] = 'true';
    expect(() => postgresUnavailable('/nonexistent/postgresql')).toThrow(/PostgreSQL tests cannot run on CI: PostgreSQL is not installed/);
  });
});
