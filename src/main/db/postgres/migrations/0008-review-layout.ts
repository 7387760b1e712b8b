import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0008-review-layout.ts: the lab's own review grid (one row), with the rules SQL can
// hold for any writer: the order names every known class once, hidden classes are known classes, and no two classes
// in use share a key. Both triggers run one function, as the SQLite triggers have one text. The rules are checked
// only on well-formed JSON; the CHECKs refuse the rest (SQLite's json_each raises on it instead).
export const pgMigration0008: Migration = {
  version: 8,
  name: 'review-layout',
  sql: `
CREATE FUNCTION mc_json_is_object(value text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN json_typeof(value::json) = 'object';
EXCEPTION WHEN invalid_text_representation THEN
  RETURN false;
END $$;

CREATE TABLE review_layout (
  id integer PRIMARY KEY CHECK (id = 1),
  -- { "BLA": "b", ... }: one key per class code
  class_keys text NOT NULL CHECK (mc_json_is_object(class_keys)),
  -- ["BLA", "FGC", ...]: every class once
  class_order text NOT NULL CHECK (mc_json_is_array(class_order)),
  hidden_classes text NOT NULL CHECK (mc_json_is_array(hidden_classes)),
  updated_at text NOT NULL,
  updated_by text NOT NULL CHECK (length(trim(updated_by)) > 0)
);

CREATE FUNCTION review_layout_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE known integer;
BEGIN
  IF NOT (mc_json_is_object(NEW.class_keys) AND mc_json_is_array(NEW.class_order) AND mc_json_is_array(NEW.hidden_classes)) THEN
    RETURN NEW;
  END IF;
  IF EXISTS (SELECT 1 FROM json_array_elements_text(NEW.class_order::json) AS j(value) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_array_elements_text(NEW.hidden_classes::json) AS j(value) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_each_text(NEW.class_keys::json) AS j WHERE j.key NOT IN (SELECT code FROM cell_classes)) THEN
    RAISE EXCEPTION USING MESSAGE = '[unknown_class] the review layout names a class that is not a Matek 2021 class';
  END IF;
  SELECT count(*) INTO known FROM cell_classes;
  IF (SELECT count(DISTINCT value) FROM json_array_elements_text(NEW.class_order::json) AS j(value)) <> known
     OR json_array_length(NEW.class_order::json) <> known THEN
    RAISE EXCEPTION USING MESSAGE = '[constraint] the review class order must list every class once';
  END IF;
  IF EXISTS (
    SELECT 1 FROM json_each_text(NEW.class_keys::json) AS j
    WHERE j.key NOT IN (SELECT value FROM json_array_elements_text(NEW.hidden_classes::json) AS h(value))
    GROUP BY j.value HAVING count(*) > 1) THEN
    RAISE EXCEPTION USING MESSAGE = '[constraint] two classes in use share a review key';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER review_layout_rules_insert BEFORE INSERT ON review_layout FOR EACH ROW EXECUTE FUNCTION review_layout_rules();
CREATE TRIGGER review_layout_rules_update BEFORE UPDATE ON review_layout FOR EACH ROW EXECUTE FUNCTION review_layout_rules();
`,
};
