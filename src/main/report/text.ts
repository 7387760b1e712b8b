// Wording and formats the report and the exports share that the UI does not (the UI formats its own dates in the
// viewer's locale; a printed report must read the same wherever it is opened, so it states UTC).
import type { SpecimenType } from '../../shared/api';

const SPECIMEN_LABELS: Readonly<Record<SpecimenType, string>> = {
  bone_marrow_aspirate: 'Bone marrow aspirate',
  bone_marrow_imprint: 'Bone marrow imprint',
  peripheral_blood: 'Peripheral blood',
  other: 'Other',
};

export function specimenLabel(specimen: SpecimenType): string {
  return SPECIMEN_LABELS[specimen] ?? specimen;
}

/** "2026-11-27T22:49:05.123Z" → "2026-11-27 22:49 UTC"; null → "—". An unparseable value is printed as stored. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null || iso === '') return '—';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const d = new Date(time);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Calibrated probability 0..1 → "87%". */
export function formatConfidence(probability: number): string {
  return `${Math.round(probability * 100)}%`;
}
