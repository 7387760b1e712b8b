// The new-case form's state and its client-side checks, kept apart from the JSX so the rules are easy to read.
import { SPECIMEN_TYPES, type NewCaseInput, type SpecimenType } from '../../../shared/api';

export interface NewCaseForm {
  labId: string;
  name: string;
  birthDate: string;
  accession: string;
  specimen: SpecimenType;
  /** YYYY-MM-DD or empty: the case's creation day then stands in (history says so). */
  specimenDate: string;
  folder: string;
}

export type NewCaseField = keyof NewCaseForm;

export const EMPTY_FORM: NewCaseForm = {
  labId: '',
  name: '',
  birthDate: '',
  accession: '',
  specimen: SPECIMEN_TYPES[0],
  specimenDate: '',
  folder: '',
};

export type FieldErrors = Partial<Record<NewCaseField, string>>;

export function validateNewCase(form: NewCaseForm): FieldErrors {
  const errors: FieldErrors = {};
  if (form.labId.trim() === '') errors.labId = 'Enter the patient identifier (MRN).';
  if (form.accession.trim() === '') errors.accession = 'Enter the case or accession number.';
  if (form.folder.trim() === '') errors.folder = 'Choose the folder that holds the cell images.';
  if (form.birthDate !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(form.birthDate)) {
    errors.birthDate = 'Enter the birth date as YYYY-MM-DD, or leave it empty.';
  }
  if (form.specimenDate !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(form.specimenDate)) {
    errors.specimenDate = 'Enter the day the specimen was taken as YYYY-MM-DD, or leave it empty.';
  }
  return errors;
}

export function toNewCaseInput(form: NewCaseForm): NewCaseInput {
  const name = form.name.trim();
  const birthDate = form.birthDate.trim();
  const specimenDate = form.specimenDate.trim();
  return {
    patient: {
      labId: form.labId.trim(),
      ...(name ? { name } : {}),
      ...(birthDate ? { birthDate } : {}),
    },
    accession: form.accession.trim(),
    specimen: form.specimen,
    folder: form.folder.trim(),
    ...(specimenDate ? { specimenDate } : {}),
  };
}

const FIELDS: readonly NewCaseField[] = ['labId', 'name', 'birthDate', 'accession', 'specimen', 'specimenDate', 'folder'];

/** Maps a server error's `field` ("patient.labId", "folder", …) to the form field it belongs to, or null. */
export function formFieldOf(field: string | undefined): NewCaseField | null {
  if (field === undefined) return null;
  const last = field.split('.').pop() ?? field;
  return FIELDS.find((candidate) => candidate === last) ?? null;
}
