import { describe, expect, it } from 'vitest';
import { validateArgs } from '../../../../src/main/boundary/validate';

// The arity is read from the checks table (NO_ARGS or a one-argument check), no longer from a second list.
describe('argument count read from the checks', () => {
  it('refuses an argument to a method that takes none', () => {
    expect(() => validateArgs('getSettings', [1])).toThrow('getSettings takes 0 argument(s); got 1.');
    expect(validateArgs('getSettings', [])).toEqual([]);
  });

  it('refuses a second argument to a method that takes one', () => {
    expect(() => validateArgs('getCase', [1, 2])).toThrow('getCase takes 1 argument(s); got 2.');
    expect(validateArgs('getCase', [7])).toEqual([7]);
  });
});
