import type { CellClassCode } from '../../shared/cell-classes';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';

export interface NewPrediction {
  imageId: number;
  predicted: CellClassCode;
  /** In the model's class order. */
  probabilities: number[];
  confidence: number;
  flagged: boolean;
  flagReasons: string[];
}

/** One transaction: the whole batch or nothing. */
export function insertPredictions(
  db: MarrowDatabase,
  modelRowId: number,
  rows: readonly NewPrediction[],
  actor?: string,
): { inserted: number } {
  return pending('insertPredictions', db, modelRowId, rows, actor);
}
