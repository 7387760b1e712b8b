// Argument checks at the process boundary, shared by IPC and the loopback HTTP host. The renderer is treated as
// untrusted: every argument is rebuilt from what it sent (unknown fields rejected), so the service only ever sees
// values of the contract's shapes. Messages name the field, because the renderer shows them next to it.
import {
  CASE_STATUSES,
  CELL_SCOPES,
  EXPORT_FORMATS,
  SPECIMEN_TYPES,
  type API_METHODS,
  type CaseFilter,
  type CellQuery,
  type MarrowApi,
  type MarrowApiMethod,
  type ReviewLayout,
} from '../../shared/api';
import { CELL_CLASS_CODES, isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { MINIMUM_PER_CLASS_CEILING, MINIMUM_PER_CLASS_FLOOR } from '../../shared/lab-training';
import {
  formatLisCodeMapping,
  LIS_SETTINGS_CHECKS,
  LisMappingError,
  parseLisCodeMapping,
  type LisCodeOverride,
  type LisSettings,
  type LisSettingsProblem,
} from '../../shared/lis';
import { isRole, ROLES, type Role } from '../../shared/roles';
import { validationError } from '../service/errors';

type Check<T> = (value: unknown, field: string) => T;

/** Long enough for any real name, path or reason; short enough that a runaway payload is refused early. */
const MAX_TEXT = 500;
const MAX_PATH = 4096;
/** Confirming a whole page of the review grid at once; larger batches are a bug in the caller. */
const MAX_BATCH = 1000;
const MAX_PAGE = 1000;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : typeof value;
}

function text(options: { max?: number; label: string }): Check<string> {
  const max = options.max ?? MAX_TEXT;
  return (value, field) => {
    if (typeof value !== 'string') throw validationError(field, `${options.label} must be text (got ${describe(value)}).`);
    const trimmed = value.trim();
    if (trimmed.length === 0) throw validationError(field, `${options.label} is required.`);
    if (trimmed.length > max) throw validationError(field, `${options.label} is too long (${trimmed.length} characters; at most ${max}).`);
    // Control characters have no place in a name or a path and would corrupt the report or the audit trail; the
    // text-direction overrides and isolates (U+202A-202E, U+2066-2069) would let a signer's name print reordered.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(trimmed)) {
      throw validationError(field, `${options.label} contains control or text-direction characters.`);
    }
    return trimmed;
  };
}

/** Optional text: absent, null or blank all mean "not given". */
function optionalText(options: { max?: number; label: string }): Check<string | undefined> {
  const required = text(options);
  return (value, field) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && value.trim().length === 0) return undefined;
    return required(value, field);
  };
}

/** Text that may be empty (settings the user has not filled in yet). */
function textOrEmpty(options: { max?: number; label: string }): Check<string> {
  const required = text(options);
  return (value, field) => {
    if (typeof value === 'string' && value.trim().length === 0) return '';
    return required(value, field);
  };
}

function positiveInteger(label: string): Check<number> {
  return (value, field) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw validationError(field, `${label} must be a positive whole number (got ${describe(value)}${typeof value === 'number' ? ` ${value}` : ''}).`);
    }
    return value;
  };
}

function optionalNonNegativeInteger(label: string, max: number): Check<number | undefined> {
  return (value, field) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
      throw validationError(field, `${label} must be a whole number from 0 to ${max}.`);
    }
    return value;
  };
}

function oneOf<T extends string>(allowed: readonly T[], label: string): Check<T> {
  return (value, field) => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw validationError(field, `${label} must be one of ${allowed.join(', ')}.`);
    }
    return value as T;
  };
}

function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, field) => (value === undefined || value === null ? undefined : check(value, field));
}

const cellClass: Check<CellClassCode> = (value, field) => {
  if (typeof value !== 'string' || !isCellClassCode(value)) {
    throw validationError(
      field,
      `${field} must be a Matek cell class code such as BLA or NGS (got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : describe(value)}).`,
    );
  }
  return value;
};

