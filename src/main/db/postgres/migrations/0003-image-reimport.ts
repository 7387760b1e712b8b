import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0003-image-reimport.ts: a failed import of a path may be replaced once by a new row
// (replaces = its id). PostgreSQL can drop a table constraint, so the table is altered where SQLite rebuilt it; the
// resulting columns are in the same order.
export const pgMigration0003: Migration = {
  version: 3,
  name: 'image-reimport',
  sql: `
-- The failed import of the same path that this row replaces (a re-run after the file was fixed).
ALTER TABLE images ADD COLUMN replaces bigint REFERENCES images (id);
ALTER TABLE images DROP CONSTRAINT images_case_path_unique;

CREATE INDEX images_case_path ON images (case_id, relative_path);
-- A failed row is replaced at most once: each path has one current row.
CREATE UNIQUE INDEX images_replaces ON images (replaces) WHERE replaces IS NOT NULL;

CREATE OR REPLACE FUNCTION images_insert_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  SELECT accession, status INTO c FROM cases WHERE id = NEW.case_id FOR SHARE;
  IF c.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = format('[signed_case] case %s is signed; amend it before adding images', c.accession);
  END IF;
  IF NEW.duplicate_of IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM images AS o WHERE o.id = NEW.duplicate_of AND o.case_id = NEW.case_id AND o.sha256 = NEW.sha256
      AND o.duplicate_of IS NULL AND o.import_error IS NULL) THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] %s is marked a duplicate of an image with other content or of another case', NEW.relative_path);
  END IF;
  IF NEW.replaces IS NULL AND EXISTS (
    SELECT 1 FROM images AS o WHERE o.case_id = NEW.case_id AND o.relative_path = NEW.relative_path) THEN
    RAISE EXCEPTION USING MESSAGE = format('[duplicate] %s is already in the case; only a file that failed import is imported again', NEW.relative_path);
  END IF;
  IF NEW.replaces IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM images AS o WHERE o.id = NEW.replaces AND o.case_id = NEW.case_id AND o.relative_path = NEW.relative_path
      AND o.import_error IS NOT NULL AND NOT EXISTS (SELECT 1 FROM images AS r WHERE r.replaces = o.id)) THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] %s may only replace the current failed import of the same file in the same case', NEW.relative_path);
  END IF;
  RETURN NEW;
END $$;
`,
};
