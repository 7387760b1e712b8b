import type { Migration } from './index';

// Issue 21's storage, in one step (numbered 10; 8, 9 and 11 are other branches' and only need to stay in order):
//
// - analysis_cancellations: what a stopped analysis had done ("Cancelled — 256 of 1,800 files analysed"), so that
//   every screen, report and export says the result is partial without re-reading the folder.
// - remaining_exclusions: the recorded reason for releasing a cancelled case without the files it never analysed.
//   A cancelled case goes to review only with an exclusion of its latest cancellation (trigger below), so this rule
//   of migration 0007's transition table is now enforced here too.
// - reviews.seen_version: the cell's version the reviewer saw (the id of the cell's latest review row, 0 for none).
//   A decision made on a cell that changed since is refused '[stale]', so two stations can never silently
//   overwrite each other. NULL for rows written before this migration and for callers that decide on whatever is
//   current (scripts); the review screen always sends it.
// - predictions.flag_reasons become data, [{kind, detail}], rendered to words at the edge. Reasons were stored as
//   prose and parsed back by their first words, which counted the lab model's "class the lab model did not learn"
//   as "Other reason". Stored predictions are converted once, here (the immutability trigger is dropped for the
//   UPDATE and re-created, as 0004 did for models); text that matches no known reason keeps kind 'other'.
// - shared_crops_confirmations: a case whose crops (by content hash) already belong to another patient's case is
//   analysed only after a named person confirmed it, with a reason; images_content finds such crops by hash.
export const migration0010: Migration = {
  version: 10,
  name: 'partial-cases-versions-flag-data',
  sql: `
CREATE TABLE analysis_cancellations (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  -- Files of the case folder done (classified, failed or duplicate) when the run stopped, and in the folder then.
  files_analysed INTEGER NOT NULL CHECK (files_analysed >= 0),
  files_total INTEGER NOT NULL CHECK (files_total >= files_analysed),
  cancelled_by TEXT NOT NULL CHECK (length(trim(cancelled_by)) > 0),
  cancelled_at TEXT NOT NULL
) STRICT;
CREATE INDEX analysis_cancellations_case ON analysis_cancellations (case_id, id);
CREATE TRIGGER analysis_cancellations_immutable_update BEFORE UPDATE ON analysis_cancellations
BEGIN SELECT RAISE(ABORT, '[immutable] a cancellation record is never changed'); END;
CREATE TRIGGER analysis_cancellations_immutable_delete BEFORE DELETE ON analysis_cancellations
BEGIN SELECT RAISE(ABORT, '[immutable] a cancellation record is never deleted'); END;

CREATE TABLE remaining_exclusions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  cancellation_id INTEGER NOT NULL UNIQUE REFERENCES analysis_cancellations (id),
  files_excluded INTEGER NOT NULL CHECK (files_excluded >= 0),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  excluded_by TEXT NOT NULL CHECK (length(trim(excluded_by)) > 0),
  excluded_at TEXT NOT NULL
) STRICT;
CREATE INDEX remaining_exclusions_case ON remaining_exclusions (case_id, id);
CREATE TRIGGER remaining_exclusions_rules BEFORE INSERT ON remaining_exclusions
BEGIN
  SELECT RAISE(ABORT, '[constraint] only a cancelled case''s remaining files can be excluded')
  WHERE (SELECT status FROM cases WHERE id = NEW.case_id) IS NOT 'cancelled';
  SELECT RAISE(ABORT, '[constraint] an exclusion must answer the latest cancellation of its case')
  WHERE NEW.cancellation_id IS NOT (SELECT max(id) FROM analysis_cancellations WHERE case_id = NEW.case_id);
END;
CREATE TRIGGER remaining_exclusions_immutable_update BEFORE UPDATE ON remaining_exclusions
BEGIN SELECT RAISE(ABORT, '[immutable] an exclusion is never changed'); END;
CREATE TRIGGER remaining_exclusions_immutable_delete BEFORE DELETE ON remaining_exclusions
BEGIN SELECT RAISE(ABORT, '[immutable] an exclusion is never deleted'); END;

CREATE TRIGGER cases_partial_release_needs_exclusion BEFORE UPDATE OF status ON cases
WHEN OLD.status = 'cancelled' AND NEW.status = 'in_review'
BEGIN
  SELECT RAISE(ABORT, '[constraint] case ' || OLD.accession || ' stopped before all its files were analysed; resume the analysis, ' ||
      'or exclude the remaining files with a reason, before reviewing it for release')
  WHERE NOT EXISTS (SELECT 1 FROM remaining_exclusions AS e
                    WHERE e.cancellation_id = (SELECT max(id) FROM analysis_cancellations WHERE case_id = OLD.id));
END;

ALTER TABLE reviews ADD COLUMN seen_version INTEGER CHECK (seen_version IS NULL OR seen_version >= 0);
CREATE TRIGGER reviews_not_stale BEFORE INSERT ON reviews
WHEN NEW.seen_version IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, '[stale] image ' || NEW.image_id || ' of case ' || NEW.case_id || ' changed after version ' || NEW.seen_version)
  WHERE NEW.seen_version IS NOT coalesce((SELECT max(id) FROM reviews WHERE case_id = NEW.case_id AND image_id = NEW.image_id), 0);
END;

DROP TRIGGER predictions_immutable_update;
UPDATE predictions SET flag_reasons = (
  SELECT json_group_array(json_object(
    'kind', CASE
      WHEN j.value LIKE 'unlike any cell type this model has learned%' THEN 'open_set'
      WHEN j.value LIKE 'provisional class %' THEN 'provisional'
      WHEN j.value LIKE 'low confidence%' THEN 'low_confidence'
      WHEN j.value LIKE 'margin%' THEN 'margin'
      WHEN j.value LIKE 'rare class%' THEN 'rare_class'
      WHEN j.value LIKE 'base model calls it a class this lab model has not learned%' THEN 'unlearned_class'
      WHEN j.value LIKE 'small crop % px < %' THEN 'small_crop'
      ELSE 'other' END,
    'detail', CASE
      WHEN j.value LIKE 'unlike any cell type this model has learned%'
        THEN trim(substr(j.value, length('unlike any cell type this model has learned — check for a type it cannot classify') + 1), ' ()')
      WHEN j.value LIKE 'provisional class %' THEN substr(j.value, length('provisional class ') + 1)
      WHEN j.value LIKE 'low confidence%' THEN trim(substr(j.value, length('low confidence') + 1))
      WHEN j.value LIKE 'margin%' THEN trim(substr(j.value, length('margin') + 1))
      WHEN j.value LIKE 'rare class%' THEN trim(substr(j.value, length('rare class') + 1))
      WHEN j.value LIKE 'base model calls it a class this lab model has not learned%'
        THEN trim(substr(j.value, length('base model calls it a class this lab model has not learned') + 1), ' ()')
      WHEN j.value LIKE 'small crop % px < %'
        THEN substr(j.value, length('small crop ') + 1, instr(j.value, ' px < ') + length(' px') - length('small crop ') - 1)
      ELSE j.value END))
  FROM json_each(predictions.flag_reasons) AS j)
WHERE json_array_length(flag_reasons) > 0;
CREATE TRIGGER predictions_immutable_update BEFORE UPDATE ON predictions
BEGIN SELECT RAISE(ABORT, '[immutable] a model''s prediction is never changed; a human label is a review'); END;
CREATE TRIGGER predictions_flag_reasons_are_data BEFORE INSERT ON predictions
WHEN json_array_length(NEW.flag_reasons) > 0
BEGIN
  SELECT RAISE(ABORT, '[constraint] prediction for image ' || NEW.image_id ||
      ' has a flag reason that is not {kind, detail} with a known kind')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.flag_reasons) AS j
                WHERE j.type IS NOT 'object'
                   OR json_extract(j.value, '$.kind') NOT IN
                      ('open_set', 'provisional', 'small_crop', 'low_confidence', 'margin', 'rare_class', 'unlearned_class', 'other')
                   OR json_type(j.value, '$.detail') IS NOT 'text');
END;

CREATE INDEX images_content ON images (sha256) WHERE import_error IS NULL AND duplicate_of IS NULL;
CREATE TABLE shared_crops_confirmations (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  other_case_id INTEGER NOT NULL REFERENCES cases (id) CHECK (other_case_id <> case_id),
  shared_files INTEGER NOT NULL CHECK (shared_files > 0),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  confirmed_by TEXT NOT NULL CHECK (length(trim(confirmed_by)) > 0),
  confirmed_at TEXT NOT NULL
) STRICT;
CREATE INDEX shared_crops_confirmations_case ON shared_crops_confirmations (case_id, other_case_id);
CREATE TRIGGER shared_crops_confirmations_immutable_update BEFORE UPDATE ON shared_crops_confirmations
BEGIN SELECT RAISE(ABORT, '[immutable] a confirmation is never changed'); END;
CREATE TRIGGER shared_crops_confirmations_immutable_delete BEFORE DELETE ON shared_crops_confirmations
BEGIN SELECT RAISE(ABORT, '[immutable] a confirmation is never deleted'); END;
`,
};
