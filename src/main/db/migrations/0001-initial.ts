import type { Migration } from './index';

// Rules a second writer (a script, a future sync, a bug) must not be able to break are enforced here rather than
// only in TypeScript: a model's prediction is never changed, human decisions and the audit log are append-only,
// and a signed case is frozen until an amendment re-opens it. Trigger messages start with "[kind] " so that
// classifyDatabaseError turns them into the same typed errors the repositories throw.
export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
-- The 21 Matek 2021 classes. Adding a class is a new migration, never an edit of this list.
CREATE TABLE cell_classes (
  code TEXT PRIMARY KEY CHECK (length(code) = 3 AND code = upper(code))
) STRICT, WITHOUT ROWID;

INSERT INTO cell_classes (code) VALUES
  ('ABE'), ('ART'), ('BAS'), ('BLA'), ('EBO'), ('EOS'), ('FGC'), ('HAC'), ('KSC'), ('LYI'), ('LYT'),
  ('MMZ'), ('MON'), ('MYB'), ('NGB'), ('NGS'), ('NIF'), ('OTH'), ('PEB'), ('PLM'), ('PMO');

CREATE TRIGGER cell_classes_immutable_update BEFORE UPDATE ON cell_classes
BEGIN SELECT RAISE(ABORT, '[immutable] cell classes change only through a migration'); END;
CREATE TRIGGER cell_classes_immutable_delete BEFORE DELETE ON cell_classes
BEGIN SELECT RAISE(ABORT, '[immutable] cell classes change only through a migration'); END;

CREATE TABLE patients (
  id INTEGER PRIMARY KEY,
  lab_id TEXT NOT NULL UNIQUE CHECK (length(trim(lab_id)) > 0),
  name TEXT,
  birth_date TEXT CHECK (birth_date IS NULL OR (
    birth_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(birth_date) IS birth_date)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  model_id TEXT NOT NULL CHECK (length(model_id) > 0),
  version TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  name TEXT NOT NULL,
  -- Class codes in logit order: the order of every probability vector stored for this model.
  classes TEXT NOT NULL CHECK (json_valid(classes) AND json_type(classes) = 'array'),
  class_count INTEGER NOT NULL CHECK (class_count >= 2 AND class_count = json_array_length(classes)),
  registered_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER models_known_classes BEFORE INSERT ON models
BEGIN
  SELECT RAISE(ABORT, '[unknown_class] model ' || NEW.model_id || ' declares unknown cell class code "' ||
      (SELECT j.value FROM json_each(NEW.classes) AS j WHERE j.value NOT IN (SELECT code FROM cell_classes) LIMIT 1) ||
      '" (not a Matek 2021 code)')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.classes) AS j WHERE j.value NOT IN (SELECT code FROM cell_classes));
END;
-- The model's classes as rows, filled from models.classes by the trigger below, so that checking a prediction's
-- class is one primary-key probe instead of a JSON scan per row.
CREATE TABLE model_classes (
  model_id INTEGER NOT NULL REFERENCES models (id),
  position INTEGER NOT NULL,
  code TEXT NOT NULL REFERENCES cell_classes (code),
  PRIMARY KEY (model_id, code),
  UNIQUE (model_id, position)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER models_fill_classes AFTER INSERT ON models
BEGIN
  INSERT INTO model_classes (model_id, position, code) SELECT NEW.id, j.key, j.value FROM json_each(NEW.classes) AS j;
END;
CREATE TRIGGER model_classes_immutable_update BEFORE UPDATE ON model_classes
BEGIN SELECT RAISE(ABORT, '[immutable] a registered model is never changed'); END;
CREATE TRIGGER model_classes_immutable_delete BEFORE DELETE ON model_classes
BEGIN SELECT RAISE(ABORT, '[immutable] a registered model is never changed'); END;
CREATE TRIGGER models_immutable_update BEFORE UPDATE ON models
BEGIN SELECT RAISE(ABORT, '[immutable] a registered model is never changed; register the new file instead'); END;
CREATE TRIGGER models_immutable_delete BEFORE DELETE ON models
BEGIN SELECT RAISE(ABORT, '[immutable] a registered model is never deleted: predictions refer to it'); END;

CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  patient_id INTEGER NOT NULL REFERENCES patients (id),
  accession TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(accession)) > 0),
  specimen TEXT NOT NULL CHECK (specimen IN ('bone_marrow_aspirate', 'bone_marrow_imprint', 'peripheral_blood', 'other')),
  folder TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'importing' CHECK (status IN ('importing', 'analysing', 'in_review', 'signed')),
  -- The model whose predictions count for this case; set when analysis starts.
  model_id INTEGER REFERENCES models (id),
  created_at TEXT NOT NULL,
  analysed_at TEXT
) STRICT;
CREATE INDEX cases_patient ON cases (patient_id);
CREATE INDEX cases_status_created ON cases (status, created_at);

