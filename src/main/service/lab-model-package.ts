// The lab-model package: one JSON file that carries a lab model from one PC of a lab to another (export, import).
// A package is hashed, not signed, so on import its content is checked like any input, and it is only accepted for
// the very base model installed here; the receiving PC approves it itself.
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { headProblem, type LabHead } from '../../shared/lab-head';
import type { LabValidation } from '../../shared/lab-training';
import type { LabModelRow } from '../db';
import type { ModelManifest } from '../inference/model-manifest';
import { ServiceError, validationError } from './errors';
import { labModelSha256, sha256Hex } from './lab-model-records';

export const LAB_PACKAGE_FORMAT = 'marrowcount-lab-model';

/** The package's text: the lab model's record with a hash of its exact JSON, so a changed file is refused. */
export function labModelPackageText(lab: LabModelRow): string {
  const labModel = {
    version: lab.model.version,
    name: lab.model.name,
    modelSha256: lab.model.sha256,
    baseModel: { modelId: lab.baseModel.modelId, version: lab.baseModel.version, sha256: lab.baseModel.sha256 },
    head: lab.head,
    headSha256: lab.headSha256,
    cases: lab.cases,
    minimumPerClass: lab.minimumPerClass,
    validation: lab.validation,
    trainedBy: lab.trainedBy,
    trainedAt: lab.trainedAt,
    // Where it was approved and by whom, for the record only: the receiving PC approves it itself.
    exportedFrom: { status: lab.status, approvedBy: lab.approvedBy, approvedRole: lab.approvedRole, approvedAt: lab.approvedAt },
  };
  const body = JSON.stringify(labModel);
  return `${JSON.stringify({ format: LAB_PACKAGE_FORMAT, formatVersion: 1, sha256: sha256Hex(body), labModel: JSON.parse(body) as unknown }, null, 1)}\n`;
}

/** What an accepted package holds, ready to store (the caller adds the base model's row and who imported it). */
export interface LabModelPackage {
  version: string;
  name: string;
  modelSha256: string;
  head: LabHead;
  headJson: string;
  cases: LabModelRow['cases'];
  minimumPerClass: number;
  validation: LabValidation;
  trainedBy: string;
  trainedAt: string;
  /** The installed base model it was checked against. */
  baseManifest: ModelManifest;
}

/**
 * The parts of a validation report the screens, the model card and the CLI read, checked on import: a package is
 * hashed, not signed, so its content is checked like any input. Returns the first problem, or null.
 */
function validationShapeProblem(v: unknown, classCount: number): { field: string; what: string } | null {
  if (typeof v !== 'object' || v === null) return { field: '(root)', what: 'must hold the validation report' };
  const r = v as Record<string, unknown>;
  const isNumber = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  for (const side of ['lab', 'base'] as const) {
    const m = r[side] as Record<string, unknown> | undefined;
    if (typeof m !== 'object' || m === null || !isNumber(m['macroF1']) || !isNumber(m['accuracy']) || !isNumber(m['cells'])) {
      return { field: side, what: 'must hold macroF1, accuracy and cells' };
    }
    const perClass = m['perClass'];
    if (!Array.isArray(perClass) || perClass.length !== classCount) return { field: `${side}.perClass`, what: `must hold one entry per class (${classCount})` };
    const ok = perClass.every((e: unknown) => {
      const x = e as Record<string, unknown> | null;
      return typeof x === 'object' && x !== null && typeof x['code'] === 'string' && ['support', 'precision', 'recall', 'f1'].every((k) => isNumber(x[k]));
    });
    if (!ok) return { field: `${side}.perClass`, what: 'must hold code, support, precision, recall and f1 per class' };
    const confusion = m['confusion'];
    if (!Array.isArray(confusion) || !confusion.every((row: unknown) => Array.isArray(row) && row.length === classCount + 1 && row.every(isNumber))) {
      return { field: `${side}.confusion`, what: 'must be rows of numbers, one column per class and "other"' };
    }
    if (!Array.isArray(m['classes'])) return { field: `${side}.classes`, what: 'must list the classes' };
  }
  if (!Array.isArray(r['folds']) || !Array.isArray(r['classes'])) return { field: 'folds', what: 'must list the folds and the classes' };
  const cal = r['calibration'] as Record<string, unknown> | undefined;
  if (typeof cal !== 'object' || cal === null || !['temperature', 'fittedOnCells', 'eceBefore', 'eceAfter', 'baseEce'].every((k) => isNumber(cal[k]))) {
    return { field: 'calibration', what: 'must hold the temperature and the calibration errors' };
  }
  const t = r['training'] as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null || !['cells', 'seconds', 'l2', 'epochs', 'batchSize', 'seed'].every((k) => isNumber(t[k]))) {
    return { field: 'training', what: 'must hold the training settings' };
  }
  if (!isNumber(r['testCellsOfUnlearnedClasses']) || !isNumber(r['minimumPerClass'])) return { field: 'minimumPerClass', what: 'must be numbers' };
  return null;
}