function isoDate(value: unknown, field: string, label = 'Birth date'): string {
  const s = text({ label, max: 10 })(value, field);
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const date = match ? new Date(`${s}T00:00:00Z`) : null;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== s) {
    throw validationError(field, `${label} must be a date written YYYY-MM-DD.`);
  }
  return s;
}

/** Reads an object's fields, refusing any the contract does not declare. */
function record(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError(field, `${field} must be an object (got ${describe(value)}).`);
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw validationError(field, `${field} must be a plain object.`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw validationError(`${field}.${key}`, `${field} has an unknown field "${key.slice(0, 40)}".`);
  }
  return value as Record<string, unknown>;
}

const caseId = positiveInteger('Case id');
const labModelId = positiveInteger('Lab model id');

function caseFilter(value: unknown): CaseFilter {
  if (value === undefined || value === null) return {};
  const r = record(value, 'filter', ['search', 'status', 'limit', 'offset']);
  const filter: CaseFilter = {};
  const search = optional(textOrEmpty({ label: 'Search', max: 200 }))(r['search'], 'search');
  if (search) filter.search = search;
  const status = optional(oneOf(CASE_STATUSES, 'Status'))(r['status'], 'status');
  if (status) filter.status = status;
  const limit = optionalNonNegativeInteger('Limit', MAX_PAGE)(r['limit'], 'limit');
  if (limit !== undefined) filter.limit = limit;
  const offset = optionalNonNegativeInteger('Offset', Number.MAX_SAFE_INTEGER)(r['offset'], 'offset');
  if (offset !== undefined) filter.offset = offset;
  return filter;
}

function newCase(value: unknown): Parameters<MarrowApi['createCase']>[0] {
  const r = record(value, 'case', ['patient', 'accession', 'specimen', 'folder', 'specimenDate', 'confirmSharedCrops']);
  const p = record(r['patient'] ?? {}, 'patient', ['labId', 'name', 'birthDate']);
  const patient: Parameters<MarrowApi['createCase']>[0]['patient'] = {
    labId: text({ label: 'Patient ID', max: 64 })(p['labId'], 'patient.labId'),
  };
  const name = optionalText({ label: 'Patient name', max: 200 })(p['name'], 'patient.name');
  if (name !== undefined) patient.name = name;
  const birth = p['birthDate'];
  if (birth !== undefined && birth !== null && !(typeof birth === 'string' && birth.trim() === '')) {
    patient.birthDate = isoDate(birth, 'patient.birthDate');
  }
  const input: Parameters<MarrowApi['createCase']>[0] = {
    patient,
    accession: text({ label: 'Accession number', max: 64 })(r['accession'], 'accession'),
    specimen: oneOf(SPECIMEN_TYPES, 'Specimen type')(r['specimen'], 'specimen'),
    folder: text({ label: 'Folder', max: MAX_PATH })(r['folder'], 'folder'),
  };
  const specimenDate = r['specimenDate'];
  if (specimenDate !== undefined && specimenDate !== null && !(typeof specimenDate === 'string' && specimenDate.trim() === '')) {
    input.specimenDate = isoDate(specimenDate, 'specimenDate', 'Specimen date');
  }
  // Present only when the person confirms crops another patient's case holds: then a reason is required, never blank.
  if (r['confirmSharedCrops'] !== undefined) {
    const c = record(r['confirmSharedCrops'], 'confirmSharedCrops', ['reason']);
    input.confirmSharedCrops = {
      reason: text({ label: 'Reason for filing crops another patient’s case holds', max: 1000 })(c['reason'], 'confirmSharedCrops.reason'),
    };
  }
  return input;
}

/**
 * The review layout's shape: a key (text) for each of the 21 classes, the order and the hidden classes as lists of
 * class codes. Refusals name the top-level field; its rules (every class once, distinct keys) are the service's.
 */
