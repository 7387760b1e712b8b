import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { appendAudit } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError, classifyDatabaseError } from './errors';
import { getModel, modelClasses } from './models';
import type { PredictionRow } from './types';

export interface NewPrediction {
  imageId: number;
  predicted: CellClassCode;
  /** Calibrated probabilities in the model's class order. */
  probabilities: number[];
  confidence: number;
  flagged: boolean;
  flagReasons: string[];
}

function validate(row: NewPrediction, classes: readonly CellClassCode[], modelName: string): void {
  const where = `Prediction for image ${row.imageId}`;
  if (!isCellClassCode(row.predicted)) {
    throw new DatabaseError('unknown_class', `${where}: unknown cell class code "${String(row.predicted)}" (not a Matek 2021 code).`);
  }
  if (!classes.includes(row.predicted)) {
    throw new DatabaseError('constraint', `${where}: class ${row.predicted} is not one of the classes of model ${modelName}.`);
  }
  if (row.probabilities.length !== classes.length) {
    throw new DatabaseError(
      'constraint',
      `${where}: ${row.probabilities.length} probabilities, but model ${modelName} has ${classes.length} classes.`,
    );
  }
  if (!row.probabilities.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)) {
    throw new DatabaseError('constraint', `${where}: a probability is not a number between 0 and 1.`);
  }
  if (!Number.isFinite(row.confidence) || row.confidence < 0 || row.confidence > 1) {
    throw new DatabaseError('constraint', `${where}: confidence ${row.confidence} is not between 0 and 1.`);
  }
  if (!row.flagReasons.every((r) => typeof r === 'string')) {
    throw new DatabaseError('constraint', `${where}: flag reasons must be text.`);
  }
}

/**
 * Stores a batch of one model's predictions in one transaction: the whole batch or nothing (an invalid row, a
 * signed case, an image that already has this model's prediction all roll the batch back). Predictions are
 * immutable; re-running with another model adds rows.
 */
export function insertPredictions(
  db: MarrowDatabase,
  modelRowId: number,
  rows: readonly NewPrediction[],
  actor = 'system',
): { inserted: number } {
  const classes = modelClasses(db, modelRowId);
  const model = getModel(db, modelRowId);
  const modelName = `${model.modelId} ${model.version}`;
  for (const row of rows) validate(row, classes, modelName);
  if (rows.length === 0) return { inserted: 0 };
  return inTransaction(db, `Storing ${rows.length} predictions of model ${modelName}`, () => {
    const insert = sql(
      db,
      `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
       VALUES (?, (SELECT case_id FROM images WHERE id = ?), ?, ?, ?, ?, ?, ?, ?) RETURNING case_id`,
    );
    const at = nowIso();
    const perCase = new Map<number, number>();
    for (const row of rows) {
      let caseId: number;
      try {
        ({ case_id: caseId } = insert.get(
          row.imageId,
          row.imageId,
          modelRowId,
          row.predicted,
          JSON.stringify(row.probabilities),
          row.confidence,
          row.flagged ? 1 : 0,
          JSON.stringify(row.flagReasons),
          at,
        ) as { case_id: number });
      } catch (e) {
        const classified = classifyDatabaseError(e, `Prediction for image ${row.imageId}`);
        if (classified?.kind === 'duplicate') {
          throw new DatabaseError('duplicate', `Image ${row.imageId} already has a prediction of model ${modelName}; none of this batch was stored.`, {
            cause: e,
          });
        }
        throw classified ?? e;
      }
      perCase.set(caseId, (perCase.get(caseId) ?? 0) + 1);
    }
    for (const [caseId, count] of perCase) {
      appendAudit(db, { actor, action: 'predictions_added', caseId, detail: { modelRowId, count } }, at);
    }
    return { inserted: rows.length };
  });
}

/** A prediction's columns as stored: probabilities and flag reasons are JSON text, flagged is 0/1. */
export interface PredictionColumns {
  image_id: number;
  case_id: number;
  model_id: number;
  predicted_class: CellClassCode;
  probabilities: string;
  confidence: number;
  flagged: number;
  flag_reasons: string;
}

/** The prediction fields of a row, shared by listPredictions and the cell queries. */
export function predictionOf(r: PredictionColumns): Omit<PredictionRow, 'id' | 'createdAt'> {
  return {
    imageId: r.image_id,
    caseId: r.case_id,
    modelRowId: r.model_id,
    predicted: r.predicted_class,
    probabilities: JSON.parse(r.probabilities) as number[],
    confidence: r.confidence,
    flagged: r.flagged === 1,
    flagReasons: JSON.parse(r.flag_reasons) as string[],
  };
}

interface PredictionDbRow extends PredictionColumns {
  id: number;
  created_at: string;
}

/** Every prediction stored for a cell, oldest first (all models). */
export function listPredictions(db: MarrowDatabase, imageId: number): PredictionRow[] {
  return read(`Reading the predictions of image ${imageId}`, () =>
    (sql(db, 'SELECT * FROM predictions WHERE image_id = ? ORDER BY id').all(imageId) as PredictionDbRow[]).map((r) => ({
      id: r.id,
      ...predictionOf(r),
      createdAt: r.created_at,
    })),
  );
}
