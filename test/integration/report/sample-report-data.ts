// Hand-built report data for rendering the PDF without a database (layout checks, the renderer's own tests).
import { countFlagReasons } from '../../../src/shared/flag-reasons';
import { resolve } from 'node:path';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { computeDifferential, type ClassCounts } from '../../../src/shared/differential';
import type { CaseReportData, ReportGalleryCell } from '../../../src/main/report/report-data';

export const CROPS_DIR = resolve(import.meta.dirname, '../../fixtures/crops/good');

const CROPS: { file: string; code: CellClassCode }[] = [
  { file: 'BLA_00001.jpg', code: 'BLA' },
  { file: 'slide-2/BLA_00002.jpg', code: 'BLA' },
  { file: 'PMO_00001.jpg', code: 'PMO' },
  { file: 'MON_00002.jpg', code: 'MON' },
  { file: 'EOS_00001.jpg', code: 'EOS' },
  { file: 'slide-2/EOS_00002.png', code: 'EOS' },
  { file: 'LYT_00001.jpg', code: 'LYT' },
  { file: 'NGS_00001.jpg', code: 'NGS' },
  { file: 'ART_00002.jpg', code: 'ART' },
  { file: 'NIF_00003.jpg', code: 'NIF' },
];

function galleryCell(i: number, predicted: CellClassCode, effective: CellClassCode, reviewed: boolean): ReportGalleryCell {
  const crop = CROPS[i % CROPS.length]!;
  return {
    imagePath: resolve(CROPS_DIR, crop.file),
    file: crop.file,
    predicted,
    confidence: 0.41 + (i % 5) * 0.1,
    effectiveLabel: effective,
    flagged: true,
    flagReasons:
      i % 3 === 0
        ? [{ kind: 'open_set', detail: 'open-set distance 16.2 > 13.3' }]
        : [{ kind: 'low_confidence', detail: `${(0.41 + (i % 5) * 0.1).toFixed(2)} < 0.63` }],
    reviewed,
  };
}

export function sampleReportData(overrides: Partial<CaseReportData> & { counts?: ClassCounts } = {}): CaseReportData {
  const counts: ClassCounts = overrides.counts ?? {
    BLA: 31,
    PMO: 22,
    MYB: 48,
    MMZ: 35,
    NGB: 40,
    NGS: 86,
    EOS: 14,
    BAS: 2,
    MON: 21,
    LYT: 64,
    PLM: 9,
    PEB: 6,
    EBO: 112,
    OTH: 2,
    ART: 9,
    NIF: 13,
    KSC: 4,
  };
  const differential = computeDifferential(counts);
  const { counts: _counts, ...rest } = overrides;
  return {
    labName: 'St Elsewhere Haematology Laboratory',
    caseId: 1,
    signatures: [],
    interpretiveComment: null,
    patient: { labId: 'MRN-0042', name: 'Doe, Jane', birthDate: '1961-04-12' },
    accession: 'BM-2026-0117',
    specimen: 'bone_marrow_aspirate',
    analysedAt: '2026-11-27T09:12:31.000Z',
    reviewedAt: '2026-11-27T10:05:02.000Z',
    signedAt: null,
    differential,
    review: {
      cellsClassified: differential.totalCellsCounted,
      flagged: 57,
      flaggedReviewed: 40,
      reviewed: 44,
      reclassified: 9,
      agreementPercent: (35 / 44) * 100,
      flagReasons: countFlagReasons([
        ...Array.from({ length: 12 }, (_, i) => ({ reasons: [{ kind: 'open_set' as const, detail: 'open-set distance 16.2 > 13.3' }], reviewed: i < 8 })),
        ...Array.from({ length: 45 }, (_, i) => ({ reasons: [{ kind: 'low_confidence' as const, detail: '0.51 < 0.63' }], reviewed: i < 32 })),
      ]),
    },
    model: { id: 'marrowcount-ref', version: '1.0.0', name: 'MarrowCount reference (public subset)', sha256: 'a3f1c2'.padEnd(64, '0'), researchOnly: true },
    rulesVersion: differential.rulesVersion,
    reviewers: [{ name: 'A. Technician', role: 'Biomedical scientist', at: '2026-11-27T10:05:02.000Z' }],
    signOff: null,
    signOffHistory: [],
    amendments: [],
    gallery: {
      blasts: Array.from({ length: 12 }, (_, i) => galleryCell(i, 'BLA', i === 3 ? 'PMO' : 'BLA', i % 2 === 0)),
      flagged: Array.from({ length: 12 }, (_, i) => galleryCell(i + 2, 'MYB', i % 3 === 0 ? 'MMZ' : 'MYB', i % 2 === 1)),
      blastsTotal: 31,
      flaggedTotal: 57,
    },
    importFailures: 0,
    statusText: 'In review',
    partialNotice: null,
    correction: null,
    draft: true,
    generatedAt: '2026-11-27T11:00:00.000Z',
    appVersion: '0.1.0',
    ...rest,
  };
}
