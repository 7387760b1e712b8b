import type { Migration } from './index';

// A lab's own review grid (issue 24): the key of each class, the order of the classes in the legend and the class
// filter, and the classes it never uses. One row; every change is recorded in the audit log by the code that saves
// it (review_layout_changed). The rules that SQL can hold are held here too, for any writer: the order names every
// known class once, hidden classes are known classes, and no two classes in use share a key.
export const migration0008: Migration = {
  version: 8,
  name: 'review-layout',
  sql: `
CREATE TABLE review_layout (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  -- { "BLA": "b", ... }: one key per class code
  class_keys TEXT NOT NULL CHECK (json_valid(class_keys) AND json_type(class_keys) = 'object'),
  -- ["BLA", "FGC", ...]: every class once
  class_order TEXT NOT NULL CHECK (json_valid(class_order) AND json_type(class_order) = 'array'),
  hidden_classes TEXT NOT NULL CHECK (json_valid(hidden_classes) AND json_type(hidden_classes) = 'array'),
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL CHECK (length(trim(updated_by)) > 0)
) STRICT;

CREATE TRIGGER review_layout_rules_insert BEFORE INSERT ON review_layout
BEGIN
  SELECT RAISE(ABORT, '[unknown_class] the review layout names a class that is not a Matek 2021 class')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.class_order) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_each(NEW.hidden_classes) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_each(NEW.class_keys) WHERE key NOT IN (SELECT code FROM cell_classes));
  SELECT RAISE(ABORT, '[constraint] the review class order must list every class once')
  WHERE (SELECT count(DISTINCT value) FROM json_each(NEW.class_order)) <> (SELECT count(*) FROM cell_classes)
     OR json_array_length(NEW.class_order) <> (SELECT count(*) FROM cell_classes);
  SELECT RAISE(ABORT, '[constraint] two classes in use share a review key')
  WHERE EXISTS (
    SELECT 1 FROM json_each(NEW.class_keys)
    WHERE key NOT IN (SELECT value FROM json_each(NEW.hidden_classes))
    GROUP BY value HAVING count(*) > 1);
END;

CREATE TRIGGER review_layout_rules_update BEFORE UPDATE ON review_layout
BEGIN
  SELECT RAISE(ABORT, '[unknown_class] the review layout names a class that is not a Matek 2021 class')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.class_order) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_each(NEW.hidden_classes) WHERE value NOT IN (SELECT code FROM cell_classes))
     OR EXISTS (SELECT 1 FROM json_each(NEW.class_keys) WHERE key NOT IN (SELECT code FROM cell_classes));
  SELECT RAISE(ABORT, '[constraint] the review class order must list every class once')
  WHERE (SELECT count(DISTINCT value) FROM json_each(NEW.class_order)) <> (SELECT count(*) FROM cell_classes)
     OR json_array_length(NEW.class_order) <> (SELECT count(*) FROM cell_classes);
  SELECT RAISE(ABORT, '[constraint] two classes in use share a review key')
  WHERE EXISTS (
    SELECT 1 FROM json_each(NEW.class_keys)
    WHERE key NOT IN (SELECT value FROM json_each(NEW.hidden_classes))
    GROUP BY value HAVING count(*) > 1);
END;
`,
};
