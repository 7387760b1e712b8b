import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { beginAnalysis, caseAuditLog, closeDatabase, openDatabase } from '../../../src/main/db';
import { addCase, addImages, addModel, openTemp, track } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const BATCH = 2000;

/** Starts the writer and SIGKILLs it shortly after it begins batch `killDuring`; resolves with what it printed. */
function runAndKill(args: string[], killDuring: number): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
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
        if (line === `begin ${killDuring}`) setTimeout(() => child.kill('SIGKILL'), 15);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null) reject(new Error(`writer exited on its own (code ${code}) before it was killed: ${stderr}`));
      else resolvePromise({ lines, signal });
    });
  });
}

describe('a writer killed in the middle of a batch', () => {
  it('leaves a database that opens, passes the integrity check and holds only whole batches', async () => {
    const { db, path } = openTemp();
    const model = addModel(db);
    const row = addCase(db, 'BM-CRASH');
    addImages(db, row.id, BATCH * 10);
    beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
    closeDatabase(db);

    const { lines, signal } = await runAndKill([path, String(row.id), String(model.id), String(BATCH)], 3);
    expect(signal).toBe('SIGKILL');
    expect(lines).toContain('end 2');

    const after = track(openDatabase(path)); // runs quick_check; throws 'corrupt' if damaged
    expect(after.raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const { n } = after.raw.prepare('SELECT count(*) AS n FROM predictions WHERE case_id = ?').get(row.id) as { n: number };
    const batchesLogged = caseAuditLog(after, row.id).filter((e) => e.action === 'predictions_added');
    expect(n % BATCH).toBe(0);
    expect(n).toBe(batchesLogged.length * BATCH);
    expect(batchesLogged.every((e) => (e.detail as { count: number }).count === BATCH)).toBe(true);
    // Every batch reported ended is there; the one in flight is there whole only if it committed in the instant
    // between its commit and its "end" line, otherwise not at all.
    const ended = lines.filter((l) => l.startsWith('end ')).length;
    expect([ended * BATCH, (ended + 1) * BATCH]).toContain(n);
    // The derived counts match the rows that survived.
    const counted = after.raw.prepare('SELECT sum(cells) AS n FROM prediction_counts WHERE case_id = ?').get(row.id) as { n: number };
    expect(counted.n).toBe(n);
  });
});
