import type { Migration } from '../../migrations';

// PostgreSQL twin of migrations/0011-specimen-dates.ts: the date the specimen was taken, in a table of its own,
// fixed once the case is signed and never deleted.
export const pgMigration0011: Migration = {
  version: 11,
  name: 'specimen-dates',
  sql: `
CREATE TABLE case_specimen_dates (
  case_id bigint PRIMARY KEY REFERENCES cases (id),
  collected_on text NOT NULL CHECK (mc_iso_date_valid(collected_on)),
  recorded_by text NOT NULL CHECK (length(trim(recorded_by)) > 0),
  recorded_at text NOT NULL
);

CREATE FUNCTION case_specimen_dates_signed_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  SELECT accession, status INTO c FROM cases WHERE id = OLD.case_id FOR SHARE;
  IF c.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = format('[signed_case] case %s is signed; amend it (with a reason) before changing its specimen date', c.accession);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER case_specimen_dates_signed_frozen BEFORE UPDATE ON case_specimen_dates
  FOR EACH ROW EXECUTE FUNCTION case_specimen_dates_signed_frozen();
CREATE FUNCTION case_specimen_dates_no_insert_when_signed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  SELECT accession, status INTO c FROM cases WHERE id = NEW.case_id FOR SHARE;
  IF c.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = format('[signed_case] case %s is signed; amend it (with a reason) before recording its specimen date', c.accession);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER case_specimen_dates_no_insert_when_signed BEFORE INSERT ON case_specimen_dates
  FOR EACH ROW EXECUTE FUNCTION case_specimen_dates_no_insert_when_signed();
CREATE TRIGGER case_specimen_dates_immutable_delete BEFORE DELETE ON case_specimen_dates
  FOR EACH ROW EXECUTE FUNCTION mc_refuse('[immutable] a specimen date is never deleted; correct it instead');
CREATE TRIGGER case_specimen_dates_immutable_truncate BEFORE TRUNCATE ON case_specimen_dates
  FOR EACH STATEMENT EXECUTE FUNCTION mc_refuse('[immutable] a specimen date is never deleted; correct it instead');
`,
};