CREATE TABLE sign_offs (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  signed_by TEXT NOT NULL CHECK (length(trim(signed_by)) > 0),
  role TEXT NOT NULL CHECK (length(trim(role)) > 0),
  signed_at TEXT NOT NULL,
  override_reason TEXT CHECK (override_reason IS NULL OR length(trim(override_reason)) > 0),
  summary_snapshot TEXT NOT NULL CHECK (json_valid(summary_snapshot))
) STRICT;
CREATE INDEX sign_offs_case ON sign_offs (case_id, id);

CREATE TABLE amendments (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  sign_off_id INTEGER NOT NULL UNIQUE REFERENCES sign_offs (id),
  amended_by TEXT NOT NULL CHECK (length(trim(amended_by)) > 0),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  amended_at TEXT NOT NULL
) STRICT;
CREATE INDEX amendments_case ON amendments (case_id, id);

CREATE TRIGGER sign_offs_need_case_in_review BEFORE INSERT ON sign_offs
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is already signed')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' cannot be signed while ' || (SELECT status FROM cases WHERE id = NEW.case_id) || '; only a case in review can')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) IS NOT 'in_review';
END;
CREATE TRIGGER sign_offs_immutable_update BEFORE UPDATE ON sign_offs
BEGIN SELECT RAISE(ABORT, '[immutable] a sign-off is never changed; amend the case instead'); END;
CREATE TRIGGER sign_offs_immutable_delete BEFORE DELETE ON sign_offs
BEGIN SELECT RAISE(ABORT, '[immutable] a sign-off is never deleted; amend the case instead'); END;

CREATE TRIGGER amendments_reopen_latest_sign_off BEFORE INSERT ON amendments
BEGIN
  SELECT RAISE(ABORT, '[constraint] only a signed case can be amended')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) IS NOT 'signed';
  SELECT RAISE(ABORT, '[constraint] an amendment must re-open the latest sign-off of its case')
  WHERE NEW.sign_off_id IS NOT (SELECT max(id) FROM sign_offs WHERE case_id = NEW.case_id);
END;
CREATE TRIGGER amendments_immutable_update BEFORE UPDATE ON amendments
BEGIN SELECT RAISE(ABORT, '[immutable] an amendment is never changed'); END;
CREATE TRIGGER amendments_immutable_delete BEFORE DELETE ON amendments
BEGIN SELECT RAISE(ABORT, '[immutable] an amendment is never deleted'); END;

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
CREATE TRIGGER cases_status_transition BEFORE UPDATE OF status ON cases
WHEN NEW.status IS NOT OLD.status AND OLD.status <> 'signed'
BEGIN
  SELECT RAISE(ABORT, '[constraint] case ' || OLD.accession || ' cannot go from ' || OLD.status || ' to ' || NEW.status)
  WHERE (OLD.status, NEW.status) NOT IN (VALUES ('importing', 'analysing'), ('analysing', 'in_review'),
                                               ('in_review', 'analysing'), ('in_review', 'signed'));
  SELECT RAISE(ABORT, '[constraint] case ' || OLD.accession || ' can only be signed together with a sign-off record')
  WHERE NEW.status = 'signed' AND NOT EXISTS (
    SELECT 1 FROM sign_offs AS s WHERE s.case_id = OLD.id
      AND s.id = (SELECT max(id) FROM sign_offs WHERE case_id = OLD.id)
      AND NOT EXISTS (SELECT 1 FROM amendments AS a WHERE a.sign_off_id = s.id));