function reviewLayout(value: unknown): ReviewLayout {
  const r = record(value, 'layout', ['keys', 'order', 'hidden']);
  const keys = r['keys'];
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys) || Object.getPrototypeOf(keys) !== Object.prototype) {
    throw validationError('keys', 'The keys must be an object of class code → key.');
  }
  const given = keys as Record<string, unknown>;
  const unknown = Object.keys(given).find((code) => !isCellClassCode(code));
  if (unknown !== undefined) throw validationError('keys', `The keys name "${unknown.slice(0, 20)}", which is not a cell class code.`);
  const keyRecord = {} as Record<CellClassCode, string>;
  for (const code of CELL_CLASS_CODES) {
    const key = given[code];
    if (typeof key !== 'string' || key.length > 4) throw validationError('keys', `The key of ${code} must be given, as one letter or digit.`);
    keyRecord[code] = key.trim().toLowerCase();
  }
  const codes = (list: unknown, field: string): CellClassCode[] => {
    if (!Array.isArray(list) || list.length > CELL_CLASS_CODES.length || !list.every((code) => isCellClassCode(code))) {
      throw validationError(
        field,
        `${field === 'order' ? 'The class order' : 'The hidden classes'} must be a list of at most ${CELL_CLASS_CODES.length} cell class codes.`,
      );
    }
    return list as CellClassCode[];
  };
  return { keys: keyRecord, order: codes(r['order'], 'order'), hidden: codes(r['hidden'] ?? [], 'hidden') };
}

function cellQuery(value: unknown): CellQuery {
  const r = record(value, 'query', ['caseId', 'scope', 'predictedClass', 'effectiveClass', 'file', 'offset', 'limit']);
  const query: CellQuery = {
    caseId: caseId(r['caseId'], 'caseId'),
    scope: oneOf(CELL_SCOPES, 'Scope')(r['scope'], 'scope'),
  };
  const predicted = optional(cellClass)(r['predictedClass'], 'predictedClass');
  if (predicted) query.predictedClass = predicted;
  const effective = optional(cellClass)(r['effectiveClass'], 'effectiveClass');
  if (effective) query.effectiveClass = effective;
  const file = optionalText({ label: 'File name', max: 260 })(r['file'], 'file');
  if (file !== undefined) query.file = file;
  const offset = optionalNonNegativeInteger('Offset', Number.MAX_SAFE_INTEGER)(r['offset'], 'offset');
  if (offset !== undefined) query.offset = offset;
  const limit = optionalNonNegativeInteger('Limit', MAX_PAGE)(r['limit'], 'limit');
  if (limit !== undefined) query.limit = limit;
  return query;
}

/**
 * A password is taken as typed (no trimming: a space may be part of it) and never echoed in a message. Its rules
 * (length, not the login) are the service's (security/password.ts); here only its type and a sane bound.
 */
function password(label: string): Check<string> {
  return (value, field) => {
    if (typeof value !== 'string') throw validationError(field, `${label} must be text.`);
    if (value.length === 0) throw validationError(field, `${label} is required.`);
    if (value.length > 1000) throw validationError(field, `${label} is too long.`);
    return value;
  };
}

const login: Check<string> = (value, field) => {
  const s = text({ label: 'Login name', max: 64 })(value, field);
  if (!/^[A-Za-z0-9._@-]+$/.test(s)) throw validationError(field, 'A login name has letters, digits and . _ @ - only (no spaces).');
  return s;
};
const displayName = text({ label: 'Name', max: 120 });
/** A cell's or a case's version as the person saw it (0: no decision yet). */
const version = (label: string) => optionalNonNegativeInteger(label, Number.MAX_SAFE_INTEGER);

function seenVersions(value: unknown, field: string, count: number): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length !== count) throw validationError(field, `${field} must list one version per cell (${count}).`);
  const check = version('Cell version');
  return value.map((v, i) => {
    const checked = check(v, `${field}[${i}]`);
    if (checked === undefined) throw validationError(`${field}[${i}]`, 'Cell version must be a whole number from 0.');
    return checked;
  });
}
const userId = positiveInteger('Account id');

