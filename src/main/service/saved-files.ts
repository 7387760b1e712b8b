// The PDF report and the exports. Where the caller names no path the file goes to the reports folder under a
// name made from the accession number; a named path must carry the format's extension, so the renderer cannot
// be used to overwrite an arbitrary file such as a shell profile.
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { ExportFormat, ExportInput, MarrowApi, SaveReportInput, SavedFile } from '../../shared/api';
import { getCase } from '../db';
import type { ServiceContext } from './context';
import { validationError } from './errors';
import { checkNamedPath } from './named-path-policy';
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

function outputPath(ctx: ServiceContext, given: string | undefined, fallback: string, extension: string): string {
  if (given === undefined) return fallback;
  if (!isAbsolute(given)) throw validationError('path', `The file path must be a full path, not "${given}".`);
  if (extname(given).toLowerCase() !== extension) throw validationError('path', `The file name must end in ${extension} (got ${given}).`);
  checkNamedPath(ctx, given);
  return resolve(given);
}

export function savedFileMethods(ctx: ServiceContext): Pick<MarrowApi, 'saveReport' | 'exportCase'> {
  return {
    async saveReport(input: SaveReportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const draft = row.status === 'signed' ? '' : '-draft';
      const path = outputPath(ctx, input.path, join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${draft}.pdf`), '.pdf');
      return writeCaseReport(ctx.db, input.caseId, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },

    async exportCase(input: ExportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const { suffix, extension } = EXPORT_SUFFIX[input.format];
      const path = outputPath(ctx, input.path, join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${suffix}${extension}`), extension);
      return writeCaseExport(ctx.db, input.caseId, input.format, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },
  };
}
