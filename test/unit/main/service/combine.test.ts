import { describe, expect, it } from 'vitest';
import { combineAreas, DuplicateMethodError } from '../../../../src/main/service/combine';

describe('combineAreas (merging the service areas)', () => {
  it('keeps every method of every area', async () => {
    const api = combineAreas({ getSettings: async () => 'settings' }, { getAbout: async () => 'about' });
    expect(Object.keys(api).sort()).toEqual(['getAbout', 'getSettings']);
    expect(await api.getAbout()).toBe('about');
  });

  it('refuses a method that two areas define, naming it', () => {
    const call = () => combineAreas({ getSettings: async () => 1 }, { getAbout: async () => 2 }, { getSettings: async () => 3 });
    expect(call).toThrow(DuplicateMethodError);
    expect(call).toThrow(/getSettings is defined by two service areas/);
  });
});
