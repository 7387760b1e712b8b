// kill -9 of the process running an analysis (the headless CLI, whose worker thread writes the predictions), on a
// SQLite file and on a PostgreSQL database: a separate process, opening the database by location, killed while it
// classifies. The database keeps whole batches only; the same command run again resumes the case where the stored
// batches end, and at the end every crop is classified exactly once, with the derived counts matching.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openRawSql, type RawSql } from '../db/raw-sql';
import { ENGINES, GOOD_CROPS, REPO, TINY_MODEL, usePostgres } from './helpers';

const FILES = 200;
const BATCH = 4;
const pgSetup = usePostgres();
const root = mkdtempSync(join(tmpdir(), 'marrowcount-kill-analysis-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const opened: RawSql[] = [];
afterEach(async () => {
  for (const raw of opened.splice(0)) await raw.close();
});

/** FILES distinct crops: the fixture JPEGs with a few bytes after the image data, so each has its own hash. */
function bigFolder(name: string): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  const sources = readdirSync(GOOD_CROPS).filter((f) => f.endsWith('.jpg'));
  for (let i = 0; i < FILES; i++) {
    const source = sources[i % sources.length]!;
    writeFileSync(join(folder, `${String(i).padStart(4, '0')}-${source}`), Buffer.concat([readFileSync(join(GOOD_CROPS, source)), Buffer.from(`copy ${i}`)]));
  }
  return folder;
}

/**
 * Runs `marrowcount analyze` from source in a child process. With `killAt`, SIGKILLs it as soon as its progress
 * (on stderr, one line per tenth) shows at least that many cells classified; else lets it finish.
 */
function analyze(args: string[], killAt: number | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/main/cli.ts'), 'analyze', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MARROWCOUNT_MODEL_DIR: TINY_MODEL },
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const done = [...stderr.matchAll(/(\d+)\/\d+ cells,/g)].map((m) => Number(m[1]));
      if (killAt !== null && !killed && done.some((n) => n >= killAt)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

describe.each(ENGINES)('an analysis killed with SIGKILL while classifying on %s', (engine) => {
  it.skipIf(engine === 'postgres' && pgSetup.unavailable !== null)(
    'keeps whole batches, and the same command resumes it: every crop classified exactly once',
    async () => {
      const location = engine === 'sqlite' ? join(root, 'lab.sqlite') : await pgSetup.freshUrl();
      const folder = bigFolder(`case-${engine}`);
      const args = [folder, '--db', location, '--model', TINY_MODEL, '--patient', 'KILL', '--case', 'KILL-1', '--batch-size', String(BATCH)];

      const first = await analyze(args, FILES / 5);
      expect(first.signal, first.stderr).toBe('SIGKILL');

      const raw = openRawSql(location);
      opened.push(raw);
      const [kase] = await raw.sql<{ id: number; status: string }>(`SELECT id, status FROM cases WHERE accession = 'KILL-1'`);
      expect(kase, 'the case was stored before the kill').toBeDefined();
      const caseId = kase!.id;
      const [killedAt] = await raw.sql<{ n: number; images: number }>(
        'SELECT count(*) AS n, count(DISTINCT image_id) AS images FROM predictions WHERE case_id = ?',
        [caseId],
      );
      // Killed part-way (files are imported as the run goes): some batches stored, each once; not all of them.
      expect(killedAt!.n).toBe(killedAt!.images);
      expect(killedAt!.n).toBeGreaterThan(0);
      expect(killedAt!.n).toBeLessThan(FILES);
      expect(await countedCells(raw, caseId)).toBe(killedAt!.n);

      const resumed = await analyze(args, null);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain('KILL-1');
      const [after] = await raw.sql<{ n: number; images: number }>(
        'SELECT count(*) AS n, count(DISTINCT image_id) AS images FROM predictions WHERE case_id = ?',
        [caseId],
      );
      expect(after).toEqual({ n: FILES, images: FILES });
      // Each file imported once too (a resumed import does not add a second row for a file already stored).
      expect(await raw.sql('SELECT count(*) AS n, count(DISTINCT relative_path) AS files FROM images WHERE case_id = ?', [caseId])).toEqual([
        { n: FILES, files: FILES },
      ]);
      expect(await countedCells(raw, caseId)).toBe(FILES);
      const [status] = await raw.sql<{ status: string }>('SELECT status FROM cases WHERE id = ?', [caseId]);
      expect(status!.status).toBe('in_review');
    },
    240_000,
  );
});

/** The derived per-class counts' total (CAST: PostgreSQL's sum of a bigint is numeric, which pg returns as text). */
async function countedCells(raw: RawSql, caseId: number): Promise<number> {
  const [row] = await raw.sql<{ n: number }>('SELECT CAST(sum(cells) AS INTEGER) AS n FROM prediction_counts WHERE case_id = ?', [caseId]);
  return row!.n;
}
