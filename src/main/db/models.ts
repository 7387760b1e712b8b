import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { ModelRow } from './types';

export interface ModelRegistration {
  modelId: string;
  version: string;
  sha256: string;
  name: string;
  /** In logit order. */
  classes: CellClassCode[];
  /** Classes whose figures are provisional until their cells are reviewed (model.json "provisionalClasses"). */
  provisionalClasses?: CellClassCode[];
}

/** A models row as either engine returns it. */
export interface ModelDbRow {
  id: number;
  model_id: string;
  version: string;
  sha256: string;
  name: string;
  classes: string;
  provisional_classes: string;
  registered_at: string;
}

export const toModelRow = (r: ModelDbRow): ModelRow => ({
  id: r.id,
  modelId: r.model_id,
  version: r.version,
  sha256: r.sha256,
  name: r.name,
  classes: JSON.parse(r.classes) as CellClassCode[],
  provisionalClasses: JSON.parse(r.provisional_classes) as CellClassCode[],
  registeredAt: r.registered_at,
});

const SHA256 = /^[0-9a-f]{64}$/;

/** A registration's digest (lower case) and provisional classes, checked before any database work (both engines). */
export function modelRegistrationInput(input: ModelRegistration): { sha256: string; provisional: CellClassCode[] } {
  const sha256 = input.sha256.toLowerCase();
  if (!SHA256.test(sha256)) {
    throw new DatabaseError('constraint', `Model ${input.modelId}: "${input.sha256}" is not a SHA-256 hex digest.`);
  }
  for (const code of input.classes as readonly unknown[]) {
    if (!isCellClassCode(code)) {
      throw new DatabaseError('unknown_class', `Model ${input.modelId} declares unknown cell class code "${String(code)}" (not a Matek 2021 code).`);
    }
  }
  if (new Set(input.classes).size !== input.classes.length || input.classes.length < 2) {
    throw new DatabaseError('constraint', `Model ${input.modelId} must declare at least two distinct classes (got ${input.classes.join(', ')}).`);
  }
  const provisional = input.provisionalClasses ?? [];
  const notOutput = provisional.filter((code) => !input.classes.includes(code));
  if (notOutput.length > 0) {
    throw new DatabaseError('constraint', `Model ${input.modelId}: provisional classes ${notOutput.join(', ')} are not among its classes.`);
  }
  return { sha256, provisional };
}

/**
 * The row already registered for this file, when its metadata is the same; else the 'duplicate' refusal, because
 * stored probability vectors are read in the registered class order.
 */
export function sameRegistration(existing: ModelDbRow, input: ModelRegistration, provisional: readonly CellClassCode[]): ModelRow {
  const row = toModelRow(existing);
  if (
    row.modelId !== input.modelId ||
    row.version !== input.version ||
    row.classes.join(',') !== input.classes.join(',') ||
    row.provisionalClasses.join(',') !== provisional.join(',')
  ) {
    throw new DatabaseError(
      'duplicate',
      `The model file ${row.sha256.slice(0, 12)}… is already registered as ${row.modelId} ${row.version} with classes ` +
        `${row.classes.join(',')} (provisional: ${row.provisionalClasses.join(',') || 'none'}); it cannot be registered again as ` +
        `${input.modelId} ${input.version} with classes ${input.classes.join(',')} (provisional: ${provisional.join(',') || 'none'}).`,
    );
  }
  return row;
}

/** The values of a models row, in the column order both engines insert (see MODEL_INSERT_COLUMNS). */
export function modelInsertValues(input: ModelRegistration, sha256: string, provisional: readonly CellClassCode[], at: string): unknown[] {
  return [input.modelId, input.version, sha256, input.name, JSON.stringify(input.classes), input.classes.length, JSON.stringify(provisional), at];
}

export const MODEL_INSERT_COLUMNS = '(model_id, version, sha256, name, classes, class_count, provisional_classes, registered_at)';

export function modelRegisteredAudit(actor: string, created: ModelDbRow): AuditEntry {
  return {
    actor,
    action: 'model_registered',
    caseId: null,
    detail: { modelRowId: created.id, modelId: created.model_id, version: created.version, sha256: created.sha256 },
  };
}

export function modelNotFound(modelRowId: number): DatabaseError {
  return new DatabaseError('not_found', `There is no registered model with row id ${modelRowId}.`);
}

/**
 * Idempotent on sha256: the same model file always maps to the same row. The same file registered with
 * different metadata is refused, because stored probability vectors are read in the registered class order.
 */
export function registerModel(db: MarrowDatabase, input: ModelRegistration, actor = 'system'): ModelRow {
  const { sha256, provisional } = modelRegistrationInput(input);
  return inTransaction(db, `Registering model ${input.modelId} ${input.version}`, () => {
    const existing = sql(db, 'SELECT * FROM models WHERE sha256 = ?').get(sha256) as ModelDbRow | undefined;
    if (existing !== undefined) return sameRegistration(existing, input, provisional);
    const at = nowIso();
    const created = sql(db, `INSERT INTO models ${MODEL_INSERT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`).get(
      ...modelInsertValues(input, sha256, provisional, at),
    ) as ModelDbRow;
    appendAudit(db, modelRegisteredAudit(actor, created), at);
    return toModelRow(created);
  });
}

export function getModel(db: MarrowDatabase, modelRowId: number): ModelRow {
  const row = read(`Reading model ${modelRowId}`, () => sql(db, 'SELECT * FROM models WHERE id = ?').get(modelRowId) as ModelDbRow | undefined);
  if (row === undefined) throw modelNotFound(modelRowId);
  return toModelRow(row);
}

/** The map of a per-connection cache (of rows that never change, such as models), made on first use. */
export function cacheOf<K extends object, V>(caches: WeakMap<K, Map<number, V>>, connection: K): Map<number, V> {
  let cache = caches.get(connection);
  if (cache === undefined) {
    cache = new Map();
    caches.set(connection, cache);
  }
  return cache;
}

/** Model rows are immutable, so the parsed class list is cached per connection and row id. */
const classCache = new WeakMap<MarrowDatabase['raw'], Map<number, CellClassCode[]>>();

export function modelClasses(db: MarrowDatabase, modelRowId: number): CellClassCode[] {
  const cache = cacheOf(classCache, db.raw);
  let classes = cache.get(modelRowId);
  if (classes === undefined) {
    classes = getModel(db, modelRowId).classes;
    cache.set(modelRowId, classes);
  }
  return classes;
}

/** The registered model of this file, or null when no case was ever analysed with it. */
export function findModelBySha256(db: MarrowDatabase, sha256: string): ModelRow | null {
  const row = read(
    'Looking up a model by its SHA-256',
    () => sql(db, 'SELECT * FROM models WHERE sha256 = ?').get(sha256.toLowerCase()) as ModelDbRow | undefined,
  );
  return row === undefined ? null : toModelRow(row);
}
