import type { Migration } from './index';

// Lab models (issue 14): a classifier head trained in the app on the base model's stored embeddings of the lab's own
// reviewed cells. A lab model IS a models row (so predictions, cases.model_id, reports and the audit trail treat it
// like any model: immutable, keyed by its sha256 = sha256(base sha256 + head JSON)); this table adds what only a lab
// model has: its base model, the head, the cases it learned from, its validation, and its life: pending (trained or
// imported, not usable) -> approved (usable; a named person with a role and a reason said so) -> retired (no longer
// offered; its predictions stay). The triggers allow exactly these two steps and nothing else, so the record is
// append-only whoever writes to the file. At most one approved lab model per base model: the one in force.
export const migration0006: Migration = {
  version: 6,
  name: 'lab-models',
  sql: `
CREATE TABLE lab_models (
  id INTEGER PRIMARY KEY,
  model_row_id INTEGER NOT NULL UNIQUE REFERENCES models (id),
  base_model_row_id INTEGER NOT NULL REFERENCES models (id),
  head_sha256 TEXT NOT NULL CHECK (length(head_sha256) = 64 AND head_sha256 NOT GLOB '*[^0-9a-f]*'),
  head TEXT NOT NULL CHECK (json_valid(head)),
  -- [{ accession, cells, fold }] with fold 'train' | 'calibration' | 'test': every case the head learned from or was
  -- validated on, by accession (an imported model's cases are in another PC's database).
  training_cases TEXT NOT NULL CHECK (json_valid(training_cases) AND json_type(training_cases) = 'array'),
  minimum_per_class INTEGER NOT NULL CHECK (minimum_per_class > 0),
  validation TEXT NOT NULL CHECK (json_valid(validation)),
  trained_by TEXT NOT NULL CHECK (length(trim(trained_by)) > 0),
  trained_at TEXT NOT NULL,
  imported_by TEXT CHECK (imported_by IS NULL OR length(trim(imported_by)) > 0),
  imported_at TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'retired')),
  approved_by TEXT CHECK (approved_by IS NULL OR length(trim(approved_by)) > 0),
  approved_role TEXT CHECK (approved_role IS NULL OR length(trim(approved_role)) > 0),
  approved_reason TEXT CHECK (approved_reason IS NULL OR length(trim(approved_reason)) > 0),
  approved_at TEXT,
  retired_by TEXT CHECK (retired_by IS NULL OR length(trim(retired_by)) > 0),
  retired_reason TEXT CHECK (retired_reason IS NULL OR length(trim(retired_reason)) > 0),
  retired_at TEXT,
  CHECK ((imported_by IS NULL) = (imported_at IS NULL)),
  CHECK ((status = 'pending') = (approved_at IS NULL)),
  CHECK ((approved_at IS NULL) = (approved_by IS NULL) AND (approved_at IS NULL) = (approved_role IS NULL)
         AND (approved_at IS NULL) = (approved_reason IS NULL)),
  CHECK ((status = 'retired') = (retired_at IS NOT NULL)),
  CHECK ((retired_at IS NULL) = (retired_by IS NULL) AND (retired_at IS NULL) = (retired_reason IS NULL)),
  CHECK (model_row_id <> base_model_row_id)
) STRICT;
CREATE UNIQUE INDEX lab_models_one_approved_per_base ON lab_models (base_model_row_id) WHERE status = 'approved';

CREATE TRIGGER lab_models_born_pending BEFORE INSERT ON lab_models
BEGIN SELECT RAISE(ABORT, '[constraint] a lab model is stored pending; only an approval makes it usable') WHERE NEW.status IS NOT 'pending'; END;
CREATE TRIGGER lab_models_transitions BEFORE UPDATE ON lab_models
BEGIN
  SELECT RAISE(ABORT, '[immutable] a lab model''s head, cases, validation and provenance are never changed')
  WHERE NEW.id IS NOT OLD.id OR NEW.model_row_id IS NOT OLD.model_row_id OR NEW.base_model_row_id IS NOT OLD.base_model_row_id
     OR NEW.head_sha256 IS NOT OLD.head_sha256 OR NEW.head IS NOT OLD.head OR NEW.training_cases IS NOT OLD.training_cases
     OR NEW.minimum_per_class IS NOT OLD.minimum_per_class OR NEW.validation IS NOT OLD.validation
     OR NEW.trained_by IS NOT OLD.trained_by OR NEW.trained_at IS NOT OLD.trained_at
     OR NEW.imported_by IS NOT OLD.imported_by OR NEW.imported_at IS NOT OLD.imported_at;
  SELECT RAISE(ABORT, '[constraint] lab model status can only go pending -> approved -> retired (from ' || OLD.status || ' to ' || NEW.status || ')')
  WHERE (OLD.status, NEW.status) NOT IN (VALUES ('pending', 'approved'), ('approved', 'retired'));
  SELECT RAISE(ABORT, '[immutable] an approval is never changed')
  WHERE OLD.status = 'approved' AND (NEW.approved_by IS NOT OLD.approved_by OR NEW.approved_role IS NOT OLD.approved_role
     OR NEW.approved_reason IS NOT OLD.approved_reason OR NEW.approved_at IS NOT OLD.approved_at);
END;
CREATE TRIGGER lab_models_never_deleted BEFORE DELETE ON lab_models
BEGIN SELECT RAISE(ABORT, '[immutable] a lab model is never deleted: retire it'); END;
`,
};
