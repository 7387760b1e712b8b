import type { Migration } from './index';

// Results to the laboratory information system. Numbered 5, leaving 4 to the migration being written on main at
// the same time; versions only need to increase (see migrate.ts), so 1, 2, 3, 5 is a valid history until 4 lands.
//
// - lis_settings: one row, the LIS settings as JSON (the key/value settings table only accepts its three keys).
// - lis_results: written in the sign-off's own transaction while delivery is on, so that a signed result can never
//   be lost between signing and sending; built_at is set in the transaction that stores its messages. Sign-offs
//   from before this migration get no row: they are not sent on upgrade.
// - lis_messages: the exact text sent, immutable, under a control id (MSH-10 / Bundle.identifier) that is unique
//   and fixed before the first attempt, so a message resent after a crash carries the same id and the LIS can
//   recognise the repeat. A manual resend is a new message with a new id.
// - lis_deliveries: one per message and channel (outbox file, MLLP), with its state. 'sending' is written and
//   committed before a byte goes on the wire; a delivery found 'sending' after a restart is sent again.
export const migration0005: Migration = {
  version: 5,
  name: 'lis-delivery',
  sql: `
CREATE TABLE lis_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value TEXT NOT NULL CHECK (json_valid(value)),
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE lis_results (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  sign_off_id INTEGER NOT NULL UNIQUE REFERENCES sign_offs (id),
  -- F: the first result the LIS receives for the case; C: a corrected result after an amendment.
  result_status TEXT NOT NULL CHECK (result_status IN ('F', 'C')),
  created_at TEXT NOT NULL,
  built_at TEXT,
  build_error TEXT CHECK (build_error IS NULL OR length(build_error) > 0)
) STRICT;
CREATE INDEX lis_results_case ON lis_results (case_id, id);
CREATE INDEX lis_results_unbuilt ON lis_results (id) WHERE built_at IS NULL;

CREATE TABLE lis_messages (
  id INTEGER PRIMARY KEY,
  result_id INTEGER NOT NULL REFERENCES lis_results (id),
  case_id INTEGER NOT NULL REFERENCES cases (id),
  format TEXT NOT NULL CHECK (format IN ('hl7v2', 'fhir-r4')),
  control_id TEXT NOT NULL UNIQUE CHECK (length(control_id) BETWEEN 1 AND 199),
  payload TEXT NOT NULL CHECK (length(payload) > 0),
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX lis_messages_case ON lis_messages (case_id, id);

CREATE TABLE lis_deliveries (
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES lis_messages (id),
  channel TEXT NOT NULL CHECK (channel IN ('outbox', 'mllp')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'acknowledged', 'error')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT,
  last_error TEXT,
  ack_code TEXT,
  destination TEXT,
  updated_at TEXT NOT NULL,
  UNIQUE (message_id, channel)
) STRICT;
CREATE INDEX lis_deliveries_open ON lis_deliveries (channel, id) WHERE status IN ('queued', 'sending');

CREATE TRIGGER lis_messages_immutable_update BEFORE UPDATE ON lis_messages
BEGIN SELECT RAISE(ABORT, '[immutable] a message to the LIS is never changed; resend makes a new one'); END;
CREATE TRIGGER lis_messages_immutable_delete BEFORE DELETE ON lis_messages
BEGIN SELECT RAISE(ABORT, '[immutable] a message to the LIS is never deleted'); END;
CREATE TRIGGER lis_deliveries_mllp_is_hl7 BEFORE INSERT ON lis_deliveries
BEGIN
  SELECT RAISE(ABORT, '[constraint] only HL7 v2 messages are sent over MLLP')
  WHERE NEW.channel = 'mllp' AND (SELECT format FROM lis_messages WHERE id = NEW.message_id) IS NOT 'hl7v2';
END;
CREATE TRIGGER lis_deliveries_final BEFORE UPDATE ON lis_deliveries
WHEN OLD.status IN ('acknowledged', 'sent') AND NEW.status IS NOT OLD.status
BEGIN SELECT RAISE(ABORT, '[constraint] a delivered message stays delivered; resend makes a new message'); END;
CREATE TRIGGER lis_deliveries_no_delete BEFORE DELETE ON lis_deliveries
BEGIN SELECT RAISE(ABORT, '[immutable] a delivery record is never deleted'); END;
CREATE TRIGGER lis_results_no_delete BEFORE DELETE ON lis_results
BEGIN SELECT RAISE(ABORT, '[immutable] a result to the LIS is never deleted'); END;
`,
};
