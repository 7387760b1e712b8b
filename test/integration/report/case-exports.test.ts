// The exports of a real case: CSV per class, CSV per cell, JSON of the whole case, read back and compared with
// the database. The reviewer's name is a spreadsheet formula, as a hostile or careless entry could be.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDatabase,
  effectiveCountsByClass,
  getCase,
  getModel,
  createCase,
  listReviews,
  openDatabase,
  upsertPatient,
  type MarrowDatabase,
} from '../../../src/main/db';
import { writeCaseExport } from '../../../src/main/service/case-exports';
import { writeCaseReport } from '../../../src/main/service/case-report';
import { computeDifferential, type Differential } from '../../../src/shared/differential';
import { buildCase, cellsOf, setLab } from './build-case';
import { parseCsv } from '../../helpers/csv';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const HOSTILE_REVIEWER = '=HYPERLINK("http://evil.example","click")';

function asObjects(records: string[][]): Record<string, string>[] {
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
}

let root: string;
let db: MarrowDatabase;
let caseId: number;
let differential: Differential;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'marrowcount-export-'));
  db = openDatabase(join(root, 'marrowcount.sqlite'));
  setLab(db, 'Export Lab');
  ({ caseId } = buildCase(db, root, {
    accession: 'EXP-1',
    reviewer: HOSTILE_REVIEWER,
    cells: [
      ...cellsOf({ BLA: 2 }, { confidence: 0.5, flagged: true, reviewedAs: 'PMO' }),
      ...cellsOf({ BLA: 3, NGS: 20, EBO: 10, ART: 2 }),
      ...cellsOf({ LYT: 4 }, { confidence: 0.55, flagged: true, reviewedAs: 'LYT' }),
    ],
  }));
  const caseRow = getCase(db, caseId);
  differential = computeDifferential(effectiveCountsByClass(db, caseId), { modelClasses: getModel(db, caseRow.modelRowId!).classes });
});

afterAll(() => {
  if (db) closeDatabase(db);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('per-class CSV export', () => {
  it('has one row per class with the database counts, percentages and intervals at 1 decimal', async () => {
    const out = join(root, 'classes.csv');
    const saved = await writeCaseExport(sqliteStore(db), caseId, 'csv-classes', out);
    expect(saved).toEqual({ path: out, bytes: readFileSync(out).length });
    const rows = asObjects(parseCsv(readFileSync(out, 'utf8')));
    expect(rows).toHaveLength(21);
    for (const row of differential.rows) {
      const csv = rows.find((r) => r['code'] === row.code)!;
      expect(csv, row.code).toMatchObject({
        name: row.name,
        count: String(row.count),
        percent_of_ndc: row.percentOfNdc === null ? '' : row.percentOfNdc.toFixed(1),
        ci95_low_percent: row.ci95 === null ? '' : row.ci95.lower.toFixed(1),
        ci95_high_percent: row.ci95 === null ? '' : row.ci95.upper.toFixed(1),
        in_ndc: String(row.inNdc),
      });
    }
    // Hand-computed: NDC = 5 + 20 + 10 + 4 = 39 (2 BLA reviewed as PMO); blasts 3/39 = 7.7%; ART 2 per 39 NDC = 5.1.
    expect(rows.find((r) => r['code'] === 'BLA')).toMatchObject({ count: '3', percent_of_ndc: '7.7' });
    expect(rows.find((r) => r['code'] === 'PMO')).toMatchObject({ count: '2', percent_of_ndc: '5.1' });
    expect(rows.find((r) => r['code'] === 'ART')).toMatchObject({ count: '2', in_ndc: 'false', percent_of_ndc: '', per_100_ndc: '5.1' });
  });
});

describe('per-cell CSV export', () => {
  it('has one row per cell with predicted, reviewed and effective labels', async () => {
    const out = join(root, 'cells.csv');
    await writeCaseExport(sqliteStore(db), caseId, 'csv-cells', out);
    const rows = asObjects(parseCsv(readFileSync(out, 'utf8')));
    expect(rows).toHaveLength(41);
    const tally: Record<string, number> = {};
    for (const row of rows) tally[row['effective_label']!] = (tally[row['effective_label']!] ?? 0) + 1;
    expect(tally).toEqual(effectiveCountsByClass(db, caseId));
    const reclassified = rows.filter((r) => r['predicted'] === 'BLA' && r['reviewed_label'] === 'PMO');
    expect(reclassified).toHaveLength(2);
    for (const row of reclassified) {
      expect(row).toMatchObject({ flagged: 'true', effective_label: 'PMO', confidence: '0.5000' });
      expect(row['reviewed_at']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(row['flag_reasons']).toBe('low confidence 0.50 < 0.60');
    }
    const unreviewed = rows.filter((r) => r['reviewed_label'] === '');
    expect(unreviewed).toHaveLength(35);
    for (const row of unreviewed) expect(row['reviewer']).toBe('');
  });

  it('neutralises a reviewer name that a spreadsheet would run as a formula', async () => {
    const out = join(root, 'cells-injection.csv');
    await writeCaseExport(sqliteStore(db), caseId, 'csv-cells', out);
    const text = readFileSync(out, 'utf8');
    const reviewers = asObjects(parseCsv(text))
      .map((r) => r['reviewer'])
      .filter((r) => r !== '');
    expect(reviewers).toHaveLength(6);
    for (const reviewer of reviewers) expect(reviewer).toBe(`'${HOSTILE_REVIEWER}`);
    // No field of the raw file starts with a formula trigger.
    expect(text).not.toMatch(/(^|,|\r\n)"?[=+\-@]/);
  });
});

describe('JSON export', () => {
  it('holds the whole case: case, patient, model, differential, cells, reviews, sign-offs and audit', async () => {
    const out = join(root, 'case.json');
    await writeCaseExport(sqliteStore(db), caseId, 'json', out, { appVersion: '0.1.0-test' });
    const json = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> & {
      case: { accession: string };
      patient: { labId: string };
      model: { id: string; sha256: string; researchOnly: boolean };
      differential: Differential;
      cells: { effectiveLabel: string; probabilities: Record<string, number> }[];
      reviews: unknown[];
      signOffs: unknown[];
      audit: unknown[];
    };
    const caseRow = getCase(db, caseId);
    expect(json['format']).toBe('marrowcount-case-export');
    expect(json.case.accession).toBe('EXP-1');
    expect(json.patient.labId).toBe(caseRow.patientLabId);
    expect(json.model).toMatchObject({ id: 'marrowcount-ref', sha256: getModel(db, caseRow.modelRowId!).sha256, researchOnly: true });
    expect(json.differential).toEqual(differential);
    expect(json.cells).toHaveLength(41);
    expect(Object.keys(json.cells[0]!.probabilities)).toHaveLength(21);
    expect(json.reviews).toHaveLength(listReviews(db, caseId).length);
    expect(json.signOffs).toEqual([]);
    expect(json.audit.length).toBeGreaterThan(0);
  });

  it('refuses to export or report a case that is not analysed yet, naming it', async () => {
    const patient = upsertPatient(db, { labId: 'MRN-NEW', actor: 'A. Technician' });
    const fresh = createCase(db, { patientId: patient.id, accession: 'EXP-NEW', specimen: 'bone_marrow_aspirate', folder: root, actor: 'A. Technician' });
    await expect(writeCaseExport(sqliteStore(db), fresh.id, 'json', join(root, 'x.json'))).rejects.toThrow(/EXP-NEW has not finished analysis/);
    await expect(writeCaseReport(sqliteStore(db), fresh.id, join(root, 'x.pdf'))).rejects.toMatchObject({ kind: 'conflict' });
  });
});
