// A patient's marrows over time (issue 25). Only released results are history: a case's released result is the
// differential stored with the sign-off in force (the case is signed), or, for a case an amendment re-opened, with
// the last sign-off that was in force (every re-opened sign-off has an amendment row). Those figures are read from
// the stored snapshot, not recounted, so history shows exactly what was signed. A case never signed is a draft: its
// current figures are returned marked 'draft', for the patient view to draw apart, and never compared with.
import type { PatientHistoryQuery } from '../../shared/api';
import {
  blastComparisonSentence,
  compareMarrows,
  marrowFiguresOf,
  specimenGroupOf,
  type CaseHistory,
  type MarrowComparison,
  type MarrowResult,
  type PatientHistory,
} from '../../shared/marrow-history';
import type { ModelRow, PatientCaseHistoryRow, SignOffRow } from '../db';
import type { Repositories } from '../db/contract';
import { modelCache, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError } from './errors';
import { differentialOfSignOff } from './patient-history-snapshot';
import { caseDifferential } from './case-differential';
import { chronologicalSignOffs } from './views';

type ModelOf = (modelRowId: number | null) => Promise<ModelRow | null>;

/** The sign-off whose result is the case's released one, if any (see the file comment). */
function releasedSignOff(row: PatientCaseHistoryRow): SignOffRow | null {
  const signOffs = chronologicalSignOffs(row.signOffs);
  if (row.case.status === 'signed') return signOffs[signOffs.length - 1] ?? null;
  const reopened = new Set(row.amendedSignOffIds);
  return signOffs.filter((s) => reopened.has(s.id)).pop() ?? null;
}

/** Sign-offs that were a released result at some time: the one in force now, and every one an amendment re-opened. */
function releasedCount(row: PatientCaseHistoryRow): number {
  const reopened = new Set(row.amendedSignOffIds);
  const current = row.case.status === 'signed' ? 1 : 0;
  return row.signOffs.filter((s) => reopened.has(s.id)).length + current;
}

async function liveFigures(repos: Repositories, row: PatientCaseHistoryRow, modelOf: ModelOf) {
  // Before analysis a case has no cells: no figures rather than a differential of nothing.
  if (row.case.modelRowId === null || row.case.status === 'importing' || row.case.status === 'analysing') return null;
  return marrowFiguresOf(await caseDifferential(repos, row.case, await modelOf(row.case.modelRowId)));
}

async function resultOf(repos: Repositories, row: PatientCaseHistoryRow, modelOf: ModelOf): Promise<MarrowResult> {
  const released = releasedSignOff(row);
  const base = {
    caseId: row.case.id,
    accession: row.case.accession,
    specimen: row.case.specimen,
    specimenDate: row.specimenDate,
    specimenDateSource: row.specimenDateSource,
    status: row.case.status,
    releasedVersions: releasedCount(row),
    amended: row.amendedSignOffIds.length > 0,
  };
  if (released === null) {
    return { ...base, state: 'draft', releasedAt: null, releasedBy: null, figures: await liveFigures(repos, row, modelOf), problem: null };
  }
  const state = row.case.status === 'signed' ? 'released' : 'reopened';
  const signed = { ...base, state, releasedAt: released.signedAt, releasedBy: released.signedBy } as const;
  try {
    return { ...signed, figures: marrowFiguresOf(differentialOfSignOff(released, row.case.accession)), problem: null };
  } catch (e) {
    // One unreadable stored result must not hide the patient's other results: it is listed with the reason and
    // without figures, so nothing is compared with it and the person sees why.
    if (e instanceof ServiceError && e.kind === 'database') return { ...signed, figures: null, problem: e.message };
    throw e;
  }
}

export async function loadPatientHistory(repos: Repositories, patientLabId: string, modelOf: ModelOf): Promise<PatientHistory> {
  return (await historyWithRows(repos, patientLabId, modelOf)).history;
}

async function historyWithRows(repos: Repositories, patientLabId: string, modelOf: ModelOf) {
  const patient = await repos.patientHistory.findPatientByLabId(patientLabId);
  const rows = await repos.patientHistory.listPatientCaseHistory(patient.id);
  const marrows: MarrowResult[] = [];
  for (const row of rows) marrows.push(await resultOf(repos, row, modelOf));
  const history: PatientHistory = {
    patient: { labId: patient.labId, name: patient.name, birthDate: patient.birthDate },
    marrows,
  };
  return { history, rows };
}

/**
 * The case beside the patient's earlier released results of the same kind of specimen (marrow with marrow). "This
 * case" carries its current figures, as its report prints them; earlier ones their released figures.
 */
export async function loadCaseHistory(repos: Repositories, caseId: number, modelOf: ModelOf): Promise<CaseHistory> {
  const caseRow = await repos.cases.getCase(caseId);
  const { history, rows } = await historyWithRows(repos, caseRow.patientLabId, modelOf);
  const index = history.marrows.findIndex((m) => m.caseId === caseId);
  const stored = history.marrows[index] as MarrowResult;
  const current: MarrowResult = { ...stored, figures: await liveFigures(repos, rows[index] as PatientCaseHistoryRow, modelOf), problem: null };
  const group = specimenGroupOf(current.specimen);
  const previous = history.marrows
    .slice(0, index)
    // A released result that cannot be read stays listed (with its problem) so that its absence is seen.
    .filter((m) => m.state !== 'draft' && (m.figures !== null || m.problem !== null) && specimenGroupOf(m.specimen) === group)
    .reverse();
  const comparisons: MarrowComparison[] = [];
  if (current.figures !== null) {
    for (const earlier of previous) {
      const compared = compareMarrows(current.figures, earlier);
      if (compared !== null) comparisons.push({ earlier, ...compared });
    }
  }
  const latest = previous[0];
  const blastSentence =
    current.figures === null || latest === undefined || latest.figures === null
      ? null
      : blastComparisonSentence(current.figures.blast, latest.figures.blast, latest.specimenDate);
  return { caseId, patient: history.patient, current, previous, comparisons, blastSentence };
}

export function patientHistoryMethods(ctx: ServiceContext) {
  const modelOf = modelCache(ctx);
  return {
    async getPatientHistory(query: PatientHistoryQuery): Promise<PatientHistory> {
      return loadPatientHistory(ctx.store, query.patientLabId, (id) => modelOf(id));
    },
    async getCaseHistory(caseId: number): Promise<CaseHistory> {
      return loadCaseHistory(ctx.store, caseId, (id) => modelOf(id));
    },
  } satisfies ServiceArea;
}
