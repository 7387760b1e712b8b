// The 21 cell classes of the Matek 2021 bone-marrow data set (Matek C. et al., Blood 2021;138:1917-1927), with the
// counting rules MarrowCount applies to each. Every count, percentage and ratio in the app derives from this table,
// so each rule carries the reason it was chosen.
//
// Rules (sources):
// - Nucleated differential count (NDC): ICSH 2008 (Lee SH et al., Int J Lab Hematol 2008;30:349-364) counts all
//   nucleated marrow cells except those that cannot be identified. Artefacts (ART), cells not identifiable (NIF) and
//   smudge cells (KSC, disrupted cells) are therefore excluded from the NDC and reported separately; "other" cells
//   (OTH) are nucleated cells, so they stay in the NDC but are flagged for a person to describe.
// - M:E ratio, ICSH convention: myeloid side = all granulocytes and their precursors — blasts, promyelocytes to
//   segmented neutrophils, eosinophils (including abnormal ones), basophils, faggot cells — plus monocytes; erythroid
//   side = nucleated erythroid precursors (proerythroblasts, erythroblasts). Blasts are counted on the myeloid side, as
//   the earliest granulocytic precursors (ICSH 2008; Dacie and Lewis, Practical Haematology): in a marrow
//   differential most blasts are myeloblasts, and leaving them out would understate the myeloid side exactly in the
//   marrows where it matters. Because labs differ here, every report prints the convention (ME_CONVENTION_TEXT in
//   differential.ts). Lymphocytes, plasma cells, hairy cells and unclassified cells are on neither side.
// - Blast equivalents: BLA, and FGC (faggot cells are abnormal promyelocytes; WHO-HAEM5 and ICC 2022 count the
//   abnormal promyelocytes of APL as blast equivalents).
// - Lineage is descriptive (used for grouping in the UI/report), not an input to any rule: hairy cells (HAC) and
//   immature lymphocytes (LYI) are lymphoid; plasma cells have their own lineage; faggot cells and abnormal
//   eosinophils are granulocytic; ART, NIF, KSC and OTH are "other".

export const CELL_CLASS_CODES = [
  'ABE',
  'ART',
  'BAS',
  'BLA',
  'EBO',
  'EOS',
  'FGC',
  'HAC',
  'KSC',
  'LYI',
  'LYT',
  'MMZ',
  'MON',
  'MYB',
  'NGB',
  'NGS',
  'NIF',
  'OTH',
  'PEB',
  'PLM',
  'PMO',
] as const;

export type CellClassCode = (typeof CELL_CLASS_CODES)[number];

export type Lineage = 'granulocytic' | 'erythroid' | 'lymphoid' | 'monocytic' | 'plasma' | 'blast' | 'other';

export type MeSide = 'myeloid' | 'erythroid';

export interface CellClass {
  code: CellClassCode;
  /** English name, as in the Matek 2021 data set. */
  name: string;
  lineage: Lineage;
  /** Counted in the nucleated differential (the denominator of every percentage). */
  inNucleatedDifferential: boolean;
  /** Counted, but a person must look at it (OTH). */
  flaggedWhenCounted: boolean;
  /** Side of the M:E ratio (ICSH convention), or null when on neither side. */
  meSide: MeSide | null;
  /** Counted in the blast percentage. */
  blastEquivalent: boolean;
}

function define(
  code: CellClassCode,
  name: string,
  lineage: Lineage,
  rules: Partial<Pick<CellClass, 'inNucleatedDifferential' | 'flaggedWhenCounted' | 'meSide' | 'blastEquivalent'>> = {},
): CellClass {
  return Object.freeze({
    code,
    name,
    lineage,
    inNucleatedDifferential: rules.inNucleatedDifferential ?? true,
    flaggedWhenCounted: rules.flaggedWhenCounted ?? false,
    meSide: rules.meSide ?? null,
    blastEquivalent: rules.blastEquivalent ?? false,
  });
}

const myeloid = { meSide: 'myeloid' } as const;
const erythroid = { meSide: 'erythroid' } as const;
const excluded = { inNucleatedDifferential: false } as const;

