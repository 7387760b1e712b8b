import type { CaseFilter, CaseStatus, SpecimenType } from '../../shared/api';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { AmendmentRow, CaseListRow, CaseRow, SignOffRow } from './types';

export interface NewCase {
  patientId: number;
  accession: string;
  specimen: SpecimenType;
  folder: string;
  actor: string;
}

export function createCase(db: MarrowDatabase, input: NewCase): CaseRow {
  return pending('createCase', db, input);
}

/** Throws DatabaseError 'not_found' when there is no such case. */
export function getCase(db: MarrowDatabase, id: number): CaseRow {
  return pending('getCase', db, id);
}

export function listCases(db: MarrowDatabase, filter: CaseFilter): CaseListRow[] {
  return pending('listCases', db, filter);
}

/** importing → analysing → in_review, and in_review → analysing (re-run); 'signed' only via signCase/amendCase. */
export function setCaseStatus(db: MarrowDatabase, caseId: number, status: CaseStatus, actor: string): CaseRow {
  return pending('setCaseStatus', db, caseId, status, actor);
}

/** Makes modelRowId the model whose predictions count for the case (its "current model"). */
export function setCaseModel(db: MarrowDatabase, input: { caseId: number; modelRowId: number; actor: string }): CaseRow {
  return pending('setCaseModel', db, input);
}

/** One transaction: set the case's current model and move it to 'analysing' (from importing or in_review). */
export function beginAnalysis(db: MarrowDatabase, input: { caseId: number; modelRowId: number; actor: string }): CaseRow {
  return pending('beginAnalysis', db, input);
}

export interface SignCaseInput {
  caseId: number;
  signedBy: string;
  role: string;
  overrideReason: string | null;
  /** JSON of the differential at signing. */
  summarySnapshot: string;
}

export function signCase(db: MarrowDatabase, input: SignCaseInput): { case: CaseRow; signOff: SignOffRow } {
  return pending('signCase', db, input);
}

export function amendCase(
  db: MarrowDatabase,
  input: { caseId: number; by: string; reason: string },
): { case: CaseRow; amendment: AmendmentRow } {
  return pending('amendCase', db, input);
}

export function listSignOffs(db: MarrowDatabase, caseId: number): SignOffRow[] {
  return pending('listSignOffs', db, caseId);
}

export function listAmendments(db: MarrowDatabase, caseId: number): AmendmentRow[] {
  return pending('listAmendments', db, caseId);
}
