// Open-set scoring: how unlike every cell type the model learned a cell looks, from its embedding (the pooled
// features the model's last layer reads). A classifier always answers with one of its classes, and with confidence
// even for a plasma cell it never saw; the distance of the embedding from the training data's class statistics
// does not depend on that answer, so it catches types the softmax hides.
//
// Method "mahalanobis-tied" (training/open_set.py): the class means mu_c of the marrow training embeddings and one
// shared covariance S, shrunk towards its diagonal, shipped as the whitening matrix W with S^-1 = W'W. The score
// is min over classes of |W (z - mu_c)|, the Mahalanobis distance to the nearest class; above the threshold the cell
// is flagged. W mu_c is computed once, so a cell costs one dim x dim product.
import type { CellClassCode } from '../../shared/cell-classes';
import { isCellClassCode } from '../../shared/cell-classes';
import { ModelPackageError } from './errors';

export interface OpenSetStats {
  method: 'mahalanobis-tied';
  classes: CellClassCode[];
  dim: number;
  threshold: number;
  fittedOn: string;
  /** Row-major dim x dim. */
  whitening: Float64Array;
  /** W mu_c per class, each of length dim. */
  whitenedMeans: Float64Array[];
}

function fail(file: string, field: string, expectation: string): never {
  throw new ModelPackageError(
    `${file}: field "${field}" ${expectation}. The package's open-set statistics are damaged; reinstall the model package.`,
    file,
    field,
  );
}

function finiteRow(value: unknown, length: number, file: string, field: string): Float64Array {
  if (!Array.isArray(value) || value.length !== length || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    fail(file, field, `must be an array of ${length} finite numbers`);
  }
  return Float64Array.from(value as number[]);
}

/** Validates parsed open-set.json against the embedding size model.json declares. */
export function parseOpenSetStats(json: unknown, file: string, embeddingDim: number): OpenSetStats {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, '(root)', 'must be an object');
  const root = json as Record<string, unknown>;
  if (root['formatVersion'] !== 1) fail(file, 'formatVersion', 'must be 1');
  if (root['method'] !== 'mahalanobis-tied') fail(file, 'method', 'must be "mahalanobis-tied" (the only method this version reads)');
  if (root['dim'] !== embeddingDim) fail(file, 'dim', `must equal model.json's embedding.dim (${embeddingDim}), found ${String(root['dim'])}`);
  const threshold = root['threshold'];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0) fail(file, 'threshold', 'must be a positive number');
  const classes = root['classes'];
  if (!Array.isArray(classes) || classes.length < 1 || !classes.every(isCellClassCode)) {
    fail(file, 'classes', 'must be a non-empty array of Matek cell class codes');
  }
  const means = root['means'];
  if (!Array.isArray(means) || means.length !== classes.length) fail(file, 'means', `must hold one mean per class (${classes.length})`);
  const rows = root['whitening'];
  if (!Array.isArray(rows) || rows.length !== embeddingDim) fail(file, 'whitening', `must be ${embeddingDim} rows`);
  const whitening = new Float64Array(embeddingDim * embeddingDim);
  rows.forEach((row, i) => whitening.set(finiteRow(row, embeddingDim, file, `whitening[${i}]`), i * embeddingDim));
  const whitenedMeans = means.map((mean, c) => whiten(whitening, finiteRow(mean, embeddingDim, file, `means[${c}]`), embeddingDim));
  const fittedOn = typeof root['fittedOn'] === 'string' ? root['fittedOn'] : '';
  return { method: 'mahalanobis-tied', classes: classes as CellClassCode[], dim: embeddingDim, threshold, fittedOn, whitening, whitenedMeans };
}

function whiten(w: Float64Array, z: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let sum = 0;
    const row = i * dim;
    for (let j = 0; j < dim; j++) sum += w[row + j]! * z[j]!;
    out[i] = sum;
  }
  return out;
}

/** Mahalanobis distance from `embedding` to the nearest class mean. */
export function openSetDistance(stats: OpenSetStats, embedding: ArrayLike<number>): number {
  const wz = whiten(stats.whitening, embedding, stats.dim);
  let best = Infinity;
  for (const wm of stats.whitenedMeans) {
    let d = 0;
    for (let i = 0; i < stats.dim; i++) {
      const diff = wz[i]! - wm[i]!;
      d += diff * diff;
    }
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}
