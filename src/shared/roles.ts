// Who may call what: the one role table (issue 20). The service enforces it on every method in one place
// (service/session-api.ts), the renderer only hides what it forbids, and a test calls every method with no session,
// an expired session and each role against this very table. It is a Record over every API method, so a new method
// without a line here fails the typecheck instead of being callable by anyone.
import type { MarrowApiMethod } from './api';

export const ROLES = ['technician', 'pathologist', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** How each role is called on screen, on reports and in the LIS. */
export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  technician: 'Technician',
  pathologist: 'Pathologist',
  admin: 'Administrator',
};

/**
 * 'no_session': callable before anyone logs in (the login and first-start screens need them);
 * 'any_user': any logged-in, unlocked person whatever the role; otherwise the roles of which a person needs one.
 */
export type MethodAccess = 'no_session' | 'any_user' | readonly Role[];

const TECHNICIAN = ['technician'] as const;
const PATHOLOGIST = ['pathologist'] as const;
const ADMIN = ['admin'] as const;
/** Counting and reviewing cells is the technician's work; a pathologist may review (and re-review) too. */
const COUNTS = ['technician', 'pathologist'] as const;

export const METHOD_ACCESS: Readonly<Record<MarrowApiMethod, MethodAccess>> = {
  // Sessions: before login, or acting on one's own session only.
  getSession: 'no_session',
  createFirstAdmin: 'no_session', // refused by the service once any user exists
  login: 'no_session',
  logout: 'no_session',
  lockSession: 'no_session',
  unlockSession: 'no_session', // needs the locked session's own person and password
  changePassword: 'any_user',

  // Reading cases, cells, reports: anyone who works in the lab.
  listCases: 'any_user',
  getCase: 'any_user',
  getAnalysisProgress: 'any_user',
  getDifferential: 'any_user',
  listCells: 'any_user',
  saveReport: 'any_user',
  exportCase: 'any_user',
  getSettings: 'any_user',
  getAbout: 'any_user',
  getLisStatus: 'any_user',
  getSecuritySettings: 'any_user',
  // A patient's earlier marrows beside this one: read by anyone who works on the case.
  getPatientHistory: 'any_user',
  getCaseHistory: 'any_user',
  getReviewLayout: 'any_user',
  getLabTrainingMaterial: 'any_user',

  // The technician's work: a case from its folder to the count.
  createCase: TECHNICIAN,
  startAnalysis: TECHNICIAN,
  cancelAnalysis: TECHNICIAN,
  reviewCell: COUNTS,
  confirmCells: COUNTS,
  undoReview: COUNTS,
  // A patient's stored name corrected (with a reason, audited) by those who work on the case.
  correctPatientName: COUNTS,

  // Release in two signatures: the technician validates (submits), the pathologist authorises; she re-opens too.
  submitCase: TECHNICIAN,
  authoriseCase: PATHOLOGIST,
  amendCase: PATHOLOGIST,
  resendToLis: ['pathologist', 'admin'],

  // Lab models: trained from reviewed cells by those who count; made usable (or retired) by a pathologist.
  trainLabModel: COUNTS,
  cancelLabModelTraining: COUNTS,
  getLabModelTrainingProgress: 'any_user',
  listLabModels: 'any_user',
  getLabModel: 'any_user',
  approveLabModel: PATHOLOGIST,
  retireLabModel: PATHOLOGIST,
  analyseWithLabModel: COUNTS,
  exportLabModel: 'any_user',
  importLabModel: COUNTS,
  saveLabModelCard: 'any_user',

  // Administration: people, lab settings, LIS settings.
  saveSettings: ADMIN,
  saveReviewLayout: ADMIN,
  getLisSettings: ADMIN,
  saveLisSettings: ADMIN,
  saveSecuritySettings: ADMIN,
  listUsers: ADMIN,
  createUser: ADMIN,
  setUserActive: ADMIN,
  setUserRoles: ADMIN,
  resetUserPassword: ADMIN,
};

/**
 * Calls that only watch (polls of progress and status): they do not count as a person's activity, so a screen left
 * polling an analysis still locks after the idle time.
 */
export const PASSIVE_METHODS: ReadonlySet<MarrowApiMethod> = new Set<MarrowApiMethod>([
  'getSession',
  'getAnalysisProgress',
  'getLabModelTrainingProgress',
  'getLisStatus',
]);

/** Whether a person holding `roles` may call `method` (for 'no_session' methods: always). */
export function mayCall(method: MarrowApiMethod, roles: readonly Role[]): boolean {
  const access = METHOD_ACCESS[method];
  if (access === 'no_session' || access === 'any_user') return true;
  return access.some((role) => roles.includes(role));
}

/** The roles a method needs, in words ("a pathologist", "a technician or a pathologist"), for refusal messages. */
export function requiredRolesText(method: MarrowApiMethod): string {
  const access = METHOD_ACCESS[method];
  if (access === 'no_session' || access === 'any_user') return 'any user';
  const names = access.map((role) => `${role === 'admin' ? 'an' : 'a'} ${ROLE_LABELS[role].toLowerCase()}`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}`;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
