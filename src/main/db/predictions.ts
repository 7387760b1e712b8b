import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { isFlagReason, type FlagReason } from '../../shared/flag-reasons';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError, classifyDatabaseError } from './errors';
import { getModel, modelClasses } from './models';
import type { ModelRow, PredictionRow } from './types';

export interface NewPrediction {
  imageId: number;
  predicted: CellClassCode;
  /** Calibrated probabilities in the model's class order. */
  probabilities: number[];
  confidence: number;
  flagged: boolean;
  flagReasons: FlagReason[];
  /** The pooled features the model's last layer read; null or absent for a package without that output. */
  embedding?: Float32Array | null;
  /** Open-set distance computed from the embedding (open-set.ts); null when the package has no statistics. */
  openSetScore?: number | null;
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
    throw new DatabaseError('constraint', `${where}: ${row.probabilities.length} probabilities, but model ${modelName} has ${classes.length} classes.`);
  }
  if (!row.probabilities.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)) {
    throw new DatabaseError('constraint', `${where}: a probability is not a number between 0 and 1.`);
  }
  if (!Number.isFinite(row.confidence) || row.confidence < 0 || row.confidence > 1) {
    throw new DatabaseError('constraint', `${where}: confidence ${row.confidence} is not between 0 and 1.`);
  }
  if (!row.flagReasons.every(isFlagReason)) {
    throw new DatabaseError('constraint', `${where}: each flag reason must be {kind, detail} with a known kind.`);
  }
  if (row.embedding !== undefined && row.embedding !== null && (row.embedding.length === 0 || !row.embedding.every(Number.isFinite))) {
    throw new DatabaseError('constraint', `${where}: the embedding is empty or holds a value that is not a finite number.`);
  }
  if (row.openSetScore !== undefined && row.openSetScore !== null && (!Number.isFinite(row.openSetScore) || row.openSetScore < 0)) {
    throw new DatabaseError('constraint', `${where}: open-set score ${row.openSetScore} is not a non-negative number.`);
  }
}

/** Checks every row of a batch against the model before any database work (both engines); returns the model's name. */
export function validatePredictions(model: ModelRow, rows: readonly NewPrediction[]): string {
  const modelName = `${model.modelId} ${model.version}`;
  for (const row of rows) validate(row, model.classes, modelName);
  return modelName;
}

/** A row's stored values: probabilities and flag reasons as JSON text, flagged as 0/1. */
export function predictionValues(row: NewPrediction): { probabilities: string; flagged: 0 | 1; flagReasons: string } {
  return { probabilities: JSON.stringify(row.probabilities), flagged: row.flagged ? 1 : 0, flagReasons: JSON.stringify(row.flagReasons) };
}

/** The refusal of a batch in which an image already has this model's prediction (the schema's unique key). */
export function predictionExists(imageId: number | string, modelName: string, cause: unknown): DatabaseError {
  return new DatabaseError('duplicate', `Image ${imageId} already has a prediction of model ${modelName}; none of this batch was stored.`, { cause });
}

/** One 'predictions_added' audit entry per case the batch touched, with its count. */
export function predictionsAddedAudits(perCase: ReadonlyMap<number, number>, modelRowId: number, actor: string): AuditEntry[] {
  return [...perCase].map(([caseId, count]) => ({ actor, action: 'predictions_added', caseId, detail: { modelRowId, count } }));
}

/**
 * Stores a batch of one model's predictions in one transaction: the whole batch or nothing (an invalid row, a
 * signed case, an image that already has this model's prediction all roll the batch back). Predictions are
 * immutable; re-running with another model adds rows.
 */
