import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES } from '../../../src/shared/cell-classes';
import { DatabaseError, closeDatabase, effectiveCountsByClass, listCells, openDatabase, reviewProgress } from '../../../src/main/db';
import { migrate } from '../../../src/main/db/migrate';
import { MIGRATIONS, type Migration } from '../../../src/main/db/migrations';
import { addCase, openTemp, tempDir, track } from './helpers';

const SNAPSHOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/db/schema.sql');
const LATEST = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema as SQLite stores it, in a stable order: what the snapshot file holds. */
function dumpSchema(raw: Database.Database): string {
  const rows = raw
    .prepare(
      `SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'trigger' THEN 2 ELSE 3 END, name`,
    )
    .all() as { type: string; name: string; sql: string }[];
  return `${rows.map((r) => `-- ${r.type} ${r.name}\n${r.sql};`).join('\n\n')}\n`;
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function expectDatabaseError(fn: () => unknown, kind: DatabaseError['kind']): DatabaseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatabaseError);
    expect((e as DatabaseError).kind).toBe(kind);
    return e as DatabaseError;
  }
  throw new Error(`expected a DatabaseError of kind ${kind}`);
}

describe('migrations', () => {
  it('migrates an empty file to the latest version and records every migration in order', () => {
    const { db } = openTemp();
    expect(db.schemaVersion).toBe(LATEST);
    const history = db.raw.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(history).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('produces exactly the checked-in schema snapshot (set UPDATE_DB_SCHEMA_SNAPSHOT=1 to accept a change)', () => {
    const { db } = openTemp();
    const schema = dumpSchema(db.raw);
    if (process.env.UPDATE_DB_SCHEMA_SNAPSHOT === '1' || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, schema);
    expect(schema).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  it.each(MIGRATIONS.map((m) => m.version - 1))('upgrades a database at version %i to the snapshot schema', (from) => {
    const dir = tempDir();
    const path = join(dir, 'old.sqlite');
    const raw = new Database(path);
    migrate(raw, path, { upTo: from });
    raw.close();
    const db = track(openDatabase(path));
    expect(db.schemaVersion).toBe(LATEST);
    expect(dumpSchema(db.raw)).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  it('keeps the data of an older database when upgrading it', () => {
    const { db, path } = openTemp();
    const created = addCase(db, 'BM-KEEP');
    closeDatabase(db);
    const again = track(openDatabase(path));
    expect(again.raw.prepare('SELECT accession FROM cases WHERE id = ?').get(created.id)).toEqual({ accession: 'BM-KEEP' });
  });

  it('upgrades a version-1 database holding predictions, reviews and undos without changing any effective label', () => {
    const dir = tempDir();
    const path = join(dir, 'v1.sqlite');
    const raw = new Database(path);
    migrate(raw, path, { upTo: 1 });
    // Version-1 rows written directly, as a version-1 MarrowCount left them.
    raw.exec(`
      INSERT INTO patients (id, lab_id, created_at, updated_at) VALUES (1, 'MRN-1', 't', 't');
      INSERT INTO models (id, model_id, version, sha256, name, classes, class_count, registered_at)
        VALUES (1, 'm', '1', '${'e'.repeat(64)}', 'm', '["BLA","LYT","NGS","EBO"]', 4, 't');
      INSERT INTO cases (id, patient_id, accession, specimen, folder, created_at) VALUES (1, 1, 'BM-V1', 'other', '/v1', 't');
      UPDATE cases SET model_id = 1, status = 'analysing' WHERE id = 1;
      INSERT INTO images (id, case_id, relative_path, sha256, bytes, created_at) VALUES
        (1, 1, '1.jpg', '${'1'.repeat(64)}', 1, 't'), (2, 1, '2.jpg', '${'2'.repeat(64)}', 1, 't'),
        (3, 1, '3.jpg', '${'3'.repeat(64)}', 1, 't'), (4, 1, '4.jpg', '${'4'.repeat(64)}', 1, 't');
      INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at) VALUES
        (1, 1, 1, 'BLA', '[0.9,0.05,0.03,0.02]', 0.9, 0, '[]', 't'),
        (2, 1, 1, 'BLA', '[0.4,0.3,0.2,0.1]', 0.4, 1, '["low_confidence"]', 't'),
        (3, 1, 1, 'LYT', '[0.3,0.5,0.1,0.1]', 0.5, 1, '["low_confidence"]', 't'),
        (4, 1, 1, 'NGS', '[0.01,0.02,0.95,0.02]', 0.95, 0, '[]', 't');
      UPDATE cases SET status = 'in_review' WHERE id = 1;
      INSERT INTO reviews (id, case_id, image_id, kind, label, retracts_review_id, reviewer, created_at) VALUES
        (1, 1, 2, 'decision', 'LYT', NULL, 'tech', 't'),
        (2, 1, 2, 'decision', 'EBO', NULL, 'tech', 't'),
        (3, 1, 2, 'retraction', NULL, 2, 'tech', 't'),
        (4, 1, 3, 'decision', 'LYT', NULL, 'tech', 't'),
        (5, 1, 4, 'decision', 'BLA', NULL, 'tech', 't'),
        (6, 1, 4, 'retraction', NULL, 5, 'tech', 't');
    `);
    raw.close();
    const db = track(openDatabase(path));
    // Cell 1 BLA (prediction); cell 2 LYT (EBO undone, LYT in force); cell 3 LYT (confirmed); cell 4 NGS (BLA undone).
    expect(effectiveCountsByClass(db, 1)).toEqual({ BLA: 1, LYT: 2, NGS: 1 });
    expect(reviewProgress(db, 1)).toEqual({ flagged: 2, flaggedReviewed: 2, reviewed: 2, reclassified: 1 });
    expect(listCells(db, { caseId: 1, scope: 'unreviewed' }).total).toBe(0);
    expect(listCells(db, { caseId: 1, scope: 'all', effectiveClass: 'LYT' }).rows.map((c) => c.imageId)).toEqual([2, 3]);
  });

  it('seeds exactly the 21 Matek cell classes of src/shared', () => {
    const { db } = openTemp();
    const codes = (db.raw.prepare('SELECT code FROM cell_classes ORDER BY code').all() as { code: string }[]).map((r) => r.code);
    expect(codes).toEqual([...CELL_CLASS_CODES].sort());
  });

  it('refuses a database written by a newer version, naming both versions, and leaves it unchanged', () => {
    const { db, path } = openTemp();
    db.raw.prepare(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, 'from-the-future', 'x', 'now')`).run(LATEST + 7);
    // Out of WAL mode, so that even switching the journal mode at open would show as a change of the file.
    db.raw.pragma('journal_mode = DELETE');
    db.raw.close();
    const before = fileHash(path);
    const error = expectDatabaseError(() => openDatabase(path), 'newer_schema');
    expect(error.message).toContain(String(LATEST + 7));
    expect(error.message).toContain(`up to ${LATEST}`);
    expect(fileHash(path)).toBe(before);
  });

  it('refuses an out-of-order migration history', () => {
    const first: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER) STRICT;' };
    const second: Migration = { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER) STRICT;' };
    const third: Migration = { version: 3, name: 'three', sql: 'CREATE TABLE c (x INTEGER) STRICT;' };
    const dir = tempDir();
    const path = join(dir, 'history.sqlite');
    const raw = new Database(path);
    try {
      // Applied 1 and 3 (a build that skipped 2), now opened by a build that knows 1, 2, 3.
      migrate(raw, path, { migrations: [first, third] });
      expect(() => migrate(raw, path, { migrations: [first, second, third] })).toThrow(/out-of-order migration history/);
      const error = (() => {
        try {
          migrate(raw, path, { migrations: [first, second, third] });
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).kind).toBe('migration_history');
      expect(raw.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'b'`).get()).toEqual({ n: 0 });
    } finally {
      raw.close();
    }
  });

  it('refuses a database migrated with a different text of a known migration', () => {
    const original: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER) STRICT;' };
    const edited: Migration = { ...original, sql: 'CREATE TABLE a (x INTEGER, y TEXT) STRICT;' };
    const dir = tempDir();
    const path = join(dir, 'edited.sqlite');
    const raw = new Database(path);
    try {
      migrate(raw, path, { migrations: [original] });
      expect(() => migrate(raw, path, { migrations: [edited] })).toThrow(DatabaseError);
    } finally {
      raw.close();
    }
  });

  it('rolls back every migration of a run when one of them fails', () => {
    const good: Migration = { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER) STRICT;' };
    const bad: Migration = { version: 2, name: 'bad', sql: 'CREATE TABLE b (x INTEGER) STRICT; INSERT INTO nowhere VALUES (1);' };
    const dir = tempDir();
    const path = join(dir, 'failing.sqlite');
    const raw = new Database(path);
    try {
      expect(() => migrate(raw, path, { migrations: [good, bad] })).toThrow();
      expect(raw.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'`).get()).toEqual({ n: 0 });
    } finally {
      raw.close();
    }
  });

  it('refuses an SQLite file of another application', () => {
    const dir = tempDir();
    const path = join(dir, 'other.sqlite');
    const raw = new Database(path);
    raw.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY)');
    raw.close();
    const error = expectDatabaseError(() => openDatabase(path), 'migration_history');
    expect(error.message).toContain('not a MarrowCount database');
  });
});

describe('opening', () => {
  it('turns on WAL, foreign keys and a busy timeout', () => {
    const { db } = openTemp();
    expect(db.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.raw.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.raw.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
  });

  it('reports a file that is not a database as corrupt and writes nothing to it', () => {
    const dir = tempDir();
    const path = join(dir, 'garbage.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const before = fileHash(path);
    const error = expectDatabaseError(() => openDatabase(path), 'corrupt');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/backup/);
    expect(fileHash(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('reports a database with a damaged page as corrupt, names the file, and leaves it as found', () => {
    const { db, path } = openTemp();
    const row = addCase(db, 'BM-CORRUPT');
    const insert = db.raw.prepare(`INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES ('t', 'x', 'padding', ?, ?)`);
    db.raw.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(row.id, JSON.stringify({ i, padding: 'x'.repeat(200) }));
    })();
    closeDatabase(db);
    // Scribble over the middle of the file: b-tree pages that the check must walk.
    const bytes = readFileSync(path);
    const pageSize = 4096;
    const page = Math.floor(bytes.length / pageSize / 2);
    bytes.fill(0x41, page * pageSize + 8, page * pageSize + 400);
    writeFileSync(path, bytes);
    const before = fileHash(path);
    const error = expectDatabaseError(() => openDatabase(path), 'corrupt');
    expect(error.message).toContain(path);
    expect(fileHash(path)).toBe(before);
  });

  it('reports a database folder that does not exist as an io error naming the path', () => {
    const path = join(tempDir(), 'missing', 'marrowcount.sqlite');
    const error = expectDatabaseError(() => openDatabase(path), 'io');
    expect(error.message).toContain(path);
  });

  it('opens read-only without writing and refuses writes there', () => {
    const { db, path } = openTemp();
    closeDatabase(db);
    const before = fileHash(path);
    const ro = track(openDatabase(path, { readonly: true }));
    expect(ro.schemaVersion).toBe(LATEST);
    expectDatabaseError(() => addCase(ro, 'BM-RO'), 'read_only');
    closeDatabase(ro);
    expect(fileHash(path)).toBe(before);
  });

  it('reports another process holding the write lock as locked', () => {
    const { db, path } = openTemp();
    const other = track(openDatabase(path, { busyTimeoutMs: 50 }));
    db.raw.exec('BEGIN IMMEDIATE');
    try {
      expectDatabaseError(() => addCase(other, 'BM-LOCK'), 'locked');
    } finally {
      db.raw.exec('ROLLBACK');
    }
  });
});
