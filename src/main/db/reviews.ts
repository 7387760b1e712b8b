import type { CellClassCode } from '../../shared/cell-classes';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { ReviewRow } from './types';

export interface NewReview {
  caseId: number;
  imageId: number;
  label: CellClassCode;
  reviewer: string;
  note?: string;
}

export function addReview(db: MarrowDatabase, input: NewReview): ReviewRow {
  return pending('addReview', db, input);
}

/** "Confirm all shown": every decision in one transaction. */
export function addReviews(db: MarrowDatabase, inputs: readonly NewReview[]): ReviewRow[] {
  return pending('addReviews', db, inputs);
}

/** Undo: appends a retraction of the latest active decision on the cell; 'not_found' when there is none. */
export function retractLatestReview(
  db: MarrowDatabase,
  input: { caseId: number; imageId: number; reviewer: string },
): ReviewRow {
  return pending('retractLatestReview', db, input);
}

export function listReviews(db: MarrowDatabase, caseId: number, imageId?: number): ReviewRow[] {
  return pending('listReviews', db, caseId, imageId);
}
