// Reads the differential stored with a sign-off (sign-off.ts writes it as the snapshot's `differential`), checking
// every field history uses, so that a damaged or foreign snapshot is a clear error naming the case and the field,
// never a figure made up from undefined.
import type { HistoryDifferential } from '../../shared/marrow-history';
import { isCellClassCode, type Lineage } from '../../shared/cell-classes';
import type { SignOffRow } from '../db';
import { ServiceError } from './errors';

const LINEAGES: readonly Lineage[] = ['granulocytic', 'erythroid', 'lymphoid', 'monocytic', 'plasma', 'blast', 'other'];

class SnapshotFieldError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SnapshotFieldError(field, 'is not an object');
  return value as Record<string, unknown>;
}

function countAt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SnapshotFieldError(field, 'is not a whole number of cells');
  return value;
}

function percentOrNullAt(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) throw new SnapshotFieldError(field, 'is not a percentage or null');
  return value;
}

function parse(snapshot: unknown): HistoryDifferential {
  const differential = objectAt(objectAt(snapshot, 'snapshot').differential, 'differential');
  const ndc = countAt(differential.nucleatedDifferentialCount, 'differential.nucleatedDifferentialCount');
  if (!Array.isArray(differential.rows)) throw new SnapshotFieldError('differential.rows', 'is not a list');
  const rows = differential.rows.map((value: unknown, i) => {
    const row = objectAt(value, `differential.rows[${i}]`);
    if (typeof row.inNdc !== 'boolean') throw new SnapshotFieldError(`differential.rows[${i}].inNdc`, 'is not true or false');
    if (typeof row.lineage !== 'string' || !(LINEAGES as readonly string[]).includes(row.lineage)) {
      throw new SnapshotFieldError(`differential.rows[${i}].lineage`, 'is not a lineage');
    }
    if (!isCellClassCode(row.code)) throw new SnapshotFieldError(`differential.rows[${i}].code`, 'is not a cell class code');
    return {
      code: row.code,
      inNdc: row.inNdc,
      lineage: row.lineage as Lineage,
      count: countAt(row.count, `differential.rows[${i}].count`),
      percentOfNdc: percentOrNullAt(row.percentOfNdc, `differential.rows[${i}].percentOfNdc`),
    };
  });
  const blast = objectAt(differential.blast, 'differential.blast');
  const percentage = percentOrNullAt(blast.percentage, 'differential.blast.percentage');
  let ci95: { lower: number; upper: number } | null = null;
  if (blast.ci95 !== null) {
    const interval = objectAt(blast.ci95, 'differential.blast.ci95');
    const lower = percentOrNullAt(interval.lower, 'differential.blast.ci95.lower');
    const upper = percentOrNullAt(interval.upper, 'differential.blast.ci95.upper');
    if (lower === null || upper === null) throw new SnapshotFieldError('differential.blast.ci95', 'has no bounds');
    ci95 = { lower, upper };
  }
  const ratio = objectAt(differential.meRatio, 'differential.meRatio').ratio;
  if (ratio !== null && (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0)) {
    throw new SnapshotFieldError('differential.meRatio.ratio', 'is not a ratio or null');
  }
  return {
    nucleatedDifferentialCount: ndc,
    rows,
    blast: { count: countAt(blast.count, 'differential.blast.count'), percentage, ci95 },
    meRatio: { ratio: ratio as number | null },
  };
}

/** The differential a sign-off released. Throws ServiceError 'database' naming the case, the sign-off and the field. */
export function differentialOfSignOff(signOff: SignOffRow, accession: string): HistoryDifferential {
  try {
    return parse(JSON.parse(signOff.summarySnapshot) as unknown);
  } catch (e) {
    const what = e instanceof SnapshotFieldError ? `its ${e.field} ${e.problem}` : 'it is not readable JSON';
    throw new ServiceError(
      'database',
      `The result of case ${accession} signed by ${signOff.signedBy} at ${signOff.signedAt} cannot be shown in the patient's history: ${what}. The stored sign-off was not changed; report this to the administrator.`,
      { detail: e instanceof Error ? e.message : String(e), cause: e },
    );
  }
}