function roles(value: unknown, field: string): Role[] {
  if (!Array.isArray(value)) throw validationError(field, `Roles must be a list of ${ROLES.join(', ')}.`);
  if (value.length === 0) throw validationError(field, 'Give the account at least one role.');
  const out: Role[] = [];
  value.forEach((v, i) => {
    if (!isRole(v)) throw validationError(`${field}[${i}]`, `A role must be one of ${ROLES.join(', ')}.`);
    if (!out.includes(v)) out.push(v);
  });
  return out;
}

function boolean(label: string): Check<boolean> {
  return (value, field) => {
    if (typeof value !== 'boolean') throw validationError(field, `${label} must be true or false.`);
    return value;
  };
}

/**
 * The interpretive comment: free text of a few paragraphs, so line breaks and tabs are allowed (unlike a name);
 * other control characters and the text-direction overrides are not.
 */
function optionalComment(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationError(field, 'The interpretive comment must be text.');
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length > 4000) throw validationError(field, `The interpretive comment is too long (${trimmed.length} characters; at most 4000).`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(trimmed)) {
    throw validationError(field, 'The interpretive comment contains control or text-direction characters.');
  }
  return trimmed.replace(/\r\n?/g, '\n');
}

function imageIds(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) throw validationError(field, `${field} must be a list of cell ids.`);
  if (value.length === 0) throw validationError(field, 'Choose at least one cell to confirm.');
  if (value.length > MAX_BATCH) throw validationError(field, `At most ${MAX_BATCH} cells can be confirmed at once.`);
  const check = positiveInteger('Cell id');
  // Kept as sent (repeats included), so that an error can name the element by its index in the caller's list; the
  // service confirms a repeated cell once.
  return value.map((v, i) => check(v, `${field}[${i}]`));
}

/** An HL7 v2 / FHIR identifier-ish setting: free text, but no delimiter-free guarantee is needed (it is escaped). */
const lisText = (label: string, max = 120) => textOrEmpty({ label, max });

function lisSettings(value: unknown): LisSettings {
  const r = record(value, 'lisSettings', [
    'enabled',
    'sendingApplication',
    'sendingFacility',
    'receivingApplication',
    'receivingFacility',
    'patientIdAuthority',
    'patientIdSystem',
    'outboxFolder',
    'mllpHost',
    'mllpPort',
    'codeMapping',
  ]);
  if (typeof r['enabled'] !== 'boolean') throw validationError('enabled', 'Whether LIS delivery is on must be true or false.');
  // The rules on each value are the settings form's too (LIS_SETTINGS_CHECKS in src/shared/lis.ts).
  const refuse = (problem: LisSettingsProblem | null): void => {
    if (problem !== null) throw validationError(problem.field, problem.message);
  };
  const patientIdSystem = lisText('Patient identifier system', 300)(r['patientIdSystem'] ?? '', 'patientIdSystem');
  refuse(LIS_SETTINGS_CHECKS.patientIdSystem(patientIdSystem));
  const outboxFolder = textOrEmpty({ label: 'Outbox folder', max: MAX_PATH })(r['outboxFolder'] ?? '', 'outboxFolder');
  refuse(LIS_SETTINGS_CHECKS.outboxFolder(outboxFolder));
  const mllpHost = lisText('MLLP host', 253)(r['mllpHost'] ?? '', 'mllpHost');
  refuse(LIS_SETTINGS_CHECKS.mllpHost(mllpHost));
  const port = r['mllpPort'];
  if (port !== null && port !== undefined && typeof port !== 'number') refuse(LIS_SETTINGS_CHECKS.mllpPort(Number.NaN));
  const mllpPort = typeof port === 'number' ? port : null;
  refuse(LIS_SETTINGS_CHECKS.mllpPort(mllpPort));
  refuse(LIS_SETTINGS_CHECKS.mllpPair(mllpHost, mllpPort));
  return {
    enabled: r['enabled'],
    sendingApplication: lisText('Sending application')(r['sendingApplication'] ?? '', 'sendingApplication'),
    sendingFacility: lisText('Sending facility')(r['sendingFacility'] ?? '', 'sendingFacility'),
    receivingApplication: lisText('Receiving application')(r['receivingApplication'] ?? '', 'receivingApplication'),
    receivingFacility: lisText('Receiving facility')(r['receivingFacility'] ?? '', 'receivingFacility'),
    patientIdAuthority: lisText('Patient identifier namespace')(r['patientIdAuthority'] ?? '', 'patientIdAuthority'),
    patientIdSystem,
    outboxFolder,
    mllpHost,
    mllpPort,
    codeMapping: codeMapping(r['codeMapping'] ?? []),
  };
}

