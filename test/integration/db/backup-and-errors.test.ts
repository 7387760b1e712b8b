import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DatabaseError,
  addReview,
  backupDatabase,
  classifyDatabaseError,
  effectiveCountsByClass,
  listSignOffs,
  openDatabase,
  retractLatestReview,
  signCase,
} from '../../../src/main/db';
import { caseInReview, openTemp, track } from './helpers';

function sqliteError(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('backup', () => {
  it('writes a complete copy of the live database that opens on its own', async () => {
    const { db, dir } = openTemp();
    const { caseId, imageIds } = caseInReview(db, [
      { predicted: 'BLA', confidence: 0.9 },
      { predicted: 'LYT', confidence: 0.4 },
    ]);
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'PLM', reviewer: 'tech' });
    signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{"PLM":1}' });
    const dest = join(dir, 'backup.sqlite');
    await backupDatabase(db, dest);
    const copy = track(openDatabase(dest));
    expect(effectiveCountsByClass(copy, caseId)).toEqual({ BLA: 1, PLM: 1 });
    expect(listSignOffs(copy, caseId)).toEqual(listSignOffs(db, caseId));
    expect(copy.raw.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('reports a destination folder that does not exist as an io error', async () => {
    const { db, dir } = openTemp();
    await expect(backupDatabase(db, join(dir, 'missing', 'backup.sqlite'))).rejects.toMatchObject({ kind: 'io' });
  });
});

describe('derived tables', () => {
  it('keep the decision in force equal to its definition over the review history', () => {
    const { db } = openTemp();
    const { caseId, imageIds } = caseInReview(db, [
      { predicted: 'BLA', confidence: 0.9 },
      { predicted: 'LYT', confidence: 0.4 },
      { predicted: 'NGS', confidence: 0.5 },
    ]);
    const labels = ['BLA', 'LYT', 'NGS', 'EBO'] as const;
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 200; step++) {
      const imageId = imageIds[next() % imageIds.length]!;
      if (next() % 3 === 0) {
        try {
          retractLatestReview(db, { caseId, imageId, reviewer: 'tech' });
        } catch (e) {
          expect((e as DatabaseError).kind).toBe('not_found');
        }
      } else {
        addReview(db, { caseId, imageId, label: labels[next() % labels.length]!, reviewer: 'tech' });
      }
    }
    // The definition: the latest decision no retraction withdrew.
    const defined = db.raw
      .prepare(
        `SELECT r.image_id, max(r.id) AS review_id FROM reviews AS r
         WHERE r.kind = 'decision' AND NOT EXISTS (SELECT 1 FROM reviews AS x WHERE x.retracts_review_id = r.id)
         GROUP BY r.image_id ORDER BY r.image_id`,
      )
      .all();
    expect(db.raw.prepare('SELECT image_id, review_id FROM current_decisions ORDER BY image_id').all()).toEqual(defined);
  });
});

describe('classifying SQLite errors', () => {
  it.each([
    ['SQLITE_CORRUPT', 'corrupt'],
    ['SQLITE_NOTADB', 'corrupt'],
    ['SQLITE_BUSY', 'locked'],
    ['SQLITE_BUSY_SNAPSHOT', 'locked'],
    ['SQLITE_READONLY', 'read_only'],
    ['SQLITE_READONLY_DBMOVED', 'read_only'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'duplicate'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 'constraint'],
    ['SQLITE_CONSTRAINT_CHECK', 'constraint'],
    ['SQLITE_FULL', 'io'],
    ['SQLITE_IOERR_WRITE', 'io'],
  ])('maps %s to %s', (code, kind) => {
    const classified = classifyDatabaseError(sqliteError(code), 'Saving');
    expect(classified).toBeInstanceOf(DatabaseError);
    expect(classified!.kind).toBe(kind);
    expect(classified!.message.startsWith('Saving: ')).toBe(true);
  });

  it('maps a tagged trigger message to its kind and keeps the message', () => {
    const classified = classifyDatabaseError(sqliteError('SQLITE_CONSTRAINT_TRIGGER', '[signed_case] case BM-1 is signed'));
    expect(classified).toMatchObject({ kind: 'signed_case', message: 'case BM-1 is signed' });
  });

  it('leaves errors that are not from SQLite alone', () => {
    expect(classifyDatabaseError(new TypeError('x'))).toBeNull();
    expect(classifyDatabaseError(sqliteError('SQLITE_ERROR', 'no such table: x'))).toBeNull();
  });
});
