import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../../src/main/cli/args';
import { defaultDatabasePath, userDataDir } from '../../../src/main/cli/paths';

describe('marrowcount command line', () => {
  it('reads analyze with its defaults', () => {
    expect(parseArgs(['analyze', 'cases/BM-1'])).toEqual({
      command: 'analyze',
      folder: 'cases/BM-1',
      db: null,
      patient: 'DEMO',
      caseId: null,
      model: null,
      json: false,
      report: null,
      cellsCsv: null,
      batchSize: null,
      user: null,
      confirmSharedCrops: null,
    });
  });

  it('reads --confirm-shared-crops with its reason, trimmed', () => {
    expect(parseArgs(['analyze', 'f', '--confirm-shared-crops', '  Re-scan of the same slide for the twin  '])).toMatchObject({
      confirmSharedCrops: 'Re-scan of the same slide for the twin',
    });
  });

  it('accepts options before or after the folder, as --name value or --name=value', () => {
    expect(parseArgs(['analyze', '--patient=MRN-1', 'f', '--case', 'BM 7', '--json', '--batch-size', '16'])).toMatchObject({
      folder: 'f',
      patient: 'MRN-1',
      caseId: 'BM 7',
      json: true,
      batchSize: 16,
    });
  });

  it.each([
    [[], 'No command given.'],
    [['analyse-all', 'f'], 'Unknown command "analyse-all".'],
    [['analyze'], 'analyze needs the folder of cell images.'],
    [['analyze', 'a', 'b'], 'analyze takes one folder; got 2: a, b.'],
    [['analyze', 'f', '--db'], '--db needs a value.'],
    [['analyze', 'f', '--db', '--json'], '--db needs a value.'],
    [['analyze', 'f', '--case', 'x', '--case', 'y'], '--case is given twice.'],
    [['analyze', 'f', '--json=yes'], '--json takes no value.'],
    [['analyze', 'f', '--batch-size', '0'], '--batch-size must be a whole number from 1 to 1024, not "0".'],
    [['analyze', 'f', '--patient', ' '], '--patient must not be blank.'],
    [['analyze', 'f', '--confirm-shared-crops', '   '], '--confirm-shared-crops needs the reason, not a blank.'],
    [['analyze', 'f', '--confirm-shared-crops'], '--confirm-shared-crops needs a value.'],
    [['analyze', 'f', '--verbose'], 'Unknown option "--verbose".'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('answers --help anywhere on the line', () => {
    expect(parseArgs(['analyze', 'f', '--help'])).toEqual({ command: 'help' });
    expect(parseArgs(['-h'])).toEqual({ command: 'help' });
  });

  it('keeps the database where the desktop app keeps it (Electron userData of "MarrowCount")', () => {
    expect(userDataDir({ XDG_CONFIG_HOME: '/home/tech/.cfg' }, 'linux')).toBe('/home/tech/.cfg/MarrowCount');
    const env = { XDG_CONFIG_HOME: '/home/tech/.cfg' };
    expect(defaultDatabasePath(env)).toBe(join(userDataDir(env), 'marrowcount.sqlite'));
    expect(defaultDatabasePath({ MARROWCOUNT_DB: '/srv/lab.sqlite' })).toBe('/srv/lab.sqlite');
    expect(userDataDir({ APPDATA: 'C:\\Users\\t\\AppData\\Roaming' }, 'win32')).toContain('MarrowCount');
  });
});
