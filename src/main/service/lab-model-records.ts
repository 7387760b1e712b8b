// A lab model's identity and records: its SHA-256, its models row, the installed base model it needs, and the
// API's views of a stored lab model. Shared by training, the package import and re-analysis.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { LabModelDetail, LabModelSummary } from '../../shared/api';
import type { LabValidation } from '../../shared/lab-training';
import type { LabModelRow, ModelRow, NewLabModel } from '../db';
import type { ModelManifest } from '../inference/model-manifest';
import { loadOpenSetStats, modelRegistration, readModelManifest } from '../inference/model-package';
import type { OpenSetStats } from '../inference/open-set';
import type { ServiceContext } from './context';

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The lab model's identity: the base model file and the exact head text, so either changing makes another model. */
export function labModelSha256(baseSha256: string, headJson: string): string {
  return sha256Hex(`${baseSha256.toLowerCase()}\n${headJson}`);
}

export function labModelSummaryOf(row: LabModelRow): LabModelSummary {
  const validation = row.validation as LabValidation;
  return {
    id: row.id,
    version: row.model.version,
    name: row.model.name,
    status: row.status,
    sha256: row.model.sha256,
    baseModel: { modelId: row.baseModel.modelId, version: row.baseModel.version, sha256: row.baseModel.sha256 },
    classes: [...row.head.classes],
    trainedBy: row.trainedBy,
    trainedAt: row.trainedAt,
    importedBy: row.importedBy,
    importedAt: row.importedAt,
    approvedBy: row.approvedBy,
    approvedRole: row.approvedRole,
    approvedReason: row.approvedReason,
    approvedAt: row.approvedAt,
    retiredBy: row.retiredBy,
    retiredReason: row.retiredReason,
    retiredAt: row.retiredAt,
    labMacroF1: validation.lab.macroF1,
    baseMacroF1: validation.base.macroF1,
  };
}

export function labModelDetailOf(row: LabModelRow): LabModelDetail {
  return { ...labModelSummaryOf(row), headSha256: row.headSha256, cases: row.cases.map((c) => ({ ...c })), validation: row.validation as LabValidation };
}

/** The installed base model package, with its open-set statistics when it has them. */
export interface InstalledBase {
  manifest: ModelManifest;
  openSet: OpenSetStats | null;
}

export async function installedBase(ctx: ServiceContext): Promise<InstalledBase> {
  const manifest = await readModelManifest(ctx.options.modelDir);
  const openSet = await loadOpenSetStats(resolve(ctx.options.modelDir), manifest);
  return { manifest, openSet };
}

/**
 * A lab model's models row: named after its base model, with no provisional classes (it learned each of its classes
 * from the lab's own reviewed cells). Its classes are the head's, added when it is stored.
 */
export function labModelRegistration(base: ModelRow, model: { version: string; sha256: string; name: string }): NewLabModel['registration'] {
  return { modelId: `${base.modelId}+lab`, version: model.version, sha256: model.sha256, name: model.name, provisionalClasses: [] };
}

/** The registered row of the installed base model, registering it when no case was analysed with it yet. */
export async function baseRow(ctx: ServiceContext, manifest: ModelManifest, actor: string): Promise<ModelRow> {
  return (await ctx.store.models.findModelBySha256(manifest.sha256)) ?? (await ctx.store.models.registerModel(modelRegistration(manifest), actor));
}
