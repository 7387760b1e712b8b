import type { CellClassCode } from '../../shared/cell-classes';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { ModelRow } from './types';

export interface ModelRegistration {
  modelId: string;
  version: string;
  sha256: string;
  name: string;
  /** In logit order. */
  classes: CellClassCode[];
}

/** Idempotent on sha256: the same model file always maps to the same row. */
export function registerModel(db: MarrowDatabase, input: ModelRegistration): ModelRow {
  return pending('registerModel', db, input);
}

export function getModel(db: MarrowDatabase, modelRowId: number): ModelRow {
  return pending('getModel', db, modelRowId);
}
