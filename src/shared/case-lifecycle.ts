// A case's lifecycle, declared once (issue 21): its statuses, the transitions between them, their display labels,
// and for each thing a person can do to a case whether the case allows it now and, if not, the sentence saying
// why. The service's guards, the renderer's enabled states and the CLI all ask canDo(); the SQL triggers of
// migration 0007 are the backstop any writer meets, and test/integration/db/case-lifecycle.test.ts holds the two
// together by trying every pair of statuses in SQL.
//
//   importing ──> analysing ──> in_review ──> submitted ──> signed (released / authorised)
//       │             │   ▲          │  ▲  └───────────────────▲ │
//       └──> cancelled <──┘          │  └── returned ◄─ submitted │
//              │   └── resume ───────┘  ◄── amendment ────────────┘
//              └── remaining files excluded with a reason ──> in_review
//
// 'signed' stays the stored value of the released state (labels say "Released"); 'cancelled' is a partial result.

export const CASE_STATUSES = ['importing', 'analysing', 'cancelled', 'in_review', 'submitted', 'signed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Every status change a case may make; anything else is refused here and by the SQL trigger. */
export const CASE_TRANSITIONS: Readonly<Record<CaseStatus, readonly CaseStatus[]>> = {
  importing: ['analysing', 'cancelled'],
  analysing: ['in_review', 'cancelled'],
  // Resume (analysing), or release what was analysed once the remaining files are excluded with a reason.
  cancelled: ['analysing', 'in_review'],
  // Re-run with another model or the lab model; submit for authorisation; single-step release.
  in_review: ['analysing', 'submitted', 'signed'],
  // Returned for more review; authorised.
  submitted: ['in_review', 'signed'],
  // An amendment (with its record) re-opens a released case.
  signed: ['in_review'],
};

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return CASE_TRANSITIONS[from].includes(to);
}

export const CASE_STATUS_LABELS: Readonly<Record<CaseStatus, string>> = {
  importing: 'Importing',
  analysing: 'Analysing',
  cancelled: 'Cancelled',
  in_review: 'In review',
  submitted: 'Submitted',
  signed: 'Released',
};

/** One sentence for a person: what the status means for what they can do. */
export const CASE_STATUS_MEANINGS: Readonly<Record<CaseStatus, string>> = {
  importing: 'The case folder is being read.',
  analysing: 'The cells are being classified.',
  cancelled: 'The analysis was stopped: the result covers only the files analysed so far.',
  in_review: 'The cells are classified and can be reviewed.',
  submitted: 'Submitted for authorisation; return it to review to change a cell.',
  signed: 'Released; amend it (with a reason) to change it.',
};