/** Each override is checked by the very parser the settings text goes through, so both accept the same. */
function codeMapping(value: unknown): LisCodeOverride[] {
  if (!Array.isArray(value)) throw validationError('codeMapping', 'The code mapping must be a list.');
  if (value.length > 200) throw validationError('codeMapping', 'The code mapping has more than 200 lines.');
  // Every problem names the field 'codeMapping' and says the line: the settings edit the mapping as one text.
  const entries = value.map((entry, i) => {
    const r = record(entry, 'codeMapping', ['component', 'code', 'hl7System', 'fhirSystem']);
    const field = (key: string) => {
      const v = r[key];
      // eslint-disable-next-line no-control-regex
      if (typeof v !== 'string' || /[\u0000-\u001f|]/.test(v))
        throw validationError('codeMapping', `Line ${i + 1} of the code mapping: ${key} must be text without | or line breaks.`);
      return v.trim();
    };
    return { component: field('component'), code: field('code'), hl7System: field('hl7System'), fhirSystem: field('fhirSystem') } as LisCodeOverride;
  });
  try {
    return parseLisCodeMapping(formatLisCodeMapping(entries));
  } catch (e) {
    if (e instanceof LisMappingError) throw validationError('codeMapping', e.message);
    throw e;
  }
}

/** The lab model's minimum of reviewed cells per class, from the floor to the ceiling of src/shared/lab-training.ts. */
function minimumPerClass(minimum: unknown): number {
  if (typeof minimum !== 'number' || !Number.isSafeInteger(minimum) || minimum < MINIMUM_PER_CLASS_FLOOR || minimum > MINIMUM_PER_CLASS_CEILING) {
    throw validationError(
      'minimumPerClass',
      `The minimum of reviewed cells per class must be a whole number from ${MINIMUM_PER_CLASS_FLOOR} to ${MINIMUM_PER_CLASS_CEILING}.`,
    );
  }
  return minimum;
}

type Args<M extends MarrowApiMethod> = Parameters<MarrowApi[M]>;

/** The check of a method that takes no argument; its arity (0) is read from it, like every other's (1). */
const NO_ARGS = Symbol('no arguments');
/**
 * One entry per method of the contract (the mapped type refuses a missing or unknown one): NO_ARGS for a method
 * without parameters, else the check that rebuilds its one argument. A method with more than one parameter does
 * not compile here, so the arity read from this table is the contract's.
 */
type ArgChecks = {
  [M in (typeof API_METHODS)[number]]: Args<M> extends []
    ? typeof NO_ARGS
    : Args<M> extends [infer A]
      ? (value: unknown) => A
      : Args<M> extends [(infer A)?]
        ? (value: unknown) => A | undefined
        : never;
};

