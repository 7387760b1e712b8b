// Display formatting that only the UI needs (figures shared with the report come from src/shared/format).
import type { SpecimenType } from '../../shared/api';

export const SPECIMEN_LABELS: Readonly<Record<SpecimenType, string>> = {
  bone_marrow_aspirate: 'Bone marrow aspirate',
  bone_marrow_imprint: 'Bone marrow imprint',
  peripheral_blood: 'Peripheral blood',
  other: 'Other',
};

/** "2026-11-27 14:03" in the machine's local time; the ISO text unchanged if it does not parse. */
export function formatDateTime(iso: string | null): string {
  if (iso === null) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'estimating…';
  if (seconds < 1) return 'less than a second left';
  if (seconds < 90) return `about ${Math.round(seconds)} s left`;
  const minutes = Math.round(seconds / 60);
  return `about ${minutes} min left`;
}
