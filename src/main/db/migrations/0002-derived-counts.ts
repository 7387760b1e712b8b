import type { Migration } from './index';

// The case-level queries (counts per class, review progress, cell totals) read these two derived tables instead of
// re-deriving everything from every prediction and the whole review history: their cost then grows with the
// number of human decisions of a case, not with its number of cells. Both are maintained by triggers only, and
// backfilled here from the rows a version-1 database already holds.
export const migration0002: Migration = {
  version: 2,
  name: 'derived-counts',
  sql: `
-- Covers the join from a cell's decision to its prediction (effective counts, review progress, cell totals).
CREATE INDEX predictions_image_model_class ON predictions (image_id, model_id, predicted_class, flagged);

-- Derived from predictions by the trigger below (never written otherwise): a case's counts per class and model
-- are then a handful of rows instead of a scan of every prediction. Predictions are immutable, so counts only grow.
CREATE TABLE prediction_counts (
  case_id INTEGER NOT NULL REFERENCES cases (id),
  model_id INTEGER NOT NULL REFERENCES models (id),
  predicted_class TEXT NOT NULL REFERENCES cell_classes (code),
  cells INTEGER NOT NULL CHECK (cells >= 0),
  flagged INTEGER NOT NULL CHECK (flagged >= 0 AND flagged <= cells),
  PRIMARY KEY (case_id, model_id, predicted_class)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER predictions_count AFTER INSERT ON predictions
BEGIN
  INSERT INTO prediction_counts (case_id, model_id, predicted_class, cells, flagged)
  VALUES (NEW.case_id, NEW.model_id, NEW.predicted_class, 1, NEW.flagged)
  ON CONFLICT (case_id, model_id, predicted_class) DO UPDATE SET cells = cells + 1, flagged = flagged + excluded.flagged;
END;
-- Derived from reviews by the triggers below (never written otherwise): each cell's decision in force, i.e. its
-- latest 'decision' that no retraction withdrew. Queries read it instead of re-deriving it from the history.
CREATE TABLE current_decisions (
  image_id INTEGER PRIMARY KEY REFERENCES images (id),
  case_id INTEGER NOT NULL REFERENCES cases (id),
  review_id INTEGER NOT NULL UNIQUE REFERENCES reviews (id),
  label TEXT NOT NULL REFERENCES cell_classes (code)
) STRICT;
CREATE INDEX current_decisions_case ON current_decisions (case_id, label);
CREATE TRIGGER reviews_decision_in_force AFTER INSERT ON reviews WHEN NEW.kind = 'decision'
BEGIN
  INSERT INTO current_decisions (image_id, case_id, review_id, label) VALUES (NEW.image_id, NEW.case_id, NEW.id, NEW.label)
  ON CONFLICT (image_id) DO UPDATE SET review_id = excluded.review_id, label = excluded.label;
END;
CREATE TRIGGER reviews_retraction_in_force AFTER INSERT ON reviews WHEN NEW.kind = 'retraction'
BEGIN
  DELETE FROM current_decisions WHERE image_id = NEW.image_id;
  INSERT INTO current_decisions (image_id, case_id, review_id, label)
  SELECT r.image_id, r.case_id, r.id, r.label FROM reviews AS r
  WHERE r.case_id = NEW.case_id AND r.image_id = NEW.image_id AND r.kind = 'decision'
    AND NOT EXISTS (SELECT 1 FROM reviews AS x WHERE x.retracts_review_id = r.id)
  ORDER BY r.id DESC LIMIT 1;
END;

INSERT INTO prediction_counts (case_id, model_id, predicted_class, cells, flagged)
SELECT case_id, model_id, predicted_class, count(*), sum(flagged) FROM predictions GROUP BY case_id, model_id, predicted_class;

INSERT INTO current_decisions (image_id, case_id, review_id, label)
SELECT r.image_id, r.case_id, r.id, r.label FROM reviews AS r
WHERE r.id = (
  SELECT max(d.id) FROM reviews AS d
  WHERE d.image_id = r.image_id AND d.kind = 'decision'
    AND NOT EXISTS (SELECT 1 FROM reviews AS x WHERE x.retracts_review_id = d.id));
`,
};
