// The real built CLI (bin/marrowcount → out/main/cli.js), spawned as a user runs it: real worker bundle, real ONNX
// model, real SQLite file in the per-user data folder (pointed at a temp folder through XDG_CONFIG_HOME).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Differential } from '../../../src/shared/differential';
import { closeDatabase, openDatabase } from '../../../src/main/db';

const REPO = resolve(import.meta.dirname, '../../..');
const BIN = join(REPO, 'bin/marrowcount');
const TINY = join(REPO, 'test/fixtures/models/tiny');
const GOOD = join(REPO, 'test/fixtures/crops/good');
const BROKEN = join(REPO, 'test/fixtures/crops/broken');
const DEMO = join(REPO, 'resources/demo/case-001');
const BUNDLED_MODEL = join(REPO, 'resources/models/marrowcount-ref/model.onnx');
const GOOD_CROP_COUNT = 11;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((t) => rmSync(t, { recursive: true, force: true })));

function newHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'marrowcount-cli-'));
  temps.push(dir);
  return dir;
}

function marrowcount(args: string[], home: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(home, 'config') };
  delete env['MARROWCOUNT_DB'];
  delete env['MARROWCOUNT_MODEL_DIR'];
  return new Promise((done) => {
    execFile('sh', [BIN, ...args], { cwd: REPO, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

function caseWith(home: string, name: string, withBroken: boolean): string {
  const folder = join(home, name);
  cpSync(GOOD, folder, { recursive: true });
  if (withBroken) cpSync(BROKEN, join(folder, 'broken'), { recursive: true });
  return folder;
}

interface JsonOutput {
  case: { id: number; accession: string; patient: string; status: string };
  analysis: { phase: string; done: number; total: number };
  differential: Differential;
  review: { flagged: number };
  failures: { file: string; reason: string }[];
  report: string | null;
}

describe('marrowcount CLI', () => {
  it('prints its usage with --help', async () => {
    const run = await marrowcount(['--help'], newHome());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('marrowcount analyze <folder>');
    expect(run.stdout).toMatch(/Exit codes: 0 analysed, 1 bad usage, 2 .*some files failed/);
  });

  it('exits 1 naming an unknown option, with the usage', async () => {
    const run = await marrowcount(['analyze', GOOD, '--colour'], newHome());
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('Unknown option "--colour"');
    expect(run.stderr).toContain('Usage:');
  });

  it('exits 1 naming a folder that does not exist', async () => {
    const home = newHome();
    const missing = join(home, 'no-such-case');
    const run = await marrowcount(['analyze', missing], home);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`The folder ${missing} does not exist.`);
    // One error line and a hint, not the whole usage that would bury it.
    expect(run.stderr.trim().split('\n')).toEqual([`marrowcount: The folder ${missing} does not exist.`, expect.stringMatching(/^Hint: give the folder/)]);
    expect(run.stderr).not.toContain('Usage:');
  });

  it('exits 1 naming a folder without cell images, and creates no case', async () => {
    const home = newHome();
    const empty = join(home, 'BM-EMPTY');
    mkdirSync(empty);
    const db = join(home, 'cases.sqlite');
    const run = await marrowcount(['analyze', empty, '--db', db, '--model', TINY], home);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${empty} holds no cell images`);
    const rerun = await marrowcount(['analyze', GOOD, '--db', db, '--model', TINY, '--case', 'BM-EMPTY', '--json'], home);
    expect(rerun.code, rerun.stderr).toBe(0);
  });

  it("refuses in one line a folder whose crops are another patient's case, and files it with --confirm-shared-crops", async () => {
    const home = newHome();
    const db = join(home, 'cases.sqlite');
    const first = await marrowcount(['analyze', caseWith(home, 'BM-A', false), '--db', db, '--model', TINY, '--patient', 'MRN-A', '--json'], home);
    expect(first.code, first.stderr).toBe(0);
    // The same crops copied to another folder, for another patient.
    const second = caseWith(home, 'BM-B', false);
    const refused = await marrowcount(['analyze', second, '--db', db, '--model', TINY, '--patient', 'MRN-B'], home);
    expect(refused.code, refused.stderr).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^marrowcount: The crops in .* are already filed under another patient: /),
      expect.stringMatching(/^Hint: .*--confirm-shared-crops/),
    ]);
    expect(lines[0]).toContain(`case BM-A of patient MRN-A (no name on record) holds ${GOOD_CROP_COUNT} of the folder's ${GOOD_CROP_COUNT} files`);
    const confirmed = await marrowcount(
      ['analyze', second, '--db', db, '--model', TINY, '--patient', 'MRN-B', '--json', '--confirm-shared-crops', 'Same slide, scanned for the study twin'],
      home,
    );
    expect(confirmed.code, confirmed.stderr).toBe(0);
    const out = JSON.parse(confirmed.stdout) as JsonOutput;
    expect(out.case).toMatchObject({ accession: 'BM-B', patient: 'MRN-B' });
    const database = openDatabase(db);
    try {
      const rows = database.raw
        .prepare('SELECT c.accession AS other, s.shared_files, s.reason FROM shared_crops_confirmations AS s JOIN cases AS c ON c.id = s.other_case_id')
        .all();
      expect(rows).toEqual([{ other: 'BM-A', shared_files: GOOD_CROP_COUNT, reason: 'Same slide, scanned for the study twin' }]);
    } finally {
      closeDatabase(database);
    }
  });

  it('analyses a folder into the per-user database and prints the differential', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0001', false);
    const run = await marrowcount(['analyze', folder, '--model', TINY], home);
    expect(run.stderr).not.toContain('Error');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Case BM-0001 · patient DEMO');
    expect(run.stdout).toContain('Differential (nucleated differential count, NDC = ');
    expect(run.stdout).toContain('Excluded from the NDC:');
    expect(run.stdout).toMatch(/Total cells counted: 11 \(NDC \d+ \+ \d+ excluded\)/);
    expect(run.stdout).toMatch(/Blasts \(BLA \+ FGC\): \d+ cells/);
    expect(run.stdout).toContain('M:E ratio:');
    expect(run.stdout).toMatch(/Count target: \d+ of 500 nucleated cells/);
    expect(run.stdout).toMatch(/Flagged for review: \d+ cells/);
    expect(existsSync(join(home, 'config', 'MarrowCount', 'marrowcount.sqlite'))).toBe(true);
    // It says where the case went (the database the desktop app opens).
    expect(run.stdout).toContain(`Database: ${join(home, 'config', 'MarrowCount', 'marrowcount.sqlite')}`);
  });

  it('exits 2 and lists each failed file when broken files are among the crops', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0002', true);
    const run = await marrowcount(['analyze', folder, '--model', TINY, '--db', join(home, 'lab.sqlite')], home);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toContain('Failed files (5), not counted:');
    for (const name of ['empty.jpg', 'truncated.jpg', 'not-an-image.jpg', 'wrong-size-40px.jpg', 'corrupt-data.jpg']) {
      expect(run.stdout).toContain(`broken/${name}`);
    }
    expect(run.stdout).toMatch(/Total cells counted: 11 /);
  });

  it('prints one JSON object with --json, and a re-run resumes the same case without classifying again', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0003', false);
    const db = join(home, 'lab.sqlite');
    const first = await marrowcount(['analyze', folder, '--model', TINY, '--db', db, '--json', '--patient', 'MRN-7'], home);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout) as JsonOutput;
    expect(out.case).toMatchObject({ accession: 'BM-0003', patient: 'MRN-7', status: 'in_review' });
    expect(out.analysis).toMatchObject({ phase: 'done', done: GOOD_CROP_COUNT, total: GOOD_CROP_COUNT });
    expect(out.differential.totalCellsCounted).toBe(GOOD_CROP_COUNT);
    // Every classified cell is counted once: in the NDC or among the excluded classes.
    const ndc = out.differential.rows.filter((row) => row.inNdc).reduce((sum, row) => sum + row.count, 0);
    const excluded = out.differential.excluded.reduce((sum, row) => sum + row.count, 0);
    expect(ndc).toBe(out.differential.nucleatedDifferentialCount);
    expect(ndc + excluded).toBe(GOOD_CROP_COUNT);

    const again = await marrowcount(['analyze', folder, '--model', TINY, '--db', db, '--json', '--patient', 'MRN-7'], home);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as JsonOutput;
    expect(second.case.id).toBe(out.case.id);
    expect(second.differential).toEqual(out.differential);

    const otherPatient = await marrowcount(['analyze', folder, '--model', TINY, '--db', db], home);
    expect(otherPatient.code, otherPatient.stderr).toBe(1);
    expect(otherPatient.stderr).toContain('Case BM-0003 already exists for patient MRN-7, not DEMO');
  });

  it('exits 3 with the reason when the model package is damaged', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0004', false);
    const model = join(home, 'model');
    cpSync(TINY, model, { recursive: true });
    const json = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { sha256: string };
    json.sha256 = 'f'.repeat(64);
    writeFileSync(join(model, 'model.json'), JSON.stringify(json));
    const run = await marrowcount(['analyze', folder, '--model', model, '--db', join(home, 'lab.sqlite')], home);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`${join(model, 'model.onnx')} does not match its model.json`);
  });

  it('writes the case report with --report', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0005', false);
    const pdf = join(home, 'BM-0005.pdf');
    const run = await marrowcount(['analyze', folder, '--model', TINY, '--db', join(home, 'lab.sqlite'), '--report', pdf], home);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Report written to ${pdf}`);
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('writes one CSV row per classified cell with --cells-csv, matching the stored predictions', async () => {
    const home = newHome();
    const folder = caseWith(home, 'BM-0006', false);
    const csv = join(home, 'BM-0006-cells.csv');
    const db = join(home, 'lab.sqlite');
    const run = await marrowcount(['analyze', folder, '--model', TINY, '--db', db, '--cells-csv', csv, '--json'], home);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { case: { id: number }; cellsCsv: string; differential: Differential };
    expect(summary.cellsCsv).toBe(csv);
    const [header, ...rows] = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    expect(header).toContain('file');
    // One row per stored prediction, and per counted cell of the printed differential.
    const database = openDatabase(db);
    try {
      const stored = database.raw.prepare('SELECT COUNT(*) AS n FROM predictions').get() as { n: number };
      expect(rows).toHaveLength(stored.n);
    } finally {
      closeDatabase(database);
    }
    expect(rows).toHaveLength(summary.differential.totalCellsCounted);
  });

  it.skipIf(!existsSync(DEMO) || !existsSync(BUNDLED_MODEL))('analyses the bundled demo case with the bundled model, as after set-up', async () => {
    const home = newHome();
    const run = await marrowcount(['analyze', DEMO, '--db', join(home, 'lab.sqlite')], home);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Differential (nucleated differential count');
    expect(run.stdout).toMatch(/Blasts \(BLA \+ FGC\): \d+ cells/);
  });
});