END;
CREATE TRIGGER cases_new_status BEFORE INSERT ON cases
BEGIN
  SELECT RAISE(ABORT, '[constraint] a new case starts in status importing') WHERE NEW.status IS NOT 'importing';
END;
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
BEGIN SELECT RAISE(ABORT, '[immutable] a case is never deleted: its records are part of the audit trail'); END;

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
  UNIQUE (case_id, relative_path),
  CHECK (import_error IS NOT NULL OR (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
  CHECK (duplicate_of IS NULL OR import_error IS NULL)
) STRICT;
CREATE UNIQUE INDEX images_case_content ON images (case_id, sha256) WHERE duplicate_of IS NULL AND import_error IS NULL;

CREATE TRIGGER images_insert_rules BEFORE INSERT ON images
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it before adding images')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] ' || NEW.relative_path || ' is marked a duplicate of an image with other content or of another case')
  WHERE NEW.duplicate_of IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM images AS o WHERE o.id = NEW.duplicate_of AND o.case_id = NEW.case_id AND o.sha256 = NEW.sha256
      AND o.duplicate_of IS NULL AND o.import_error IS NULL);
END;
CREATE TRIGGER images_immutable_update BEFORE UPDATE ON images
BEGIN SELECT RAISE(ABORT, '[immutable] an imported image record is never changed'); END;
CREATE TRIGGER images_immutable_delete BEFORE DELETE ON images
BEGIN SELECT RAISE(ABORT, '[immutable] an imported image record is never deleted'); END;

CREATE TABLE predictions (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images (id),
  -- Copied from the image (checked below) so that a case's cells can be read in confidence order from one index.
  case_id INTEGER NOT NULL REFERENCES cases (id),
  model_id INTEGER NOT NULL REFERENCES models (id),
  predicted_class TEXT NOT NULL REFERENCES cell_classes (code),
  -- Calibrated probabilities in the model's class order (models.classes).
  probabilities TEXT NOT NULL CHECK (json_valid(probabilities) AND json_type(probabilities) = 'array'),
  confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
  flag_reasons TEXT NOT NULL CHECK (json_valid(flag_reasons) AND json_type(flag_reasons) = 'array'),
  created_at TEXT NOT NULL,
  UNIQUE (image_id, model_id)
) STRICT;
CREATE INDEX predictions_case_model_confidence ON predictions (case_id, model_id, confidence, image_id);
CREATE INDEX predictions_case_model_flagged ON predictions (case_id, model_id, flagged, confidence, image_id);

CREATE TRIGGER predictions_insert_rules BEFORE INSERT ON predictions
BEGIN
  SELECT RAISE(ABORT, '[not_found] there is no image with id ' || NEW.image_id)
  WHERE NOT EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[unknown_class] unknown cell class code "' || NEW.predicted_class || '" (not a Matek 2021 code)')
  WHERE NOT EXISTS (SELECT 1 FROM cell_classes WHERE code = NEW.predicted_class);
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it before adding predictions')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] prediction for image ' || NEW.image_id || ' names the wrong case')
  WHERE NEW.case_id IS NOT (SELECT case_id FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[constraint] image ' || NEW.image_id || ' failed import or is a duplicate; it is never classified')
  WHERE EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id AND (import_error IS NOT NULL OR duplicate_of IS NOT NULL));
  SELECT RAISE(ABORT, '[constraint] prediction for image ' || NEW.image_id || ' has ' ||
      json_array_length(NEW.probabilities) || ' probabilities; the model has ' ||
      (SELECT class_count FROM models WHERE id = NEW.model_id) || ' classes')
  WHERE json_array_length(NEW.probabilities) IS NOT (SELECT class_count FROM models WHERE id = NEW.model_id);
  SELECT RAISE(ABORT, '[constraint] class ' || NEW.predicted_class || ' is not one of the model''s classes')
  WHERE NOT EXISTS (SELECT 1 FROM model_classes WHERE model_id = NEW.model_id AND code = NEW.predicted_class);
