import type { ReviewProgress } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { CellRow, ClassCounts } from './types';

export interface CellListQuery {
  caseId: number;
  scope: 'flagged' | 'unreviewed' | 'all';
  predictedClass?: CellClassCode;
  effectiveClass?: CellClassCode;
  offset?: number;
  limit?: number;
}

export function effectiveCountsByClass(db: MarrowDatabase, caseId: number): ClassCounts {
  return pending('effectiveCountsByClass', db, caseId);
}

export function listCells(db: MarrowDatabase, query: CellListQuery): { rows: CellRow[]; total: number } {
  return pending('listCells', db, query);
}

export function getCell(db: MarrowDatabase, caseId: number, imageId: number): CellRow {
  return pending('getCell', db, caseId, imageId);
}

export function reviewProgress(db: MarrowDatabase, caseId: number): ReviewProgress {
  return pending('reviewProgress', db, caseId);
}
