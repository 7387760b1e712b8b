import type { Migration } from './index';

// The date the specimen was taken (issue 25: a patient's marrows are followed by specimen date). A table of its own
// rather than a column of `cases`, so that the case table's own triggers (signed cases frozen) and its rebuilds by
// other migrations stay as they are. Cases created before this migration have no row: their creation day stands in,
// and every view says so. The date is fixed once the case is signed, like the rest of the case.
export const migration0011: Migration = {
  version: 11,
  name: 'specimen-dates',
  sql: `
CREATE TABLE case_specimen_dates (
  case_id INTEGER PRIMARY KEY REFERENCES cases (id),
  collected_on TEXT NOT NULL CHECK (
    collected_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(collected_on) IS collected_on),
  recorded_by TEXT NOT NULL CHECK (length(trim(recorded_by)) > 0),
  recorded_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER case_specimen_dates_signed_frozen BEFORE UPDATE ON case_specimen_dates
WHEN (SELECT status FROM cases WHERE id = OLD.case_id) = 'signed'
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = OLD.case_id) ||
      ' is signed; amend it (with a reason) before changing its specimen date');
END;
CREATE TRIGGER case_specimen_dates_no_insert_when_signed BEFORE INSERT ON case_specimen_dates
WHEN (SELECT status FROM cases WHERE id = NEW.case_id) = 'signed'
BEGIN
  SELECT RAISE(ABORT, '[signed_case] case ' || (SELECT accession FROM cases WHERE id = NEW.case_id) ||
      ' is signed; amend it (with a reason) before recording its specimen date');
END;
CREATE TRIGGER case_specimen_dates_immutable_delete BEFORE DELETE ON case_specimen_dates
BEGIN SELECT RAISE(ABORT, '[immutable] a specimen date is never deleted; correct it instead'); END;
`,
};