END;
CREATE TRIGGER predictions_immutable_update BEFORE UPDATE ON predictions
BEGIN SELECT RAISE(ABORT, '[immutable] a model''s prediction is never changed; a human label is a review'); END;
CREATE TRIGGER predictions_immutable_delete BEFORE DELETE ON predictions
BEGIN SELECT RAISE(ABORT, '[immutable] a model''s prediction is never deleted'); END;

-- Human decisions, append-only. Undo appends a 'retraction' naming the decision it withdraws.
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  image_id INTEGER NOT NULL REFERENCES images (id),
  kind TEXT NOT NULL CHECK (kind IN ('decision', 'retraction')),
  label TEXT REFERENCES cell_classes (code),
  retracts_review_id INTEGER REFERENCES reviews (id),
  reviewer TEXT NOT NULL CHECK (length(trim(reviewer)) > 0),
  note TEXT,
  created_at TEXT NOT NULL,
  CHECK ((kind = 'decision' AND label IS NOT NULL AND retracts_review_id IS NULL)
      OR (kind = 'retraction' AND label IS NULL AND retracts_review_id IS NOT NULL))
) STRICT;
CREATE INDEX reviews_case_image ON reviews (case_id, image_id, id);
CREATE UNIQUE INDEX reviews_retracts ON reviews (retracts_review_id) WHERE retracts_review_id IS NOT NULL;

CREATE TRIGGER reviews_insert_rules BEFORE INSERT ON reviews
BEGIN
  SELECT RAISE(ABORT, '[not_found] there is no image with id ' || NEW.image_id)
  WHERE NOT EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[unknown_class] unknown cell class code "' || NEW.label || '" (not a Matek 2021 code)')
  WHERE NEW.label IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cell_classes WHERE code = NEW.label);
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it before changing a cell''s label')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed';
  SELECT RAISE(ABORT, '[constraint] image ' || NEW.image_id || ' is not a cell of case ' || NEW.case_id)
  WHERE NEW.case_id IS NOT (SELECT case_id FROM images WHERE id = NEW.image_id);
  SELECT RAISE(ABORT, '[constraint] image ' || NEW.image_id || ' failed import or is a duplicate; it cannot be reviewed')
  WHERE EXISTS (SELECT 1 FROM images WHERE id = NEW.image_id AND (import_error IS NOT NULL OR duplicate_of IS NOT NULL));
  SELECT RAISE(ABORT, '[constraint] a retraction must withdraw a decision on the same cell')
  WHERE NEW.kind = 'retraction' AND NOT EXISTS (
    SELECT 1 FROM reviews AS r WHERE r.id = NEW.retracts_review_id AND r.kind = 'decision'
      AND r.image_id = NEW.image_id AND r.case_id = NEW.case_id);
END;
CREATE TRIGGER reviews_immutable_update BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, '[immutable] a review is never changed; record a new decision or undo'); END;
CREATE TRIGGER reviews_immutable_delete BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, '[immutable] a review is never deleted; undo records a retraction'); END;

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  case_id INTEGER REFERENCES cases (id),
  detail TEXT NOT NULL CHECK (json_valid(detail))
) STRICT;
CREATE INDEX audit_log_case ON audit_log (case_id, id);
CREATE TRIGGER audit_log_immutable_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '[immutable] the audit log is append-only'); END;
CREATE TRIGGER audit_log_immutable_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '[immutable] the audit log is append-only'); END;

CREATE TABLE settings (
  key TEXT PRIMARY KEY CHECK (key IN ('labName', 'reviewerName', 'reviewerRole')),
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`,
};
