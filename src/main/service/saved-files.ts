// The PDF report and the exports. Where the caller names no path the file goes to the reports folder under a
// name made from the accession number; a named path must carry the format's extension, so the renderer cannot
// be used to overwrite an arbitrary file such as a shell profile.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportFormat, ExportInput, SaveReportInput, SavedFile } from '../../shared/api';
import { isReleased } from '../../shared/case-lifecycle';
import type { CaseRow } from '../db';
import type { ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { safeFileStem } from '../files/output-path';
import { namedOutputPath } from './named-path-policy';
import { writeCaseExport } from './case-exports';
import { writeCaseReport } from './case-report';

const EXPORT_SUFFIX: Record<ExportFormat, { suffix: string; extension: string }> = {
  'csv-classes': { suffix: '-classes', extension: '.csv' },
  'csv-cells': { suffix: '-cells', extension: '.csv' },
  json: { suffix: '', extension: '.json' },
};

/**
 * The default name's version part: '-draft' while unreleased (a draft is rewritten freely), nothing for the first
 * release, '-corrected-N' for the N-th release after amendments, so a corrected report never replaces the one a
 * clinician already received.
 */
async function releaseSuffix(ctx: ServiceContext, row: CaseRow): Promise<{ suffix: string; released: boolean }> {
  if (!isReleased(row.status)) return { suffix: '-draft', released: false };
  const release = (await ctx.store.cases.listSignOffs(row.id)).length;
  return { suffix: release <= 1 ? '' : `-corrected-${release}`, released: true };
}

/** A released file already saved under its versioned name is kept as it is: never overwritten. */
function keptRelease(path: string): SavedFile | null {
  return existsSync(path) ? { path, bytes: statSync(path).size } : null;
}

export function savedFileMethods(ctx: ServiceContext) {
  return {
    async saveReport(input: SaveReportInput): Promise<SavedFile> {
      const row = await ctx.store.cases.getCase(input.caseId);
      const version = await releaseSuffix(ctx, row);
      const fallback = join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${version.suffix}.pdf`);
      const path = namedOutputPath(ctx, input.path, fallback, '.pdf');
      if (input.path === undefined && version.released) {
        const kept = keptRelease(path);
        if (kept !== null) return kept;
      }
      return writeCaseReport(ctx.store, input.caseId, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },

    async exportCase(input: ExportInput): Promise<SavedFile> {
      const row = await ctx.store.cases.getCase(input.caseId);
      const { suffix, extension } = EXPORT_SUFFIX[input.format];
      const version = await releaseSuffix(ctx, row);
      const fallback = join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${suffix}${version.suffix}${extension}`);
      const path = namedOutputPath(ctx, input.path, fallback, extension);
      if (input.path === undefined && version.released) {
        const kept = keptRelease(path);
        if (kept !== null) return kept;
      }
      return writeCaseExport(ctx.store, input.caseId, input.format, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },
  } satisfies ServiceArea;
}
