import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0007-case-statuses.ts: the statuses cancelled and submitted and the transitions of
// src/shared/case-lifecycle.ts (CASE_TRANSITIONS). PostgreSQL can replace a CHECK constraint and a trigger function
// in place, so nothing is rebuilt; the rules are those of the SQLite migration, message for message.
export const pgMigration0007: Migration = {
  version: 7,
  name: 'case-statuses',
  sql: `
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
  CHECK (status IN ('importing', 'analysing', 'cancelled', 'in_review', 'submitted', 'signed'));

-- The transitions of src/shared/case-lifecycle.ts (CASE_TRANSITIONS); the engine-parameterised rule suite tries
-- every pair of statuses here and compares. Leaving 'signed' is cases_signed_frozen's rule.
CREATE OR REPLACE FUNCTION cases_status_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (OLD.status, NEW.status) NOT IN (VALUES
    ('importing', 'analysing'), ('importing', 'cancelled'),
    ('analysing', 'in_review'), ('analysing', 'cancelled'),
    ('cancelled', 'analysing'), ('cancelled', 'in_review'),
    ('in_review', 'analysing'), ('in_review', 'submitted'), ('in_review', 'signed'),
    ('submitted', 'in_review'), ('submitted', 'signed')) THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] case %s cannot go from %s to %s', OLD.accession, OLD.status, NEW.status);
  END IF;
  IF NEW.status = 'signed' AND NOT EXISTS (
    SELECT 1 FROM sign_offs AS s WHERE s.case_id = OLD.id
      AND s.id = (SELECT max(id) FROM sign_offs WHERE case_id = OLD.id)
      AND NOT EXISTS (SELECT 1 FROM amendments AS a WHERE a.sign_off_id = s.id)) THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] case %s can only be signed together with a sign-off record', OLD.accession);
  END IF;
  RETURN NEW;
END $$;

-- A sign-off is the release of a case in review (single step) or the authorisation of a submitted one.
CREATE OR REPLACE FUNCTION sign_offs_need_case_in_review() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  SELECT accession, status INTO c FROM cases WHERE id = NEW.case_id FOR SHARE;
  IF c.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = format('[signed_case] case %s is already signed', c.accession);
  END IF;
  IF coalesce(c.status, '') NOT IN ('in_review', 'submitted') THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] case %s cannot be signed while %s; only a case in review or submitted can',
      c.accession, c.status);
  END IF;
  RETURN NEW;
END $$;

-- A decision is taken on a case in review, or on the analysed part of a cancelled one.
CREATE OR REPLACE FUNCTION reviews_insert_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  image record;
  c record;
BEGIN
  SELECT case_id, import_error, duplicate_of INTO image FROM images WHERE id = NEW.image_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING MESSAGE = format('[not_found] there is no image with id %s', NEW.image_id);
  END IF;
  IF NEW.label IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cell_classes WHERE code = NEW.label) THEN
    RAISE EXCEPTION USING MESSAGE = format('[unknown_class] unknown cell class code "%s" (not a Matek 2021 code)', NEW.label);
  END IF;
  SELECT accession, status INTO c FROM cases WHERE id = NEW.case_id FOR SHARE;
  IF c.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = format('[signed_case] case %s is signed; amend it before changing a cell''s label', c.accession);
  END IF;
  IF c.status NOT IN ('in_review', 'cancelled', 'signed') THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] case %s is %s; a cell''s label changes only while the case is in review or cancelled',
      c.accession, c.status);
  END IF;
  IF NEW.case_id IS DISTINCT FROM image.case_id THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] image %s is not a cell of case %s', NEW.image_id, NEW.case_id);
  END IF;
  IF image.import_error IS NOT NULL OR image.duplicate_of IS NOT NULL THEN
    RAISE EXCEPTION USING MESSAGE = format('[constraint] image %s failed import or is a duplicate; it cannot be reviewed', NEW.image_id);
  END IF;
  IF NEW.kind = 'retraction' AND NOT EXISTS (
    SELECT 1 FROM reviews AS r WHERE r.id = NEW.retracts_review_id AND r.kind = 'decision'
      AND r.image_id = NEW.image_id AND r.case_id = NEW.case_id) THEN
    RAISE EXCEPTION USING MESSAGE = '[constraint] a retraction must withdraw a decision on the same cell';
  END IF;
  RETURN NEW;
END $$;
`,
};
