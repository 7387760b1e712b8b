import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0004-embeddings-and-provisional-classes.ts: stored embeddings (float16 little-endian,
// as bytea) beside their prediction, and the model's provisional classes, with the same back-fill of the reference
// models 1.0.0-1.2.0 (the immutability guard lifted for that one statement and put back).
export const pgMigration0004: Migration = {
  version: 4,
  name: 'embeddings-and-provisional-classes',
  sql: `
CREATE TABLE prediction_embeddings (
  prediction_id bigint PRIMARY KEY REFERENCES predictions (id),
  dim integer NOT NULL CHECK (dim > 0),
  vector bytea NOT NULL CHECK (octet_length(vector) = 2 * dim),
  open_set_score double precision CHECK (open_set_score IS NULL OR open_set_score >= 0)
);
CREATE TRIGGER prediction_embeddings_immutable_update BEFORE UPDATE ON prediction_embeddings
  FOR EACH ROW EXECUTE FUNCTION mc_refuse('[immutable] a stored embedding is never changed');
CREATE TRIGGER prediction_embeddings_immutable_delete BEFORE DELETE ON prediction_embeddings
  FOR EACH ROW EXECUTE FUNCTION mc_refuse('[immutable] a stored embedding is never deleted');
CREATE TRIGGER prediction_embeddings_immutable_truncate BEFORE TRUNCATE ON prediction_embeddings
  FOR EACH STATEMENT EXECUTE FUNCTION mc_refuse('[immutable] a stored embedding is never deleted');

ALTER TABLE models ADD COLUMN provisional_classes text NOT NULL DEFAULT '[]' CHECK (mc_json_is_array(provisional_classes));
DROP TRIGGER models_immutable_update ON models;
UPDATE models SET provisional_classes = '["BAS","EBO","MMZ","MYB","NGB"]'
  WHERE model_id = 'marrowcount-ref' AND version IN ('1.0.0', '1.1.0', '1.2.0');
CREATE TRIGGER models_immutable_update BEFORE UPDATE ON models
  FOR EACH ROW EXECUTE FUNCTION mc_refuse('[immutable] a registered model is never changed; register the new file instead');
`,
};
