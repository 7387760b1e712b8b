// Writes the lab model's card (rendered by report/lab-model-card.ts) where the caller asked.
import type { LabModelDetail, SavedFile } from '../../shared/api';
import { ReportError } from '../report/errors';
import { locateReportFonts } from '../report/fonts';
import { renderLabModelCardPdf } from '../report/lab-model-card';
import { ServiceError } from './errors';
import { writeAtomically } from '../files/write-atomically';

export async function writeLabModelCard(lab: LabModelDetail, path: string, options: { appVersion: string }): Promise<SavedFile> {
  let fonts;
  try {
    fonts = locateReportFonts();
  } catch (e) {
    if (e instanceof ReportError) throw new ServiceError('io', e.message, { detail: e.path, cause: e });
    throw e;
  }
  const pdf = await renderLabModelCardPdf(lab, { fonts, appVersion: options.appVersion, generatedAt: new Date().toISOString() });
  return writeAtomically(path, pdf);
}