export function insertPredictions(db: MarrowDatabase, modelRowId: number, rows: readonly NewPrediction[], actor = 'system'): { inserted: number } {
  const model = getModel(db, modelRowId);
  const modelName = validatePredictions({ ...model, classes: modelClasses(db, modelRowId) }, rows);
  if (rows.length === 0) return { inserted: 0 };
  return inTransaction(db, `Storing ${rows.length} predictions of model ${modelName}`, () => {
    const insert = sql(
      db,
      `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
       VALUES (?, (SELECT case_id FROM images WHERE id = ?), ?, ?, ?, ?, ?, ?, ?) RETURNING id, case_id`,
    );
    const insertEmbedding = sql(db, 'INSERT INTO prediction_embeddings (prediction_id, dim, vector, open_set_score) VALUES (?, ?, ?, ?)');
    const at = nowIso();
    const perCase = new Map<number, number>();
    for (const row of rows) {
      let caseId: number;
      let predictionId: number;
      const stored = predictionValues(row);
      try {
        ({ id: predictionId, case_id: caseId } = insert.get(
          row.imageId,
          row.imageId,
          modelRowId,
          row.predicted,
          stored.probabilities,
          row.confidence,
          stored.flagged,
          stored.flagReasons,
          at,
        ) as { id: number; case_id: number });
      } catch (e) {
        const classified = classifyDatabaseError(e, `Prediction for image ${row.imageId}`);
        if (classified?.kind === 'duplicate') throw predictionExists(row.imageId, modelName, e);
        throw classified ?? e;
      }
      if (row.embedding !== undefined && row.embedding !== null) {
        insertEmbedding.run(predictionId, row.embedding.length, encodeFloat16(row.embedding), row.openSetScore ?? null);
      }
      perCase.set(caseId, (perCase.get(caseId) ?? 0) + 1);
    }
    for (const entry of predictionsAddedAudits(perCase, modelRowId, actor)) appendAudit(db, entry, at);
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
    flagReasons: JSON.parse(r.flag_reasons) as FlagReason[],
  };
}

export interface PredictionDbRow extends PredictionColumns {
  id: number;
  created_at: string;
}

export const toPredictionRow = (r: PredictionDbRow): PredictionRow => ({ id: r.id, ...predictionOf(r), createdAt: r.created_at });

/** Every prediction stored for a cell, oldest first (all models). */
export function listPredictions(db: MarrowDatabase, imageId: number): PredictionRow[] {
  return read(`Reading the predictions of image ${imageId}`, () =>
    (sql(db, 'SELECT * FROM predictions WHERE image_id = ? ORDER BY id').all(imageId) as PredictionDbRow[]).map(toPredictionRow),
  );
}

/** float16, little-endian: half the size of float32 and far finer than the distances computed from it need. */
export function encodeFloat16(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalf(values[i]!), i * 2);
  return out;
}

export function decodeFloat16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = fromHalf(view.getUint16(i * 2, true));
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round-to-nearest-even float32 → float16 bits; values beyond the half range become ±Infinity. */
function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface StoredEmbedding {
  predictionId: number;
  imageId: number;
  modelRowId: number;
  embedding: Float32Array;
  openSetScore: number | null;
  /** The class this model predicted for the cell, and its probabilities in the model's class order. */
  predicted: CellClassCode;
  probabilities: number[];
}

export const EMBEDDINGS_SQL = `SELECT p.id AS prediction_id, p.image_id, p.model_id, p.predicted_class, p.probabilities, e.vector, e.open_set_score
  FROM predictions AS p JOIN prediction_embeddings AS e ON e.prediction_id = p.id
  WHERE p.case_id = @caseId AND p.model_id = @modelId ORDER BY p.image_id`;

/** An EMBEDDINGS_SQL row as either engine returns it (the vector is a Buffer on both). */
export interface EmbeddingDbRow {
  prediction_id: number;
  image_id: number;
  model_id: number;
  predicted_class: CellClassCode;
  probabilities: string;
  vector: Uint8Array;
  open_set_score: number | null;
}

export const toStoredEmbedding = (r: EmbeddingDbRow): StoredEmbedding => ({
  predictionId: r.prediction_id,
  imageId: r.image_id,
  modelRowId: r.model_id,
  embedding: decodeFloat16(r.vector),
  openSetScore: r.open_set_score,
  predicted: r.predicted_class,
  probabilities: JSON.parse(r.probabilities) as number[],
});

/** The embeddings stored for a case's predictions of one model, in image order. */
export function listEmbeddings(db: MarrowDatabase, caseId: number, modelRowId: number): StoredEmbedding[] {
  return read(`Reading the embeddings of case ${caseId}`, () =>
    (sql(db, EMBEDDINGS_SQL).all({ caseId, modelId: modelRowId }) as EmbeddingDbRow[]).map(toStoredEmbedding),
  );
}
