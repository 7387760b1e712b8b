// The PDF report and the exports. Where the caller names no path the file goes to the reports folder under a
// name made from the accession number; a named path must carry the format's extension, so the renderer cannot
// be used to overwrite an arbitrary file such as a shell profile.
import { join } from 'node:path';
import type { ExportFormat, ExportInput, SaveReportInput, SavedFile } from '../../shared/api';
import { getCase } from '../db';
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

export function savedFileMethods(ctx: ServiceContext) {
  return {
    async saveReport(input: SaveReportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const draft = row.status === 'signed' ? '' : '-draft';
      const path = namedOutputPath(ctx, input.path, join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${draft}.pdf`), '.pdf');
      return writeCaseReport(ctx.db, input.caseId, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },

    async exportCase(input: ExportInput): Promise<SavedFile> {
      const row = getCase(ctx.db, input.caseId);
      const { suffix, extension } = EXPORT_SUFFIX[input.format];
      const path = namedOutputPath(ctx, input.path, join(ctx.options.reportsDir, `${safeFileStem(row.accession)}${suffix}${extension}`), extension);
      return writeCaseExport(ctx.db, input.caseId, input.format, path, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir });
    },
  } satisfies ServiceArea;
}
