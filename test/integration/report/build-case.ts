// Builds a real case in a real SQLite file through the storage repositories, as analysis and review would leave
// it: images on disk (hard links to fixture crops, so 20,000 cells cost no disk space), predictions of a
// registered model, human decisions, optional sign-off. The report tests then read it only through the service.
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CELL_CLASS_CODES, type CellClassCode } from '../../../src/shared/cell-classes';
import {
  addReviews,
  amendCase,
  beginAnalysis,
  createCase,
  insertImages,
  insertPredictions,
  registerModel,
  saveSettings,
  setCaseStatus,
  signCase,
  upsertPatient,
  type MarrowDatabase,
} from '../../../src/main/db';

export const FIXTURE_CROPS = resolve(import.meta.dirname, '../../fixtures/crops/good');

export interface CellSpec {
  predicted: CellClassCode;
  /** Reviewer's label; the same as predicted confirms the model. */
  reviewedAs?: CellClassCode;
  confidence?: number;
  flagged?: boolean;
}

export interface CaseSpec {
  accession: string;
  patient?: { labId: string; name?: string; birthDate?: string };
  modelId?: string;
  modelClasses?: readonly CellClassCode[];
  cells: CellSpec[];
  reviewer?: string;
  /** Signs the case after review. */
  signOff?: { signedBy: string; role: string; overrideReason?: string };
  /** Signs, amends, and signs again with signOff: the report shows the history. */
  amendFirst?: { signedBy: string; role: string; by: string; reason: string };
  /** Import failures recorded with the case. */
  unreadableFiles?: string[];
}

/** Expands {BLA: 3, NGS: 2} into cell specs. */
export function cellsOf(counts: Partial<Record<CellClassCode, number>>, base: Omit<CellSpec, 'predicted'> = {}): CellSpec[] {
  return Object.entries(counts).flatMap(([code, n]) => Array.from({ length: n ?? 0 }, () => ({ ...base, predicted: code as CellClassCode })));
}

const crops = (): string[] =>
  readdirSync(FIXTURE_CROPS, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();

function probabilities(classes: readonly CellClassCode[], predicted: CellClassCode, confidence: number): number[] {
  const rest = (1 - confidence) / (classes.length - 1);
  return classes.map((code) => (code === predicted ? confidence : rest));
}

/** A hard link where the temp folder shares the repository's file system, else (EXDEV on CI tmpfs) a symlink. */
function linkOrSymlink(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    symlinkSync(source, target);
  }
}

export function buildCase(db: MarrowDatabase, root: string, spec: CaseSpec): { caseId: number; folder: string } {
  const reviewer = spec.reviewer ?? 'A. Technician';
  const folder = join(root, spec.accession);
  mkdirSync(folder, { recursive: true });
  const sources = crops();
  // Real image files, one per cell: the first crops are copied, the rest hard-linked (the report opens only a few).
  const files = spec.cells.map((cell, i) => {
    const extension = sources[i % sources.length]!.endsWith('.png') ? 'png' : 'jpg';
    const relativePath = `${cell.predicted}_${String(i + 1).padStart(5, '0')}.${extension}`;
    const source = join(FIXTURE_CROPS, sources[i % sources.length]!);
    if (i < 40) copyFileSync(source, join(folder, relativePath));
    else linkOrSymlink(source, join(folder, relativePath));
    return relativePath;
  });

  const patient = upsertPatient(db, { ...(spec.patient ?? { labId: `MRN-${spec.accession}` }), actor: reviewer });
  const created = createCase(db, {
    patientId: patient.id,
    accession: spec.accession,
    specimen: 'bone_marrow_aspirate',
    folder,
    actor: reviewer,
  });
  const classes = [...(spec.modelClasses ?? CELL_CLASS_CODES)];
  const model = registerModel(db, {
    modelId: spec.modelId ?? 'marrowcount-ref',
    version: '1.0.0',
    // The model's identity, as the inference engine would record it (SHA-256 of its model.onnx).
    sha256: createHash('sha256')
      .update(`model ${spec.modelId ?? 'marrowcount-ref'} ${classes.join(',')}`)
      .digest('hex'),
    name: spec.modelId === undefined || spec.modelId === 'marrowcount-ref' ? 'MarrowCount reference (public subset)' : 'Lab model',
    classes,
  });
  // Hard-linked copies share content, so each file's recorded digest includes its name: the import would
  // otherwise (rightly) store them as duplicates of one image and never count them.
  const inserted = insertImages(db, created.id, [
    ...files.map((relativePath) => ({
      relativePath,
      sha256: createHash('sha256').update(relativePath).digest('hex'),
      bytes: 1,
      width: 250,
      height: 250,
      importError: null,
    })),
    ...(spec.unreadableFiles ?? []).map((relativePath) => ({
      relativePath,
      sha256: '',
      bytes: 0,
      width: null,
      height: null,
      importError: 'not a JPEG or PNG image (0 bytes)',
    })),
  ]).inserted;
  const idOf = new Map(inserted.map((row) => [row.relativePath, row.id]));

  beginAnalysis(db, { caseId: created.id, modelRowId: model.id, actor: reviewer });
  insertPredictions(
    db,
    model.id,
    spec.cells.map((cell, i) => {
      const confidence = cell.confidence ?? 0.95;
      const flagged = cell.flagged ?? confidence < 0.6;
      return {
        imageId: idOf.get(files[i]!)!,
        predicted: cell.predicted,
        probabilities: probabilities(classes, cell.predicted, confidence),
        confidence,
        flagged,
        flagReasons: flagged ? [{ kind: 'low_confidence' as const, detail: `${confidence.toFixed(2)} < 0.60` }] : [],
      };
    }),
    reviewer,
  );
  setCaseStatus(db, created.id, 'in_review', reviewer);

  const reviews = spec.cells.flatMap((cell, i) =>
    cell.reviewedAs === undefined ? [] : [{ caseId: created.id, imageId: idOf.get(files[i]!)!, label: cell.reviewedAs, reviewer }],
  );
  if (reviews.length > 0) addReviews(db, reviews);

  if (spec.amendFirst) {
    signCase(db, {
      caseId: created.id,
      signedBy: spec.amendFirst.signedBy,
      role: spec.amendFirst.role,
      overrideReason: 'first sign-off',
      summarySnapshot: '{}',
    });
    amendCase(db, { caseId: created.id, by: spec.amendFirst.by, reason: spec.amendFirst.reason });
  }
  if (spec.signOff) {
    signCase(db, {
      caseId: created.id,
      signedBy: spec.signOff.signedBy,
      role: spec.signOff.role,
      overrideReason: spec.signOff.overrideReason ?? null,
      summarySnapshot: '{}',
    });
  }
  return { caseId: created.id, folder };
}

export function setLab(db: MarrowDatabase, labName: string): void {
  saveSettings(db, { labName }, 'A. Technician');
}
