import type { Migration } from './index';

// Two things a model now tells about itself and its cells (issue 13):
// - prediction_embeddings: the pooled features the model's last layer read for a cell (float16, little-endian),
//   and the open-set distance computed from them. Stored beside the prediction, never in it, so predictions of
//   older packages without an embedding output stay as they are; a lab model head can later be trained on them
//   without re-running the network. Written in the transaction of its prediction, and as immutable as it.
// - models.provisional_classes: the classes the model learned only from peripheral-blood images (model.json
//   "provisionalClasses"): figures that count unreviewed cells of them are provisional. The reference models
//   registered before this migration (marrowcount-ref 1.0.0-1.2.0) learned BAS, EBO, MMZ, MYB and NGB from
//   peripheral blood only, exactly like 1.3.0, so their rows get that list: a case analysed with them must say so
//   too. Rows are immutable, so the guard is lifted for this one statement and put back.
export const migration0004: Migration = {
  version: 4,
  name: 'embeddings-and-provisional-classes',
  sql: `
CREATE TABLE prediction_embeddings (
  prediction_id INTEGER PRIMARY KEY REFERENCES predictions (id),
  dim INTEGER NOT NULL CHECK (dim > 0),
  vector BLOB NOT NULL CHECK (length(vector) = 2 * dim),
  open_set_score REAL CHECK (open_set_score IS NULL OR open_set_score >= 0)
) STRICT;
CREATE TRIGGER prediction_embeddings_immutable_update BEFORE UPDATE ON prediction_embeddings
BEGIN SELECT RAISE(ABORT, '[immutable] a stored embedding is never changed'); END;
CREATE TRIGGER prediction_embeddings_immutable_delete BEFORE DELETE ON prediction_embeddings
BEGIN SELECT RAISE(ABORT, '[immutable] a stored embedding is never deleted'); END;

ALTER TABLE models ADD COLUMN provisional_classes TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(provisional_classes) AND json_type(provisional_classes) = 'array');
DROP TRIGGER models_immutable_update;
UPDATE models SET provisional_classes = '["BAS","EBO","MMZ","MYB","NGB"]'
  WHERE model_id = 'marrowcount-ref' AND version IN ('1.0.0', '1.1.0', '1.2.0');
CREATE TRIGGER models_immutable_update BEFORE UPDATE ON models
BEGIN SELECT RAISE(ABORT, '[immutable] a registered model is never changed; register the new file instead'); END;
`,
};
