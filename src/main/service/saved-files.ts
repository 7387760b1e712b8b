// The PDF report and the exports. Where the caller names no path the file goes to the reports folder under a
// name made from the accession number; a named path must carry the format's extension, so the renderer cannot
// be used to overwrite an arbitrary file such as a shell profile.
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { ExportFormat, ExportInput, MarrowApi, SaveReportInput, SavedFile } from '../../shared/api';
import { existsSync, statSync } from 'node:fs';
import { isReleased } from '../../shared/case-lifecycle';
import { getCase, listSignOffs, type CaseRow } from '../db';
import type { ServiceContext } from './context';
import { validationError } from './errors';
import { writeCaseExport, writeCaseReport } from './report';

const EXPORT_SUFFIX: Record<ExportFormat, { suffix: string; extension: string }> = {
  'csv-classes': { suffix: '-classes', extension: '.csv' },
  'csv-cells': { suffix: '-cells', extension: '.csv' },
  json: { suffix: '', extension: '.json' },
};

/** A file-name-safe form of the accession number: letters, digits, dot, dash and underscore. */
export function safeFileStem(accession: string): string {
  const stem = accession.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return stem === '' ? 'case' : stem.slice(0, 80);
}

function outputPath(given: string | undefined, fallback: string, extension: string): string {
  if (given === undefined) return fallback;
  if (!isAbsolute(given)) throw validationError('path', `The file path must be a full path, not "${given}".`);
  if (extname(given).toLowerCase() !== extension) throw validationError('path', `The file name must end in ${extension} (got ${given}).`);
  return resolve(given);
}

/**
 * The default name's version part: '-draft' while unreleased (a draft is rewritten freely), nothing for the first
 * release, '-corrected-N' for the N-th release after amendments, so a corrected report never replaces the one a
 * clinician already received.
 */
function releaseSuffix(ctx: ServiceContext, row: CaseRow): { suffix: string; released: boolean } {
  if (!isReleased(row.status)) return { suffix: '-draft', released: false };
  const release = listSignOffs(ctx.db, row.id).length;
  return { suffix: release <= 1 ? '' : `-corrected-${release}`, released: true };
}

/** A released file already saved under its versioned name is kept as it is: never overwritten. */
function keptRelease(path: string): SavedFile | null {
  return existsSync(path) ? { path, bytes: statSync(path).size } : null;
}

export function savedFileMethods(ctx: ServiceContext): Pick<MarrowApi, 'saveReport' | 'exportCase'> {
  return {
    async saveReport(input: SaveReportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const version = releaseSuffix(ctx, row);
      const fallback = join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${version.suffix}.pdf`);
      const path = outputPath(input.path, fallback, '.pdf');
      if (input.path === undefined && version.released) {
        const kept = keptRelease(path);
        if (kept !== null) return kept;
      }
      return writeCaseReport(ctx.db, input.caseId, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },

    async exportCase(input: ExportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const { suffix, extension } = EXPORT_SUFFIX[input.format];
      const version = releaseSuffix(ctx, row);
      const fallback = join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${suffix}${version.suffix}${extension}`);
      const path = outputPath(input.path, fallback, extension);
      if (input.path === undefined && version.released) {
        const kept = keptRelease(path);
        if (kept !== null) return kept;
      }
      return writeCaseExport(ctx.db, input.caseId, input.format, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },
  };
}
