// Cases: creating one from a folder of crops, listing and opening them. The folder is checked here, before any
// row is written, so a mistyped path is a field error on the form rather than a failed analysis later.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { CaseDetail, CaseFilter, CaseSummary, CorrectPatientNameInput, NewCaseInput } from '../../shared/api';
import { listCropFiles } from '../inference/case-folder';
import { DatabaseError } from '../db';
import { PatientMismatchError } from '../db/patients';
import { currentActor, modelCache, type ServiceContext } from './context';
import { checkFolderUnderRoots, checkUploadComplete } from './case-folder-policy';
import type { ServiceArea } from './combine';
import { ServiceError, validationError } from './errors';
import { folderContents, refuseOrConfirmSharedCrops } from './shared-crops';
import { caseDetail, caseSummaryOf } from './views';

/** The case list shows a screenful or two; the renderer pages with offset. */
const DEFAULT_CASE_LIMIT = 200;

function checkFolder(folder: string): string {
  if (!isAbsolute(folder)) throw validationError('folder', `The folder must be a full path (e.g. /data/cases/BM-0042), not "${folder}".`);
  const path = resolve(folder);
  let info;
  try {
    info = statSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw validationError('folder', `The folder ${path} does not exist. Check the path.`);
    if (code === 'EACCES' || code === 'EPERM') throw validationError('folder', `MarrowCount may not read ${path}. Ask IT for read access.`);
    throw new ServiceError('io', `Could not open ${path}: ${(e as Error).message}`, { field: 'folder', cause: e });
  }
  if (!info.isDirectory()) throw validationError('folder', `${path} is a file, not a folder. Choose the folder that holds the cell images.`);
  return path;
}

/** A folder with no crops is almost always the wrong folder (the slide's parent, an export still running). */
async function checkFolderHasCrops(folder: string): Promise<void> {
  let crops;
  try {
    crops = await listCropFiles(folder);
  } catch (e) {
    throw new ServiceError('io', (e as Error).message, { field: 'folder', cause: e });
  }
  if (crops.length === 0) {
    throw validationError(
      'folder',
      `${folder} holds no cell images (JPEG, PNG or TIFF files), neither directly nor in its subfolders. Choose the folder with the case's crops.`,
    );
  }
}

/**
 * A specimen date later than tomorrow (UTC, so that no time zone refuses today) or before the patient's birth is a
 * typing error, and it would put the marrow in the wrong place in the patient's history.
 */
function checkSpecimenDate(date: string, birthDate: string | null): void {
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  if (date > tomorrow) throw validationError('specimenDate', `The specimen date ${date} is in the future. Enter the day the specimen was taken.`);
  if (birthDate !== null && date < birthDate) {
    throw validationError('specimenDate', `The specimen date ${date} is before the patient's birth date (${birthDate}). Check both dates.`);
  }
}

export function caseMethods(ctx: ServiceContext) {
  const modelOf = modelCache(ctx);
  return {
    async listCases(filter: CaseFilter): Promise<CaseSummary[]> {
      const rows = await ctx.store.cases.listCases({ ...filter, limit: filter.limit ?? DEFAULT_CASE_LIMIT });
      return Promise.all(rows.map(async (row) => caseSummaryOf(ctx.store, row, await modelOf(row.modelRowId))));
    },

    async createCase(input: NewCaseInput): Promise<CaseDetail> {
      if (input.patient.labId.trim() === '') throw validationError('patient.labId', 'Patient ID is required.');
      if (input.accession.trim() === '') throw validationError('accession', 'Accession number is required.');
      const folder = checkFolder(input.folder);
      if (ctx.options.caseFolderRoots !== undefined) checkFolderUnderRoots(folder, ctx.options.caseFolderRoots);
      checkUploadComplete(folder);
      await checkFolderHasCrops(folder);
      const contents = await folderContents(folder);
      const actor = currentActor(ctx);
      let created;
      try {
        // One transaction: a refused case (e.g. a duplicate accession) must not leave the patient's details changed.
        created = await ctx.store.transaction(async (tx) => {
          const patient = await tx.patients.upsertPatient({ ...input.patient, actor });
          if (input.specimenDate !== undefined) checkSpecimenDate(input.specimenDate, patient.birthDate);
          const row = await tx.cases.createCase({ patientId: patient.id, accession: input.accession, specimen: input.specimen, folder, actor });
          if (input.specimenDate !== undefined) await tx.patientHistory.recordSpecimenDate({ caseId: row.id, collectedOn: input.specimenDate, actor });
          // Crops already another patient's: refused (all of the above rolled back) or confirmed and recorded.
          await refuseOrConfirmSharedCrops(tx, { caseId: row.id, patientId: patient.id, folder, contents, confirmation: input.confirmSharedCrops, by: actor });
          return row;
        });
      } catch (e) {
        // The form's name or birth date disagrees with the patient on record: shown beside that field, nothing saved.
        if (e instanceof PatientMismatchError) {
          throw new ServiceError('conflict', e.message, { field: `patient.${e.field}`, cause: e });
        }
        if (e instanceof DatabaseError && e.kind === 'duplicate') {
          throw new ServiceError('conflict', `Accession number ${input.accession} is already used by another case. Open that case or check the number.`, {
            field: 'accession',
            cause: e,
          });
        }
        throw e;
      }
      return caseDetail(ctx, created.id, modelOf);
    },

    async getCase(caseId: number): Promise<CaseDetail> {
      return caseDetail(ctx, caseId, modelOf);
    },

    async correctPatientName(input: CorrectPatientNameInput): Promise<CaseDetail> {
      const row = await ctx.store.cases.getCase(input.caseId);
      if (input.name.trim() === '') throw validationError('name', 'Enter the patient’s name as it should read.');
      if (input.reason.trim() === '') throw validationError('reason', 'Give the reason for the correction (e.g. typing error at registration).');
      // Recorded against the person other changes are recorded against (the session user once there is one).
      await ctx.store.patients.correctPatientName({
        patientId: row.patientId,
        caseId: row.id,
        name: input.name,
        reason: input.reason,
        actor: currentActor(ctx),
      });
      return caseDetail(ctx, input.caseId, modelOf);
    },
  } satisfies ServiceArea;
}
