// The one rule for "research and evaluation only", with the cache that lets every case view ask it: the About box,
// case views, sign-off snapshots, reports and exports all read it from here.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelRow } from '../db';
import { parseModelManifest } from '../inference/model-manifest';

/**
 * The one rule for "research and evaluation only" (the About box, case views, sign-off snapshots, reports and
 * exports): a model is research-only unless its own manifest says `researchOnly: false` (model-manifest.ts). The
 * database does not store the flag, so it is read from the model package in `modelDir`, and only trusted when that
 * manifest describes the very model file the case was analysed with (same SHA-256). With no folder given, no
 * readable or valid model.json there, or another model installed since, the answer is unknown and therefore
 * research-only: a report must never lose its disclaimer by accident.
 */
export function isResearchOnlyModel(model: Pick<ModelRow, 'sha256'>, modelDir?: string): boolean {
  if (modelDir === undefined) return true;
  const manifest = installedManifest(modelDir);
  return !(manifest !== null && manifest.sha256 === model.sha256.toLowerCase() && manifest.researchOnly === false);
}

interface ManifestFlag {
  sha256: string;
  researchOnly: boolean;
}

/** model.json is re-read only when it changes (size or time), so case views can ask on every call. */
const manifestCache = new Map<string, { stamp: string; manifest: ManifestFlag | null }>();

function installedManifest(modelDir: string): ManifestFlag | null {
  const path = join(modelDir, 'model.json');
  let stamp: string;
  try {
    const info = statSync(path);
    stamp = `${info.size}:${info.mtimeMs}`;
  } catch {
    return null; // no model installed there: unknown, so research-only (see isResearchOnlyModel)
  }
  const cached = manifestCache.get(path);
  if (cached?.stamp === stamp) return cached.manifest;
  let manifest: ManifestFlag | null;
  try {
    const parsed = parseModelManifest(JSON.parse(readFileSync(path, 'utf8')), path);
    manifest = { sha256: parsed.sha256.toLowerCase(), researchOnly: parsed.researchOnly };
  } catch {
    // An unreadable or invalid model.json cannot clear a model; the About box and the analysis report the problem.
    manifest = null;
  }
  manifestCache.set(path, { stamp, manifest });
  return manifest;
}
