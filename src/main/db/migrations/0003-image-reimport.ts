import type { Migration } from './index';

// A file that failed import (empty, truncated, not an image) could never be imported again under the same path,
// because images had UNIQUE (case_id, relative_path) and image rows are immutable: a technician who copied a good
// file over the bad one and pressed "analyse" again got nothing. Now a new row for the same path may replace the
// latest failed row of that path (replaces = its id). The failed row stays as history; a path's current row is the
// one no other row replaces. Only a failed row can be replaced (a failed row has no predictions, reviews or
// duplicates pointing at it), and only once, so a cell can never be counted twice.
//
// SQLite cannot drop a table constraint, so the table is rebuilt. foreign_keys is on inside the migration
// transaction, so the references from predictions, reviews, current_decisions and duplicate_of are deferred while
// the table is dropped and re-created under the same name (no RENAME, which would rewrite the children's
// references), and resolve again when the rows are copied back; migrate() then runs foreign_key_check.
export const migration0003: Migration = {
  version: 3,
  name: 'image-reimport',
  sql: `
PRAGMA defer_foreign_keys = ON;

CREATE TABLE images_before_0003 AS SELECT * FROM images;
DROP TABLE images;

CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  relative_path TEXT NOT NULL CHECK (length(relative_path) > 0),
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL CHECK (bytes >= 0),
  width INTEGER CHECK (width IS NULL OR width > 0),
  height INTEGER CHECK (height IS NULL OR height > 0),
  import_error TEXT CHECK (import_error IS NULL OR length(import_error) > 0),
  -- Same bytes as an earlier image of the case: stored so the import is explained, never classified or counted.
  duplicate_of INTEGER REFERENCES images (id),
  created_at TEXT NOT NULL,
  -- The failed import of the same path that this row replaces (a re-run after the file was fixed).
  replaces INTEGER REFERENCES images (id),
  CHECK (import_error IS NOT NULL OR (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
  CHECK (duplicate_of IS NULL OR import_error IS NULL)
) STRICT;

INSERT INTO images (id, case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, replaces)
SELECT id, case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, NULL
FROM images_before_0003 ORDER BY id;
DROP TABLE images_before_0003;

CREATE INDEX images_case_path ON images (case_id, relative_path);
CREATE UNIQUE INDEX images_case_content ON images (case_id, sha256) WHERE duplicate_of IS NULL AND import_error IS NULL;
-- A failed row is replaced at most once: each path has one current row.
CREATE UNIQUE INDEX images_replaces ON images (replaces) WHERE replaces IS NOT NULL;

CREATE TRIGGER images_insert_rules BEFORE INSERT ON images
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it before adding images')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] ' || NEW.relative_path || ' is marked a duplicate of an image with other content or of another case')
  WHERE NEW.duplicate_of IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM images AS o WHERE o.id = NEW.duplicate_of AND o.case_id = NEW.case_id AND o.sha256 = NEW.sha256
      AND o.duplicate_of IS NULL AND o.import_error IS NULL);
  SELECT RAISE(ABORT, '[duplicate] ' || NEW.relative_path || ' is already in the case; only a file that failed import is imported again')
  WHERE NEW.replaces IS NULL AND EXISTS (
    SELECT 1 FROM images AS o WHERE o.case_id = NEW.case_id AND o.relative_path = NEW.relative_path);
  SELECT RAISE(ABORT, '[constraint] ' || NEW.relative_path || ' may only replace the current failed import of the same file in the same case')
  WHERE NEW.replaces IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM images AS o WHERE o.id = NEW.replaces AND o.case_id = NEW.case_id AND o.relative_path = NEW.relative_path
      AND o.import_error IS NOT NULL AND NOT EXISTS (SELECT 1 FROM images AS r WHERE r.replaces = o.id));
END;
CREATE TRIGGER images_immutable_update BEFORE UPDATE ON images
BEGIN SELECT RAISE(ABORT, '[immutable] an imported image record is never changed'); END;
CREATE TRIGGER images_immutable_delete BEFORE DELETE ON images
BEGIN SELECT RAISE(ABORT, '[immutable] an imported image record is never deleted'); END;
`,
};
