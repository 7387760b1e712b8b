import type { Migration } from './index';

// Accounts, sessions and who did what (issue 20). Until now a reviewer was free text anyone could type; from here a
// person is a users row, and every review, undo, sign-off, amendment and audit row made in a session carries the
// user's id beside the printed name (the name stays: it is what was shown and printed at the time, and databases
// made before accounts have only names, user_id NULL, which the screens and reports show as recorded names).
//
// - users: never deleted (disabled instead), login unique without regard to case, at least one valid role, a
//   password hash only (scrypt, "scrypt$<log2 N>$<r>$<p>$<salt>$<key>", base64) — never a password.
//   The first account is an administrator created without a login; every later one names its creator.
// - sessions: an opaque random token per window / browser / CLI run, stored as its SHA-256 only, so a copy of the
//   database does not hand out live sessions.
// - security_settings: the idle-lock time and whether a pathologist who counted may sign alone (one row).
// - signatures: electronic signatures (21 CFR 11.50, 11.200): who (user id and printed name), in which role, with
//   which meaning (technical validation by a technician, medical authorisation by a pathologist), when, and a hash
//   of what was signed. Only a medical authorisation releases: it makes the sign-off, which names the technical
//   validation it rests on and carries the authoriser's interpretive comment.
// - Backstops in SQL: once any account exists, a review, sign-off or amendment must carry the user's id, the
//   printed name must be that user's, only a pathologist signs, and a signature's role is one its user holds.
export const migration0009: Migration = {
  version: 9,
  name: 'accounts',
  sql: `
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(login) BETWEEN 1 AND 64 AND login = trim(login)),
  display_name TEXT NOT NULL CHECK (length(trim(display_name)) > 0),
  roles TEXT NOT NULL CHECK (json_valid(roles) AND json_type(roles) = 'array' AND json_array_length(roles) > 0),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  password_hash TEXT NOT NULL CHECK (password_hash GLOB 'scrypt$*'),
  must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_out_until TEXT,
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id)
) STRICT;

CREATE TRIGGER users_no_delete BEFORE DELETE ON users
BEGIN SELECT RAISE(ABORT, '[immutable] an account is never deleted: disable it, so that its records keep their person'); END;

CREATE TRIGGER users_identity_fixed BEFORE UPDATE ON users
BEGIN
  SELECT RAISE(ABORT, '[immutable] an account''s login, creation and creator never change')
  WHERE NEW.id IS NOT OLD.id OR NEW.login IS NOT OLD.login OR NEW.created_at IS NOT OLD.created_at
     OR NEW.created_by IS NOT OLD.created_by;
END;

CREATE TRIGGER users_insert_rules BEFORE INSERT ON users
BEGIN
  SELECT RAISE(ABORT, '[constraint] the first account must be an administrator')
  WHERE NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM json_each(NEW.roles) WHERE value = 'admin');
  SELECT RAISE(ABORT, '[constraint] every account but the first names the administrator who created it')
  WHERE EXISTS (SELECT 1 FROM users) AND NEW.created_by IS NULL;
END;

CREATE TRIGGER users_roles_valid_insert BEFORE INSERT ON users
BEGIN
  SELECT RAISE(ABORT, '[constraint] a role must be technician, pathologist or admin')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.roles) WHERE value NOT IN ('technician', 'pathologist', 'admin'));
END;

CREATE TRIGGER users_roles_valid_update BEFORE UPDATE OF roles ON users
BEGIN
  SELECT RAISE(ABORT, '[constraint] a role must be technician, pathologist or admin')
  WHERE EXISTS (SELECT 1 FROM json_each(NEW.roles) WHERE value NOT IN ('technician', 'pathologist', 'admin'));
END;

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64 AND token_sha256 NOT GLOB '*[^0-9a-f]*'),
  transport TEXT NOT NULL CHECK (transport IN ('desktop', 'http', 'cli')),
  created_at TEXT NOT NULL,
  last_active_at TEXT NOT NULL,
  locked_at TEXT,
  ended_at TEXT,
  end_reason TEXT CHECK (end_reason IS NULL OR end_reason IN ('logout', 'replaced', 'disabled', 'password_changed', 'password_reset')),
  CHECK ((ended_at IS NULL) = (end_reason IS NULL))
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TRIGGER sessions_ended_stay_ended BEFORE UPDATE ON sessions
WHEN OLD.ended_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, '[immutable] an ended session is never revived'); END;

CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
BEGIN SELECT RAISE(ABORT, '[immutable] a session record is never deleted'); END;

CREATE TABLE security_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  idle_lock_minutes INTEGER NOT NULL CHECK (idle_lock_minutes BETWEEN 1 AND 240),
  pathologist_may_sign_alone INTEGER NOT NULL CHECK (pathologist_may_sign_alone IN (0, 1)),
  updated_at TEXT NOT NULL
) STRICT;

ALTER TABLE audit_log ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE reviews ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE sign_offs ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE amendments ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE lab_models ADD COLUMN approved_by_user_id INTEGER REFERENCES users (id);
ALTER TABLE lab_models ADD COLUMN retired_by_user_id INTEGER REFERENCES users (id);

CREATE TABLE signatures (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  user_id INTEGER NOT NULL REFERENCES users (id),
  printed_name TEXT NOT NULL CHECK (length(trim(printed_name)) > 0),
  role TEXT NOT NULL CHECK (role IN ('technician', 'pathologist')),
  meaning TEXT NOT NULL CHECK (meaning IN ('technical_validation', 'medical_authorisation')),
  signed_at TEXT NOT NULL,
  -- SHA-256 of the snapshot signed (the differential and review state at that moment).
  content_sha256 TEXT NOT NULL CHECK (length(content_sha256) = 64 AND content_sha256 NOT GLOB '*[^0-9a-f]*')
) STRICT;
CREATE INDEX signatures_case ON signatures (case_id, id);

CREATE TRIGGER signatures_immutable_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, '[immutable] a signature is never changed'); END;
CREATE TRIGGER signatures_immutable_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, '[immutable] a signature is never deleted'); END;

CREATE TRIGGER signatures_by_their_person BEFORE INSERT ON signatures
BEGIN
  SELECT RAISE(ABORT, '[constraint] a signature''s printed name must be its user''s name')
  WHERE NEW.printed_name IS NOT (SELECT display_name FROM users WHERE id = NEW.user_id);
  SELECT RAISE(ABORT, '[constraint] a signature''s role must be one its user holds, on an active account')
  WHERE NOT EXISTS (SELECT 1 FROM users AS u, json_each(u.roles) AS r WHERE u.id = NEW.user_id AND u.active = 1 AND r.value = NEW.role);
  SELECT RAISE(ABORT, '[constraint] only a pathologist medically authorises')
  WHERE NEW.meaning = 'medical_authorisation' AND NEW.role IS NOT 'pathologist';
END;

-- The release: which technical validation it rests on, and the authoriser's interpretive comment.
ALTER TABLE sign_offs ADD COLUMN validation_signature_id INTEGER REFERENCES signatures (id);
ALTER TABLE sign_offs ADD COLUMN authorisation_signature_id INTEGER REFERENCES signatures (id);
ALTER TABLE sign_offs ADD COLUMN interpretive_comment TEXT CHECK (interpretive_comment IS NULL OR length(trim(interpretive_comment)) > 0);

CREATE TRIGGER reviews_by_a_user BEFORE INSERT ON reviews
BEGIN
  SELECT RAISE(ABORT, '[constraint] once accounts exist, a review is recorded against a logged-in user')
  WHERE NEW.user_id IS NULL AND EXISTS (SELECT 1 FROM users);
  SELECT RAISE(ABORT, '[constraint] a review''s printed name must be its user''s name')
  WHERE NEW.user_id IS NOT NULL AND NEW.reviewer IS NOT (SELECT display_name FROM users WHERE id = NEW.user_id);
END;

CREATE TRIGGER sign_offs_by_a_pathologist BEFORE INSERT ON sign_offs
BEGIN
  SELECT RAISE(ABORT, '[constraint] once accounts exist, a sign-off is recorded against a logged-in user')
  WHERE NEW.user_id IS NULL AND EXISTS (SELECT 1 FROM users);
  SELECT RAISE(ABORT, '[constraint] a sign-off''s printed name must be its user''s name')
  WHERE NEW.user_id IS NOT NULL AND NEW.signed_by IS NOT (SELECT display_name FROM users WHERE id = NEW.user_id);
  SELECT RAISE(ABORT, '[constraint] only an active pathologist authorises a result')
  WHERE NEW.user_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM users AS u, json_each(u.roles) AS r WHERE u.id = NEW.user_id AND u.active = 1 AND r.value = 'pathologist');
END;

CREATE TRIGGER amendments_by_a_user BEFORE INSERT ON amendments
BEGIN
  SELECT RAISE(ABORT, '[constraint] once accounts exist, an amendment is recorded against a logged-in user')
  WHERE NEW.user_id IS NULL AND EXISTS (SELECT 1 FROM users);
  SELECT RAISE(ABORT, '[constraint] an amendment''s printed name must be its user''s name')
  WHERE NEW.user_id IS NOT NULL AND NEW.amended_by IS NOT (SELECT display_name FROM users WHERE id = NEW.user_id);
END;
`,
};
