import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0002-derived-counts.ts: the derived tables current_decisions and prediction_counts,
// written by triggers only, and their backfill.
//
// One difference for several stations: two decisions on one cell committed out of id order would, with the
// SQLite trigger's unconditional overwrite, leave the earlier id in force. The upsert below keeps the decision
// with the highest review id, which is what the backfill (and SQLite's single writer) derives.
export const pgMigration0002: Migration = {
  version: 2,
  name: 'derived-counts',
  sql: `
-- Covers the join from a cell's decision to its prediction (effective counts, review progress, cell totals).
CREATE INDEX predictions_image_model_class ON predictions (image_id, model_id, predicted_class, flagged);

-- Derived from predictions by the trigger below (never written otherwise): a case's counts per class and model
-- are then a handful of rows instead of a scan of every prediction. Predictions are immutable, so counts only grow.
CREATE TABLE prediction_counts (
  case_id bigint NOT NULL REFERENCES cases (id),
  model_id bigint NOT NULL REFERENCES models (id),
  predicted_class text NOT NULL REFERENCES cell_classes (code),
  cells bigint NOT NULL CHECK (cells >= 0),
  flagged bigint NOT NULL CHECK (flagged >= 0 AND flagged <= cells),
  PRIMARY KEY (case_id, model_id, predicted_class)
);
-- Once per statement over the rows it inserted (a transition table), not once per row: a batch of 5,000
-- predictions then updates each of its few count rows once. Measured with scripts/bench-pg-insert.ts: the per-row
-- upsert was about half the time of storing 20,000 predictions (each update of the same count row in one transaction
-- lengthens its chain of row versions). The ORDER BY takes the count rows' locks in one order, so two workers writing
-- the same case cannot deadlock on them.
CREATE FUNCTION predictions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO prediction_counts AS p (case_id, model_id, predicted_class, cells, flagged)
  SELECT case_id, model_id, predicted_class, count(*), sum(flagged) FROM inserted
  GROUP BY case_id, model_id, predicted_class ORDER BY case_id, model_id, predicted_class
  ON CONFLICT (case_id, model_id, predicted_class) DO UPDATE SET cells = p.cells + excluded.cells, flagged = p.flagged + excluded.flagged;
  RETURN NULL;
END $$;
CREATE TRIGGER predictions_count AFTER INSERT ON predictions REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION predictions_count();

-- Derived from reviews by the triggers below (never written otherwise): each cell's decision in force, i.e. its
-- latest 'decision' that no retraction withdrew. Queries read it instead of re-deriving it from the history.
CREATE TABLE current_decisions (
  image_id bigint PRIMARY KEY REFERENCES images (id),
  case_id bigint NOT NULL REFERENCES cases (id),
  review_id bigint NOT NULL UNIQUE REFERENCES reviews (id),
  label text NOT NULL REFERENCES cell_classes (code)
);
CREATE INDEX current_decisions_case ON current_decisions (case_id, label);
CREATE FUNCTION reviews_decision_in_force() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO current_decisions AS d (image_id, case_id, review_id, label) VALUES (NEW.image_id, NEW.case_id, NEW.id, NEW.label)
  ON CONFLICT (image_id) DO UPDATE SET review_id = excluded.review_id, label = excluded.label
  WHERE d.review_id < excluded.review_id;
  RETURN NULL;
END $$;
CREATE TRIGGER reviews_decision_in_force AFTER INSERT ON reviews
  FOR EACH ROW WHEN (NEW.kind = 'decision') EXECUTE FUNCTION reviews_decision_in_force();
CREATE FUNCTION reviews_retraction_in_force() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM current_decisions WHERE image_id = NEW.image_id;
  INSERT INTO current_decisions (image_id, case_id, review_id, label)
  SELECT r.image_id, r.case_id, r.id, r.label FROM reviews AS r
  WHERE r.case_id = NEW.case_id AND r.image_id = NEW.image_id AND r.kind = 'decision'
    AND NOT EXISTS (SELECT 1 FROM reviews AS x WHERE x.retracts_review_id = r.id)
  ORDER BY r.id DESC LIMIT 1;
  RETURN NULL;
END $$;
CREATE TRIGGER reviews_retraction_in_force AFTER INSERT ON reviews
  FOR EACH ROW WHEN (NEW.kind = 'retraction') EXECUTE FUNCTION reviews_retraction_in_force();

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
