import type { Migration } from './index';

// The case lifecycle the product needs (issue 21), declared in src/shared/case-lifecycle.ts and held here as the
// backstop that any writer meets:
//
//   importing → analysing | cancelled          analysing → in_review | cancelled
//   cancelled → analysing (resume) | in_review (the remaining files excluded with a recorded reason; the service
//               checks the exclusion until migration 0010 stores it where this trigger can see it)
//   in_review → analysing (re-run, another model or the lab model) | submitted | signed (single-step release)
//   submitted → in_review (returned for more review) | signed (authorisation)
//   signed    → in_review (amendment, with its record; cases_signed_frozen)
//
// A cancelled analysis used to leave the case at 'analysing' for good; 'cancelled' says the result is partial.
// 'signed' stays the stored value of the released state, shown as "Released"/"Authorised" by the labels.
//
// SQLite cannot change a CHECK constraint, so the table is rebuilt the way 0003 rebuilt images: foreign_keys is on
// inside the migration transaction, so the references from images, predictions, reviews, sign-offs, amendments, the
// derived tables, the audit log and the LIS tables are deferred while cases is dropped and re-created under the
// same name (no RENAME, which would rewrite the children's references), and resolve again when the rows are copied
// back; migrate() then runs foreign_key_check. The drop removes the table's indexes and its own triggers; they are
// re-created below, after the copy (cases_new_status would refuse copying back a case that is not 'importing').
// Other tables' triggers that read cases by name (images, predictions, reviews, sign_offs, amendments) are not
// dropped with it and resolve the new table when they next run; those whose rule changes are re-created here.
export const migration0007: Migration = {
  version: 7,
  name: 'case-statuses',
  sql: `
PRAGMA defer_foreign_keys = ON;

CREATE TABLE cases_before_0007 AS SELECT * FROM cases;
DROP TABLE cases;

CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  patient_id INTEGER NOT NULL REFERENCES patients (id),
  accession TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(accession)) > 0),
  specimen TEXT NOT NULL CHECK (specimen IN ('bone_marrow_aspirate', 'bone_marrow_imprint', 'peripheral_blood', 'other')),
  folder TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'importing'
    CHECK (status IN ('importing', 'analysing', 'cancelled', 'in_review', 'submitted', 'signed')),
  -- The model whose predictions count for this case; set when analysis starts.
  model_id INTEGER REFERENCES models (id),
  created_at TEXT NOT NULL,
  analysed_at TEXT
) STRICT;

INSERT INTO cases (id, patient_id, accession, specimen, folder, status, model_id, created_at, analysed_at)
SELECT id, patient_id, accession, specimen, folder, status, model_id, created_at, analysed_at
FROM cases_before_0007 ORDER BY id;
DROP TABLE cases_before_0007;

CREATE INDEX cases_patient ON cases (patient_id);
CREATE INDEX cases_status_created ON cases (status, created_at);

CREATE TRIGGER cases_new_status BEFORE INSERT ON cases
BEGIN
  SELECT RAISE(ABORT, '[constraint] a new case starts in status importing') WHERE NEW.status IS NOT 'importing';
END;
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
BEGIN SELECT RAISE(ABORT, '[immutable] a case is never deleted: its records are part of the audit trail'); END;

-- A signed case is frozen. The only way out is an amendment of its latest sign-off, and then only the status may
-- change (to in_review).
CREATE TRIGGER cases_signed_frozen BEFORE UPDATE ON cases
WHEN OLD.status = 'signed'
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || OLD.accession || ' is signed; amend it (with a reason) before changing it')
  WHERE NOT (
    NEW.status = 'in_review'
    AND NEW.id IS OLD.id AND NEW.patient_id IS OLD.patient_id AND NEW.accession IS OLD.accession
    AND NEW.specimen IS OLD.specimen AND NEW.folder IS OLD.folder AND NEW.model_id IS OLD.model_id
    AND NEW.created_at IS OLD.created_at AND NEW.analysed_at IS OLD.analysed_at
    AND EXISTS (SELECT 1 FROM amendments AS a WHERE a.case_id = OLD.id
                AND a.sign_off_id = (SELECT max(id) FROM sign_offs WHERE case_id = OLD.id)));
END;
-- The transitions of src/shared/case-lifecycle.ts (CASE_TRANSITIONS); test/integration/db/case-lifecycle.test.ts
-- tries every pair of statuses here and compares. Leaving 'signed' is cases_signed_frozen's rule.
CREATE TRIGGER cases_status_transition BEFORE UPDATE OF status ON cases
WHEN NEW.status IS NOT OLD.status AND OLD.status <> 'signed'
BEGIN
  SELECT RAISE(ABORT, '[constraint] case ' || OLD.accession || ' cannot go from ' || OLD.status || ' to ' || NEW.status)
  WHERE (OLD.status, NEW.status) NOT IN (VALUES
    ('importing', 'analysing'), ('importing', 'cancelled'),
    ('analysing', 'in_review'), ('analysing', 'cancelled'),
    ('cancelled', 'analysing'), ('cancelled', 'in_review'),
    ('in_review', 'analysing'), ('in_review', 'submitted'), ('in_review', 'signed'),
    ('submitted', 'in_review'), ('submitted', 'signed'));
  SELECT RAISE(ABORT, '[constraint] case ' || OLD.accession || ' can only be signed together with a sign-off record')
  WHERE NEW.status = 'signed' AND NOT EXISTS (
    SELECT 1 FROM sign_offs AS s WHERE s.case_id = OLD.id
      AND s.id = (SELECT max(id) FROM sign_offs WHERE case_id = OLD.id)
      AND NOT EXISTS (SELECT 1 FROM amendments AS a WHERE a.sign_off_id = s.id));
END;

-- A sign-off is the release of a case in review (single step) or the authorisation of a submitted one.
DROP TRIGGER sign_offs_need_case_in_review;
CREATE TRIGGER sign_offs_need_case_in_review BEFORE INSERT ON sign_offs
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is already signed')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' cannot be signed while ' || (SELECT status FROM cases WHERE id = NEW.case_id) ||
      '; only a case in review or submitted can')
  WHERE coalesce((SELECT status FROM cases WHERE id = NEW.case_id), '') NOT IN ('in_review', 'submitted');
END;

-- A decision is taken on a case in review, or on the analysed part of a cancelled one. While the case is importing
-- or analysing the review screen waits (it never takes a keystroke it would then refuse), and a submitted case is
-- returned to review before a cell changes, so that what was submitted is what is authorised.
DROP TRIGGER reviews_insert_rules;
CREATE TRIGGER reviews_insert_rules BEFORE INSERT ON reviews
BEGIN
  SELECT RAISE(ABORT, '[not_found] there is no image with id ' || NEW.image_id)
  WHERE NOT EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[unknown_class] unknown cell class code "' || NEW.label || '" (not a Matek 2021 code)')
  WHERE NEW.label IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cell_classes WHERE code = NEW.label);
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it before changing a cell''s label')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) || ' is ' ||
      (SELECT status FROM cases WHERE id = NEW.case_id) || '; a cell''s label changes only while the case is in review or cancelled')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) NOT IN ('in_review', 'cancelled', 'signed');
  SELECT RAISE(ABORT, '[constraint] image ' || NEW.image_id || ' is not a cell of case ' || NEW.case_id)
  WHERE NEW.case_id IS NOT (SELECT case_id FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[constraint] image ' || NEW.image_id || ' failed import or is a duplicate; it cannot be reviewed')
  WHERE EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id AND (import_error IS NOT NULL OR duplicate_of IS NOT NULL));
  SELECT RAISE(ABORT, '[constraint] a retraction must withdraw a decision on the same cell')
  WHERE NEW.kind = 'retraction' AND NOT EXISTS (
    SELECT 1 FROM reviews AS r WHERE r.id = NEW.retracts_review_id AND r.kind = 'decision'
      AND r.image_id = NEW.image_id AND r.case_id = NEW.case_id);
END;
`,
};