const checks: ArgChecks = {
  getSession: NO_ARGS,
  createFirstAdmin: (v) => {
    const r = record(v, 'administrator', ['login', 'displayName', 'password']);
    return {
      login: login(r['login'], 'login'),
      displayName: displayName(r['displayName'], 'displayName'),
      password: password('Password')(r['password'], 'password'),
    };
  },
  login: (v) => {
    const r = record(v, 'credentials', ['login', 'password']);
    return { login: text({ label: 'Login name', max: 64 })(r['login'], 'login'), password: password('Password')(r['password'], 'password') };
  },
  logout: NO_ARGS,
  lockSession: NO_ARGS,
  unlockSession: (v) => {
    const r = record(v, 'unlock', ['password']);
    return { password: password('Password')(r['password'], 'password') };
  },
  changePassword: (v) => {
    const r = record(v, 'passwordChange', ['currentPassword', 'newPassword']);
    return {
      currentPassword: password('Current password')(r['currentPassword'], 'currentPassword'),
      newPassword: password('New password')(r['newPassword'], 'newPassword'),
    };
  },
  listUsers: NO_ARGS,
  createUser: (v) => {
    const r = record(v, 'user', ['login', 'displayName', 'roles', 'password']);
    return {
      login: login(r['login'], 'login'),
      displayName: displayName(r['displayName'], 'displayName'),
      roles: roles(r['roles'], 'roles'),
      password: password('Password')(r['password'], 'password'),
    };
  },
  setUserActive: (v) => {
    const r = record(v, 'user', ['userId', 'active']);
    return { userId: userId(r['userId'], 'userId'), active: boolean('Active')(r['active'], 'active') };
  },
  setUserRoles: (v) => {
    const r = record(v, 'user', ['userId', 'roles']);
    return { userId: userId(r['userId'], 'userId'), roles: roles(r['roles'], 'roles') };
  },
  resetUserPassword: (v) => {
    const r = record(v, 'reset', ['userId', 'newPassword']);
    return { userId: userId(r['userId'], 'userId'), newPassword: password('New password')(r['newPassword'], 'newPassword') };
  },
  getSecuritySettings: NO_ARGS,
  saveSecuritySettings: (v) => {
    const r = record(v, 'securitySettings', ['idleLockMinutes', 'pathologistMaySignAlone']);
    const minutes = r['idleLockMinutes'];
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 240) {
      throw validationError('idleLockMinutes', 'The idle lock must be a whole number of minutes from 1 to 240.');
    }
    return {
      idleLockMinutes: minutes,
      pathologistMaySignAlone: boolean('Whether a pathologist may sign alone')(r['pathologistMaySignAlone'], 'pathologistMaySignAlone'),
    };
  },
  listCases: caseFilter,
  createCase: newCase,
  getCase: (v) => caseId(v, 'caseId'),
  correctPatientName: (v) => {
    const r = record(v, 'correction', ['caseId', 'name', 'reason']);
    return {
      caseId: caseId(r['caseId'], 'caseId'),
      name: text({ label: 'Patient name', max: 200 })(r['name'], 'name'),
      reason: text({ label: 'Reason for the correction', max: 1000 })(r['reason'], 'reason'),
    };
  },
  startAnalysis: (v) => caseId(v, 'caseId'),
  cancelAnalysis: (v) => caseId(v, 'caseId'),
  getAnalysisProgress: (v) => caseId(v, 'caseId'),
  getDifferential: (v) => caseId(v, 'caseId'),
  listCells: cellQuery,
  reviewCell: (v) => {
    const r = record(v, 'review', ['caseId', 'imageId', 'label', 'note', 'seenVersion']);
    const input: Args<'reviewCell'>[0] = {
      caseId: caseId(r['caseId'], 'caseId'),
      imageId: positiveInteger('Cell id')(r['imageId'], 'imageId'),
      label: cellClass(r['label'], 'label'),
    };
    const note = optionalText({ label: 'Note', max: 1000 })(r['note'], 'note');
    if (note !== undefined) input.note = note;
    const seen = version('Cell version')(r['seenVersion'], 'seenVersion');
    if (seen !== undefined) input.seenVersion = seen;
    return input;
  },
  confirmCells: (v) => {
    const r = record(v, 'confirmation', ['caseId', 'imageIds', 'seenVersions']);
    const ids = imageIds(r['imageIds'], 'imageIds');
    const input: Args<'confirmCells'>[0] = { caseId: caseId(r['caseId'], 'caseId'), imageIds: ids };
    const seen = seenVersions(r['seenVersions'], 'seenVersions', ids.length);
    if (seen !== undefined) input.seenVersions = seen;
    return input;
  },
  undoReview: (v) => {
    const r = record(v, 'undo', ['caseId', 'imageId', 'seenVersion']);
    const input: Args<'undoReview'>[0] = { caseId: caseId(r['caseId'], 'caseId') };
    if (r['imageId'] !== undefined && r['imageId'] !== null) input.imageId = positiveInteger('Cell id')(r['imageId'], 'imageId');
    const seen = version('Cell version')(r['seenVersion'], 'seenVersion');
    if (seen !== undefined) input.seenVersion = seen;
    return input;
  },
  submitCase: (v) => {
    const r = record(v, 'submission', ['caseId', 'password', 'overrideReason', 'caseVersion']);
    const input: Args<'submitCase'>[0] = { caseId: caseId(r['caseId'], 'caseId'), password: password('Password')(r['password'], 'password') };
    const reason = optionalText({ label: 'Override reason', max: 1000 })(r['overrideReason'], 'overrideReason');
    if (reason !== undefined) input.overrideReason = reason;
    const seen = version('Case version')(r['caseVersion'], 'caseVersion');
    if (seen !== undefined) input.caseVersion = seen;
    return input;
  },
  authoriseCase: (v) => {
    const r = record(v, 'authorisation', ['caseId', 'password', 'interpretiveComment', 'overrideReason', 'caseVersion']);
    const input: Args<'authoriseCase'>[0] = { caseId: caseId(r['caseId'], 'caseId'), password: password('Password')(r['password'], 'password') };
    const comment = optionalComment(r['interpretiveComment'], 'interpretiveComment');
    if (comment !== undefined) input.interpretiveComment = comment;
    const reason = optionalText({ label: 'Override reason', max: 1000 })(r['overrideReason'], 'overrideReason');
    if (reason !== undefined) input.overrideReason = reason;
    const seen = version('Case version')(r['caseVersion'], 'caseVersion');
    if (seen !== undefined) input.caseVersion = seen;
    return input;
  },
  amendCase: (v) => {
    const r = record(v, 'amendment', ['caseId', 'reason', 'caseVersion']);
    const input: Args<'amendCase'>[0] = {
      caseId: caseId(r['caseId'], 'caseId'),
      reason: text({ label: 'Reason for the amendment', max: 1000 })(r['reason'], 'reason'),
    };
    const seen = version('Case version')(r['caseVersion'], 'caseVersion');
    if (seen !== undefined) input.caseVersion = seen;
    return input;
  },
  excludeRemainingFiles: (v) => {
    const r = record(v, 'exclusion', ['caseId', 'reason']);
    return {
      caseId: caseId(r['caseId'], 'caseId'),
      reason: text({ label: 'Reason for excluding the remaining files', max: 1000 })(r['reason'], 'reason'),
    };
  },
  saveReport: (v) => {
    const r = record(v, 'report', ['caseId', 'path']);
    const input: Args<'saveReport'>[0] = { caseId: caseId(r['caseId'], 'caseId') };
    const path = optionalText({ label: 'File path', max: MAX_PATH })(r['path'], 'path');
    if (path !== undefined) input.path = path;
    return input;
  },
  exportCase: (v) => {
    const r = record(v, 'export', ['caseId', 'format', 'path']);
    const input: Args<'exportCase'>[0] = {
      caseId: caseId(r['caseId'], 'caseId'),
      format: oneOf(EXPORT_FORMATS, 'Export format')(r['format'], 'format'),
    };
    const path = optionalText({ label: 'File path', max: MAX_PATH })(r['path'], 'path');
    if (path !== undefined) input.path = path;
    return input;
  },
  getSettings: NO_ARGS,
  saveSettings: (v) => {
    const r = record(v, 'settings', ['labName']);
    return { labName: textOrEmpty({ label: 'Laboratory name', max: 200 })(r['labName'] ?? '', 'labName') };
  },
  getAbout: NO_ARGS,
  getReviewLayout: NO_ARGS,
  saveReviewLayout: reviewLayout,
  getLisSettings: NO_ARGS,
  saveLisSettings: lisSettings,
  getLisStatus: (v) => caseId(v, 'caseId'),
  resendToLis: (v) => caseId(v, 'caseId'),
  trainLabModel: (v) => {
    const r = record(v ?? {}, 'training', ['minimumPerClass']);
    const input: Args<'trainLabModel'>[0] = {};
    const minimum = r['minimumPerClass'];
    if (minimum !== undefined && minimum !== null) input.minimumPerClass = minimumPerClass(minimum);
    return input;
  },
  getLabTrainingMaterial: (v) => {
    if (v === undefined || v === null) return {};
    const r = record(v, 'material', ['minimumPerClass']);
    const minimum = r['minimumPerClass'];
    if (minimum === undefined || minimum === null) return {};
    return { minimumPerClass: minimumPerClass(minimum) };
  },
  cancelLabModelTraining: NO_ARGS,
  getLabModelTrainingProgress: NO_ARGS,
  listLabModels: NO_ARGS,
  getLabModel: (v) => labModelId(v, 'labModelId'),
  approveLabModel: (v) => {
    const r = record(v, 'approval', ['labModelId', 'reason']);
    return {
      labModelId: labModelId(r['labModelId'], 'labModelId'),
      reason: text({ label: 'Reason for the approval', max: 1000 })(r['reason'], 'reason'),
    };
  },
  retireLabModel: (v) => {
    const r = record(v, 'retirement', ['labModelId', 'reason']);
    return {
      labModelId: labModelId(r['labModelId'], 'labModelId'),
      reason: text({ label: 'Reason for retiring', max: 1000 })(r['reason'], 'reason'),
    };
  },
  analyseWithLabModel: (v) => {
    const r = record(v, 'analysis', ['caseId', 'labModelId']);
    return { caseId: caseId(r['caseId'], 'caseId'), labModelId: labModelId(r['labModelId'], 'labModelId') };
  },
  exportLabModel: (v) => {
    const r = record(v, 'export', ['labModelId', 'path']);
    const input: Args<'exportLabModel'>[0] = { labModelId: labModelId(r['labModelId'], 'labModelId') };
    const path = optionalText({ label: 'File path', max: MAX_PATH })(r['path'], 'path');
    if (path !== undefined) input.path = path;
    return input;
  },
  importLabModel: (v) => {
    const r = record(v, 'import', ['path']);
    return { path: text({ label: 'File path', max: MAX_PATH })(r['path'], 'path') };
  },
  saveLabModelCard: (v) => {
    const r = record(v, 'card', ['labModelId', 'path']);
    const input: Args<'saveLabModelCard'>[0] = { labModelId: labModelId(r['labModelId'], 'labModelId') };
    const path = optionalText({ label: 'File path', max: MAX_PATH })(r['path'], 'path');
    if (path !== undefined) input.path = path;
    return input;
  },
  getPatientHistory: (v) => {
    const r = record(v, 'history', ['patientLabId']);
    return { patientLabId: text({ label: 'Patient ID', max: 64 })(r['patientLabId'], 'patientLabId') };
  },
  getCaseHistory: (v) => caseId(v, 'caseId'),
};

export function isApiMethod(name: string): name is MarrowApiMethod {
  return Object.prototype.hasOwnProperty.call(checks, name);
}

/** Checks a call's arguments; throws a ServiceError of kind 'validation' naming the field at fault. */
export function validateArgs<M extends MarrowApiMethod>(method: M, args: unknown): Args<M> {
  if (!Array.isArray(args)) throw validationError('args', `${method}: the arguments must be a list.`);
  const check = checks[method] as typeof NO_ARGS | ((value: unknown) => Args<M>[0]);
  const arity = check === NO_ARGS ? 0 : 1;
  if (args.length > arity) {
    throw validationError('args', `${method} takes ${arity} argument(s); got ${args.length}.`);
  }
  return (check === NO_ARGS ? [] : [check(args[0])]) as Args<M>;
}