export const CASE_ACTIONS = [
  'import_files',
  'analyse',
  'resume',
  'review',
  'exclude_remaining',
  'submit',
  'authorise',
  'amend',
  'report',
  'export',
  'reanalyse_lab_model',
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

export const CASE_ACTION_LABELS: Readonly<Record<CaseAction, string>> = {
  import_files: 'Import files',
  analyse: 'Analyse',
  resume: 'Resume analysis',
  review: 'Review cells',
  exclude_remaining: 'Exclude the remaining files',
  submit: 'Submit for authorisation',
  authorise: 'Authorise',
  amend: 'Amend',
  report: 'Report',
  export: 'Export',
  reanalyse_lab_model: 'Re-analyse with the lab model',
};

/** What canDo needs to know of a case. Only status is required; the rest sharpens the answer and its sentence. */
export interface CaseState {
  status: CaseStatus;
  /** Named in the sentences; "This case" when absent. */
  accession?: string;
  /** An analysis run is in progress now (a case left 'analysing' by a crash is not running and may resume). */
  running?: boolean;
  /** Files of the case folder analysed so far (classified, failed or duplicate) and in all, when known. */
  files?: { analysed: number; total: number };
}

export type Permission = { allowed: true } | { allowed: false; why: string };

const ALLOWED: Permission = { allowed: true };
const refuse = (why: string): Permission => ({ allowed: false, why });

/** "256 of 1,800 files analysed", or null when the counts are unknown. */
export function partialCountText(files: CaseState['files']): string | null {
  if (files === undefined) return null;
  return `${files.analysed.toLocaleString('en-GB')} of ${files.total.toLocaleString('en-GB')} files analysed`;
}

/** "Cancelled — 256 of 1,800 files analysed": the words every screen, report and export uses for a partial case. */
export function statusText(state: CaseState): string {
  const label = CASE_STATUS_LABELS[state.status];
  const counts = state.status === 'cancelled' ? partialCountText(state.files) : null;
  return counts === null ? label : `${label} — ${counts}`;
}

function partialWhy(name: string, state: CaseState, doing: string): string {
  const counts = partialCountText(state.files);
  return (
    `${name}'s analysis was cancelled${counts === null ? '' : ` (${counts})`}; resume the analysis, or exclude the remaining files ` +
    `with a reason, before ${doing}.`
  );
}

/** Whether the case allows the action now; if not, the sentence to show the person. */
export function canDo(action: CaseAction, state: CaseState): Permission {
  const name = state.accession === undefined ? 'This case' : `Case ${state.accession}`;
  const { status } = state;
  const running = state.running === true;
  const busy = status === 'importing' || status === 'analysing';
  switch (action) {
    case 'import_files':
      if (status === 'signed') return refuse(`${name} is signed; amend it before adding images.`);
      if (status === 'submitted') return refuse(`${name} is submitted for authorisation; return it to review before adding images.`);
      return ALLOWED;
    case 'analyse':
      if (status === 'signed') return refuse(`${name} is signed; amend it before analysing it again.`);
      if (status === 'submitted') return refuse(`${name} is submitted for authorisation; return it to review before analysing it again.`);
      if (busy && running) return refuse(`${name} is already being analysed.`);
      return ALLOWED;
    case 'resume':
      if (status === 'cancelled' || (status === 'analysing' && !running)) return ALLOWED;
      if (running) return refuse(`${name} is already being analysed.`);
      return refuse(`${name} has no stopped analysis to resume (it is ${CASE_STATUS_LABELS[status].toLowerCase()}).`);
    case 'review':
      if (status === 'in_review' || status === 'cancelled') return ALLOWED;
      if (status === 'signed') return refuse(`${name} is signed. Amend it (with a reason) before changing any cell.`);
      if (status === 'submitted') return refuse(`${name} is submitted for authorisation; return it to review before changing a cell.`);
      return refuse(`${name} is still ${status === 'importing' ? 'importing' : 'being analysed'}; review its cells when the analysis has finished.`);
    case 'exclude_remaining':
      if (status === 'cancelled') return ALLOWED;
      return refuse(`${name} has no stopped analysis whose remaining files could be excluded.`);
    case 'submit':
      if (status === 'in_review') return ALLOWED;
      if (status === 'cancelled') return refuse(partialWhy(name, state, 'submitting it'));
      if (status === 'submitted') return refuse(`${name} is already submitted for authorisation.`);
      if (status === 'signed') return refuse(`${name} is already signed. Amend it first to submit it again.`);
      return refuse(`${name} cannot be submitted before its analysis has finished (status: ${status}).`);
    case 'authorise':
      if (status === 'in_review' || status === 'submitted') return ALLOWED;
      if (status === 'cancelled') return refuse(partialWhy(name, state, 'signing it'));
      if (status === 'signed') return refuse(`${name} is already signed. Amend it first to sign it again.`);
      return refuse(`${name} cannot be signed before its analysis has finished (status: ${status}).`);
    case 'amend':
      if (status === 'signed') return ALLOWED;
      return refuse(`${name} is not signed, so there is nothing to amend; its cells can be reviewed as they are.`);
    case 'report':
    case 'export':
      if (!busy) return ALLOWED;
      return refuse(
        `${name} has not finished analysis (status: ${status}); a ${action === 'report' ? 'report' : 'report or export'} is available once its cells are classified.`,
      );
    case 'reanalyse_lab_model':
      if (status === 'in_review') return ALLOWED;
      if (status === 'signed') return refuse(`${name} is signed; amend it before analysing it again.`);
      if (status === 'submitted') return refuse(`${name} is submitted for authorisation; return it to review before analysing it again.`);
      if (status === 'cancelled') return refuse(`${name}'s analysis was cancelled; resume it with the base model first.`);
      return refuse(`${name} is ${status}; analyse it with the base model first.`);
  }
}