export const CELL_CLASSES: Readonly<Record<CellClassCode, CellClass>> = Object.freeze({
  ABE: define('ABE', 'abnormal eosinophil', 'granulocytic', myeloid),
  ART: define('ART', 'artefact', 'other', excluded),
  BAS: define('BAS', 'basophil', 'granulocytic', myeloid),
  BLA: define('BLA', 'blast', 'blast', { meSide: 'myeloid', blastEquivalent: true }),
  EBO: define('EBO', 'erythroblast', 'erythroid', erythroid),
  EOS: define('EOS', 'eosinophil', 'granulocytic', myeloid),
  FGC: define('FGC', 'faggot cell', 'granulocytic', { meSide: 'myeloid', blastEquivalent: true }),
  HAC: define('HAC', 'hairy cell', 'lymphoid'),
  KSC: define('KSC', 'smudge cell', 'other', excluded),
  LYI: define('LYI', 'immature lymphocyte', 'lymphoid'),
  LYT: define('LYT', 'lymphocyte', 'lymphoid'),
  MMZ: define('MMZ', 'metamyelocyte', 'granulocytic', myeloid),
  MON: define('MON', 'monocyte', 'monocytic', myeloid),
  MYB: define('MYB', 'myelocyte', 'granulocytic', myeloid),
  NGB: define('NGB', 'band neutrophil', 'granulocytic', myeloid),
  NGS: define('NGS', 'segmented neutrophil', 'granulocytic', myeloid),
  NIF: define('NIF', 'not identifiable', 'other', excluded),
  OTH: define('OTH', 'other cell', 'other', { flaggedWhenCounted: true }),
  PEB: define('PEB', 'proerythroblast', 'erythroid', erythroid),
  PLM: define('PLM', 'plasma cell', 'plasma'),
  PMO: define('PMO', 'promyelocyte', 'granulocytic', myeloid),
});

/**
 * Order in which reports and the UI list classes: blasts first (the figure that drives classification), then the
 * granulocytic series by maturation, monocytes, lymphoid and plasma cells, the erythroid series, unclassified cells,
 * and last the classes excluded from the nucleated differential.
 */
export const CELL_CLASS_DISPLAY_ORDER: readonly CellClassCode[] = Object.freeze([
  'BLA',
  'FGC',
  'PMO',
  'MYB',
  'MMZ',
  'NGB',
  'NGS',
  'EOS',
  'ABE',
  'BAS',
  'MON',
  'LYT',
  'LYI',
  'HAC',
  'PLM',
  'PEB',
  'EBO',
  'OTH',
  'ART',
  'NIF',
  'KSC',
] as const satisfies readonly CellClassCode[]);

const CODE_SET: ReadonlySet<string> = new Set(CELL_CLASS_CODES);

export function isCellClassCode(value: unknown): value is CellClassCode {
  return typeof value === 'string' && CODE_SET.has(value);
}

/** Thrown when a string that is not one of the 21 Matek codes is used as a cell class. */
export class UnknownCellClassError extends Error {
  readonly value: unknown;

  constructor(value: unknown) {
    super(`${describeValue(value)} is not a cell class code; expected one of ${CELL_CLASS_CODES.join(', ')}.`);
    this.name = 'UnknownCellClassError';
    this.value = value;
  }
}

export function cellClass(code: CellClassCode): CellClass {
  // Callers may hold codes read from a file or database typed as CellClassCode without a check.
  if (!isCellClassCode(code)) throw new UnknownCellClassError(code);
  return CELL_CLASSES[code];
}

/** Codes on one side of the ICSH M:E ratio. */
export function classesOnMeSide(side: MeSide): CellClassCode[] {
  return CELL_CLASS_CODES.filter((code) => CELL_CLASSES[code].meSide === side);
}

/** Classes counted in the blast percentage (BLA, FGC). */
export const BLAST_EQUIVALENT_CODES: readonly CellClassCode[] = Object.freeze(CELL_CLASS_CODES.filter((code) => CELL_CLASSES[code].blastEquivalent));

/** Classes excluded from the nucleated differential (ART, NIF, KSC). */
export const EXCLUDED_FROM_NDC_CODES: readonly CellClassCode[] = Object.freeze(CELL_CLASS_CODES.filter((code) => !CELL_CLASSES[code].inNucleatedDifferential));

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