/**
 * Reads and checks a package file against the installed base model. Refusals are ServiceErrors of kind 'model'
 * naming the package's field at fault (or 'io' when the file cannot be read); nothing is stored here. The installed
 * base model is read once the package's own checks pass.
 */
export async function readLabModelPackage(path: string, installedManifest: () => Promise<ModelManifest>): Promise<LabModelPackage> {
  if (!isAbsolute(path)) throw validationError('path', `The file path must be a full path, not "${path}".`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ServiceError('io', `${path} cannot be read (${(error as Error).message}).`, { field: 'path' });
  }
  const bad = (field: string, what: string): never => {
    throw new ServiceError('model', `${path} is not a usable lab-model package: field "${field}" ${what}. Nothing was imported; export it again.`, {
      field,
    });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return bad('(file)', `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) return bad('(file)', 'is not an object');
  const pkg = parsed as Record<string, unknown>;
  if (pkg['format'] !== LAB_PACKAGE_FORMAT) bad('format', `must be "${LAB_PACKAGE_FORMAT}"`);
  if (pkg['formatVersion'] !== 1) bad('formatVersion', 'must be 1');
  const labModel = pkg['labModel'];
  if (typeof labModel !== 'object' || labModel === null) return bad('labModel', 'is missing');
  if (pkg['sha256'] !== sha256Hex(JSON.stringify(labModel))) {
    bad('sha256', 'does not match the content: the file was changed or damaged after export');
  }
  const m = labModel as Record<string, unknown>;
  const problem = headProblem(m['head']);
  if (problem !== null) bad(`labModel.head.${problem.split(':')[0]}`, problem.slice(problem.indexOf(':') + 2));
  const head = m['head'] as LabHead;
  const headJson = JSON.stringify(head);
  if (m['headSha256'] !== sha256Hex(headJson)) bad('labModel.headSha256', 'does not match the head');
  const base = m['baseModel'] as Record<string, unknown> | undefined;
  const baseSha = typeof base?.['sha256'] === 'string' ? base['sha256'].toLowerCase() : bad('labModel.baseModel.sha256', 'is missing');
  const manifest = await installedManifest();
  if (baseSha !== manifest.sha256) {
    bad(
      'labModel.baseModel.sha256',
      `is ${baseSha.slice(0, 12)}… (${String(base?.['modelId'])} ${String(base?.['version'])}), but the installed model is ${manifest.id} ${manifest.version} ` +
        `(${manifest.sha256.slice(0, 12)}…); a lab model only works on the base model it was trained on`,
    );
  }
  if (head.dim !== manifest.embedding?.dim)
    bad('labModel.head.dim', `is ${head.dim}, but the installed model's embedding has ${manifest.embedding?.dim ?? 'no'} values`);
  const modelSha = labModelSha256(baseSha, headJson);
  if (m['modelSha256'] !== modelSha) bad('labModel.modelSha256', 'does not match the base model and the head');
  const text_ = (field: string): string => {
    const v = m[field];
    return typeof v === 'string' && v.trim() !== '' ? v : bad(`labModel.${field}`, 'must be text');
  };
  const version = text_('version');
  const validation = m['validation'] as LabValidation | undefined;
  const validationProblem = validationShapeProblem(validation, head.classes.length);
  if (validationProblem !== null) bad(`labModel.validation.${validationProblem.field}`, validationProblem.what);
  const cases = m['cases'];
  if (!Array.isArray(cases)) return bad('labModel.cases', 'must list the training cases');
  cases.forEach((c: unknown, i) => {
    const r = c as Record<string, unknown> | null;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r['accession'] !== 'string' ||
      typeof r['cells'] !== 'number' ||
      !Number.isSafeInteger(r['cells']) ||
      !['train', 'calibration', 'test'].includes(r['fold'] as string)
    ) {
      bad(`labModel.cases[${i}]`, 'must be { accession, cells, fold }');
    }
  });
  const minimumPerClass = m['minimumPerClass'];
  if (typeof minimumPerClass !== 'number' || !Number.isSafeInteger(minimumPerClass) || minimumPerClass < 1)
    bad('labModel.minimumPerClass', 'must be a positive whole number');
  const trainedBy = text_('trainedBy');
  const trainedAt = text_('trainedAt');
  return {
    version,
    name: text_('name'),
    modelSha256: modelSha,
    head,
    headJson,
    cases: cases as LabModelRow['cases'],
    minimumPerClass: minimumPerClass as number,
    validation: validation as LabValidation,
    trainedBy,
    trainedAt,
    baseManifest: manifest,
  };
}
