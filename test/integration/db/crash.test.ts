// kill -9 of a process writing an analysis's predictions, in the middle of a batch, on a SQLite file and on a
// PostgreSQL database (the writer, crash-writer.ts, is a separate process that opens the store by location, as the
// analysis worker does). What survives is whole batches only, with the derived counts and the audit trail matching;
// a resumed run classifies exactly what was left, so every image ends with exactly one prediction.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabase } from '../../../src/main/db';
import { openStore } from '../../../src/main/db/store';
import { ENGINES, usePostgres } from './engines';
import { openTemp } from './helpers';
import { openRawSql, type RawSql } from './raw-sql';
import { addCase, addImages, addModel } from './store-for-engine';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const BATCH = 2000;
const BATCHES = 10;
const pgSetup = usePostgres();

/** Starts the writer; SIGKILLs it shortly after it begins batch `killDuring` (null: lets it finish). */
function runWriter(args: string[], killDuring: number | null): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-writer.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        // A few milliseconds into the batch: rows are being inserted, the transaction is open.
        if (killDuring !== null && line === `begin ${killDuring}`) setTimeout(() => child.kill('SIGKILL'), 15);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (killDuring !== null && signal === null) reject(new Error(`writer exited on its own (code ${code}) before it was killed: ${stderr}`));
      else if (killDuring === null && code !== 0) reject(new Error(`resumed writer failed (code ${code}, signal ${signal}): ${stderr}`));
      else resolvePromise({ lines, signal, code });
    });
  });
}

const opened: RawSql[] = [];
afterEach(async () => {
  for (const raw of opened.splice(0)) await raw.close();
});

describe.each(ENGINES)('a writer killed in the middle of a batch on %s', (engine) => {
  it.skipIf(engine === 'postgres' && pgSetup.unavailable !== null)(
    'leaves a database that opens, holds only whole batches, and a resumed run classifies each image exactly once',
    async () => {
      let location: string;
      if (engine === 'sqlite') {
        const { db, path } = openTemp();
        closeDatabase(db);
        location = path;
      } else {
        location = await pgSetup.freshUrl();
      }
      const setup = await openStore(location);
      const model = await addModel(setup);
      const row = await addCase(setup, 'BM-CRASH');
      await addImages(setup, row.id, BATCH * BATCHES);
      await setup.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
      await setup.close();
      const args = [location, String(row.id), String(model.id), String(BATCH)];

      const { lines, signal } = await runWriter(args, 3);
      expect(signal).toBe('SIGKILL');
      expect(lines).toContain('end 2');

      // Opening runs SQLite's quick_check (throws 'corrupt' if damaged) and PostgreSQL's history check.
      const after = openRawSql(location);
      opened.push(after);
      const store = await after.store();
      if (engine === 'sqlite') expect(await after.sql('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const [{ n }] = (await after.sql<{ n: number }>('SELECT count(*) AS n FROM predictions WHERE case_id = ?', [row.id])) as [{ n: number }];
      const batchesLogged = (await store.audit.caseAuditLog(row.id)).filter((e) => e.action === 'predictions_added');
      expect(n % BATCH).toBe(0);
      expect(n).toBe(batchesLogged.length * BATCH);
      expect(batchesLogged.every((e) => (e.detail as { count: number }).count === BATCH)).toBe(true);
      // Every batch reported ended is there; the one in flight is there whole only if it committed in the instant
      // between its commit and its "end" line, otherwise not at all.
      const ended = lines.filter((l) => l.startsWith('end ')).length;
      expect([ended * BATCH, (ended + 1) * BATCH]).toContain(n);
      expect(await countedCells(after, row.id)).toBe(n);

      // Resumed: the rest, and nothing twice.
      const resumed = await runWriter(args, null);
      expect(resumed.lines.at(-1)).toBe('done');
      expect(resumed.lines.filter((l) => l.startsWith('end ')).length).toBe(BATCHES - n / BATCH);
      const [once] = await after.sql<{ n: number; images: number }>(
        'SELECT count(*) AS n, count(DISTINCT image_id) AS images FROM predictions WHERE case_id = ?',
        [row.id],
      );
      expect(once).toEqual({ n: BATCH * BATCHES, images: BATCH * BATCHES });
      expect(await store.images.listImagesNeedingPrediction(row.id, model.id)).toEqual([]);
      expect(await countedCells(after, row.id)).toBe(BATCH * BATCHES);
      const logged = (await store.audit.caseAuditLog(row.id)).filter((e) => e.action === 'predictions_added');
      expect(logged.reduce((sum, e) => sum + (e.detail as { count: number }).count, 0)).toBe(BATCH * BATCHES);
    },
    120_000,
  );
});

/** The derived per-class counts' total (CAST: PostgreSQL's sum of a bigint is numeric, which pg returns as text). */
async function countedCells(raw: RawSql, caseId: number): Promise<number> {
  const [row] = await raw.sql<{ n: number }>('SELECT CAST(sum(cells) AS INTEGER) AS n FROM prediction_counts WHERE case_id = ?', [caseId]);
  return row!.n;
}
