// Seeded, randomised runs of the analysis over a case folder that changes between runs, checked after every run
// against an in-test oracle of the rules in pipeline.ts's header: a cell is classified and counted once, from the
// bytes that were imported; a duplicate is never classified; a failed file that is fixed is imported again and
// then counted once; a file that imported well and changed or disappeared keeps its cell and is named in
// changedAfterImport; a cancelled run leaves whole batches and a resumed run classifies only what is left; a
// stored cell still waiting for its prediction is classified only while its bytes are the imported ones.
// Real crops, the real tiny ONNX model and a real SQLite file; runs that an interrupted analysis leaves (images
// stored, predictions not) are made with insertImages, as the pipeline stores them in two transactions.
// Some runs also change one file after the folder is listed and before any batch is read (the first
// 'classifying' progress). RERUNS_SEEDS=<n> runs more seeds (300 were run while writing it, all held).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDatabase,
  createCase,
  effectiveCountsByClass,
  getCase,
  insertImages,
  listImages,
  listImportFailures,
  openDatabase,
  upsertPatient,
  type ImageFile,
  type MarrowDatabase,
  partialAnalysisOf,
} from '../../../src/main/db';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder, type PipelineOutcome, type PipelineProgress } from '../../../src/main/inference/pipeline';
import { BROKEN_CROPS, GOOD_CROPS, REPO, TINY_MODEL, tempDir } from './helpers';
import { mulberry32 } from '../../helpers/seeded-random';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const SEEDS = Array.from({ length: Number(process.env.RERUNS_SEEDS ?? 32) }, (_, i) => i + 1);
const ROUNDS = 8;
const OFF_SIZE = join(REPO, 'test/fixtures/crops/off-size');

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
/** listCropFiles' order: plain string comparison of the relative paths. */
const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What a file on disk is: its bytes (or a link target) and what importing it must give. */
interface Content {
  name: string;
  bytes: Buffer;
  /** The hash the import records: of the bytes, or of "link:<target>" for a link outside the folder. */
  sha: string;
  /** Good crops only: what insertImages needs. */
  width?: number;
  height?: number;
  /** null: a good crop; else the failure reason it must get. */
  fails: RegExp | null;
  link?: string;
}

/** The oracle's current record of one path (listImages' row). */
interface Rec {
  seq: number;
  sha: string;
  kind: 'cell' | 'dup' | 'failed';
  dupOf?: string;
  fails?: RegExp;
  predicted: boolean;
}

interface Expected {
  cancelled: boolean;
  classified: number;
  newFiles: number;
  duplicates: number;
  reimported: string[];
  failures: { file: string; reason: RegExp }[];
  changedAfterImport: { file: string; reason: RegExp }[];
  done: number;
  total: number;
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.gif', '.webp', '.jp2', '.j2k', '.jpx', '.heic', '.heif', '.avif', '.jxl'];
function listed(relativePath: string): boolean {
  if (relativePath.split('/').some((part) => part.startsWith('.'))) return false;
  const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}

let model: LoadedModel;
let goods: Content[];
let brokens: Content[];
/** The reference prediction of each good crop's bytes, from one clean run. */
const reference = new Map<string, { predicted: string; probabilities: number[] }>();

function readGood(path: string, name: string): Promise<Content> {
  const bytes = readFileSync(path);
  return sharp(bytes)
    .metadata()
    .then((m) => ({ name, bytes, sha: sha256(bytes), width: m.width, height: m.height, fails: null }));
}

beforeAll(async () => {
  model = await loadModelPackage(TINY_MODEL);
  const goodPaths = [
    ...readdirSync(GOOD_CROPS)
      .filter((n) => /\.(jpg|png)$/.test(n))
      .map((n) => join(GOOD_CROPS, n)),
    ...readdirSync(join(GOOD_CROPS, 'slide-2')).map((n) => join(GOOD_CROPS, 'slide-2', n)),
    ...readdirSync(OFF_SIZE)
      .filter((n) => /\.(jpg|png)$/.test(n))
      .map((n) => join(OFF_SIZE, n)),
  ];
  goods = await Promise.all(goodPaths.map((p) => readGood(p, p.slice(p.lastIndexOf('/') + 1))));
  expect(goods).toHaveLength(18);
  expect(new Set(goods.map((g) => g.sha)).size).toBe(goods.length);
  const broken = (name: string, fails: RegExp): Content => {
    const bytes = readFileSync(join(BROKEN_CROPS, name));
    return { name, bytes, sha: sha256(bytes), fails };
  };
  const webp = await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .webp()
    .toBuffer();
  brokens = [
    broken('empty.jpg', /is empty \(0 bytes\)/),
    broken('not-an-image.jpg', /is not a JPEG, PNG or TIFF image/),
    broken('truncated.jpg', /is a truncated JPEG/),
    broken('corrupt-data.jpg', /damaged or only partly copied; copy it again/),
    broken('wrong-size-40px.jpg', /40×40 px; a single-cell crop must be roughly square/),
    { name: 'webp', bytes: webp, sha: sha256(webp), fails: /is a webp file, not a JPEG, PNG or TIFF image/ },
  ];

  // Reference: every good crop once, in a clean case.
  const temp = tempDir('reruns-ref');
  try {
    const db = openDatabase(join(temp.path, 'ref.sqlite'));
    const folder = join(temp.path, 'case');
    mkdirSync(folder);
    goods.forEach((g, i) => writeFileSync(join(folder, `${i}-${g.name}`), g.bytes));
    const patient = upsertPatient(db, { labId: 'REF', actor: 'test' });
    const caseId = createCase(db, { patientId: patient.id, accession: 'REF-1', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId, {}, { batchSize: 4 });
    expect(outcome.classified).toBe(goods.length);
    const rows = db.raw.prepare('SELECT i.sha256, p.predicted_class, p.probabilities FROM predictions AS p JOIN images AS i ON i.id = p.image_id').all() as {
      sha256: string;
      predicted_class: string;
      probabilities: string;
    }[];
    for (const r of rows) reference.set(r.sha256, { predicted: r.predicted_class, probabilities: JSON.parse(r.probabilities) as number[] });
    closeDatabase(db);
  } finally {
    temp.remove();
  }
  expect(reference.size).toBe(goods.length);
  // The crops are told apart by their probabilities, so a cell classified from other bytes would show.
  const refs = [...reference.values()];
  for (let i = 0; i < refs.length; i++) {
    for (let j = i + 1; j < refs.length; j++) {
      const diff = Math.max(...refs[i]!.probabilities.map((p, c) => Math.abs(p - refs[j]!.probabilities[c]!)));
      expect(diff).toBeGreaterThan(1e-3);
    }
  }
});

afterAll(async () => {
  await model?.session.release();
});

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function scenario(seed: number): Promise<{ runs: number; cancelled: number; pendingMade: number; fromCopy: number }> {
  const rng = mulberry32(seed);
  const int = (n: number): number => Math.floor(rng() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const batchSize = 2 + int(2);

  const temp = tempDir(`reruns-${seed}`);
  const db: MarrowDatabase = openDatabase(join(temp.path, 'marrowcount.sqlite'));
  const folder = join(temp.path, 'case');
  const outside = join(temp.path, 'outside');
  mkdirSync(folder);
  mkdirSync(outside);
  writeFileSync(join(outside, 'cell.jpg'), goods[0]!.bytes);
  const outsideTarget = realpathSync(join(outside, 'cell.jpg'));
  const patient = upsertPatient(db, { labId: `P-${seed}`, actor: 'test' });
  const caseId = createCase(db, { patientId: patient.id, accession: `BM-${seed}`, specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;

  const disk = new Map<string, Content>();
  const records = new Map<string, Rec>();
  let seq = 0;
  let imageRows = 0;
  const predictionIds = new Map<number, number>();
  const log: string[] = [];
  const stats = { runs: 0, cancelled: 0, pendingMade: 0, fromCopy: 0 };

  // ---- the folder ----
  let counter = 0;
  const DIRS = ['', '', 'slide-1/', 'slide-2/', 'slide-1/deep/', 'Z/'];
  const EXTS = ['.jpg', '.jpg', '.jpeg', '.JPG', '.png', '.tif'];
  const freshName = (): string => `${pick(DIRS)}${pick(['a', 'm', 'z', 'B', '_'])}${(counter++).toString().padStart(3, '0')}${pick(EXTS)}`;
  /** A change to the folder; `to` says whether it goes to the real folder, the oracle's model of it, or both. */
  interface Change {
    rel: string;
    content: Content | null;
  }
  const apply = ({ rel, content }: Change, to: { fs: boolean; model: boolean }): void => {
    const abs = join(folder, rel);
    if (to.fs) {
      rmSync(abs, { force: true });
      if (content !== null) {
        mkdirSync(dirname(abs), { recursive: true });
        if (content.link !== undefined) symlinkSync(content.link, abs);
        else writeFileSync(abs, content.bytes);
      }
    }
    if (to.model) {
      if (content === null) disk.delete(rel);
      else if (listed(rel)) disk.set(rel, content);
    }
  };
  const write = (rel: string, content: Content): void => {
    apply({ rel, content }, { fs: true, model: true });
    log.push(`write ${rel} <- ${content.name}`);
  };
  const remove = (rel: string): void => {
    apply({ rel, content: null }, { fs: true, model: true });
    log.push(`delete ${rel}`);
  };
  const truncatedGood = (): Content => {
    const source = pick(goods.filter((g) => g.bytes[0] === 0xff));
    const bytes = source.bytes.subarray(0, Math.floor(source.bytes.length * (0.3 + 0.6 * rng())));
    return { name: `truncated ${source.name}`, bytes, sha: sha256(bytes), fails: /is a truncated JPEG/ };
  };
  const linkOutside = (): Content => ({
    name: 'link outside',
    bytes: Buffer.alloc(0),
    sha: sha256(`link:${outsideTarget}`),
    fails: /is a link to .* outside the case folder/,
    link: outsideTarget,
  });
  const someBroken = (): Content => {
    const r = int(8);
    return r < 6 ? brokens[r]! : r === 6 ? truncatedGood() : linkOutside();
  };
  /** A path whose disk content is not what its good record holds. */
  const differs = (rel: string, rec: Rec): boolean => disk.get(rel)?.sha !== rec.sha;
  const recordsWhere = (test: (rel: string, rec: Rec) => boolean): string[] =>
    [...records.entries()]
      .filter(([rel, rec]) => test(rel, rec))
      .map(([rel]) => rel)
      .sort(byPath);

  const ops: Record<string, () => void> = {
    addGood: () => write(freshName(), pick(goods)),
    addDuplicate: () => {
      const good = [...disk.entries()].filter(([, c]) => c.fails === null);
      if (good.length > 0) write(freshName(), pick(good)[1]);
    },
    addBroken: () => write(freshName(), someBroken()),
    fixFailed: () => {
      const failed = recordsWhere((rel, r) => r.kind === 'failed' && disk.has(rel));
      if (failed.length > 0) write(pick(failed), rng() < 0.8 ? pick(goods) : someBroken());
    },
    overwriteImported: () => {
      const cells = recordsWhere((rel, r) => r.kind === 'cell' && disk.has(rel));
      if (cells.length > 0) write(pick(cells), pick(goods));
    },
    deleteImported: () => {
      const cells = recordsWhere((rel, r) => r.kind !== 'failed' && disk.has(rel));
      if (cells.length > 0) remove(pick(cells));
    },
    truncateGood: () => {
      const good = [...disk.entries()]
        .filter(([, c]) => c.fails === null)
        .map(([rel]) => rel)
        .sort(byPath);
      if (good.length > 0) write(pick(good), truncatedGood());
    },
    restore: () => {
      const changed = recordsWhere((rel, r) => r.kind === 'cell' && differs(rel, r));
      if (changed.length > 0) {
        const rel = pick(changed);
        write(
          rel,
          goods.find((g) => g.sha === records.get(rel)!.sha)!,
        );
      }
    },
    deleteFailed: () => {
      const failed = recordsWhere((rel, r) => r.kind === 'failed' && disk.has(rel));
      if (failed.length > 0) remove(pick(failed));
    },
    noise: () => {
      const rel = pick(['notes.txt', '.hidden.jpg', '.thumbs/x.jpg', 'slide-1/Thumbs.db', 'labels.csv']);
      write(rel, pick(goods));
    },
  };
  const opNames = Object.keys(ops);
  const weights: Record<string, number> = {
    addGood: 4,
    addDuplicate: 2,
    addBroken: 2,
    fixFailed: 3,
    overwriteImported: 2,
    deleteImported: 1,
    truncateGood: 1,
    restore: 2,
    deleteFailed: 1,
    noise: 1,
  };
  const randomOp = (): string => {
    const sum = opNames.reduce((s, n) => s + weights[n]!, 0);
    let x = rng() * sum;
    for (const n of opNames) if ((x -= weights[n]!) < 0) return n;
    return opNames[0]!;
  };

  // ---- the oracle's import of one file (insertImages' rules) ----
  const importFile = (rel: string, content: Content): { duplicate: boolean } => {
    imageRows++;
    if (content.fails !== null) {
      records.set(rel, { seq: seq++, sha: content.sha, kind: 'failed', fails: content.fails, predicted: false });
      return { duplicate: false };
    }
    const original = [...records.entries()].find(([, r]) => r.kind === 'cell' && r.sha === content.sha);
    if (original !== undefined) {
      records.set(rel, { seq: seq++, sha: content.sha, kind: 'dup', dupOf: original[0], predicted: false });
      return { duplicate: true };
    }
    records.set(rel, { seq: seq++, sha: content.sha, kind: 'cell', predicted: false });
    return { duplicate: false };
  };

  const bySeq = (): [string, Rec][] => [...records.entries()].sort((a, b) => a[1].seq - b[1].seq);
  const listedFiles = (): string[] => [...disk.keys()].filter(listed).sort(byPath);

  /** What the run must do, applied to the oracle; `cancelAfter` batches are let through before a cancel. */
  const simulate = (cancelAfter: number, midRun: Change | null): Expected => {
    const files = listedFiles();
    const pending = bySeq()
      .filter(([, r]) => r.kind === 'cell' && !r.predicted)
      .map(([rel]) => rel);
    const alreadyDone = [...records.values()].filter((r) => r.kind === 'cell' && r.predicted).length;
    const changedAfterImport = bySeq()
      .filter(([rel, r]) => r.kind === 'cell' && r.predicted && differs(rel, r))
      .map(([rel]) => ({ file: rel, reason: disk.has(rel) ? /has different content from the file that was imported/ : /cannot be read any more/ }));
    // A cell still waiting for its prediction whose own file changed is read from its first stored copy (a duplicate
    // of it) that still holds the imported bytes, if there is one, and named after the changed cells.
    const readFrom = new Map<string, string>();
    for (const rel of pending) {
      const rec = records.get(rel)!;
      if (!differs(rel, rec)) continue;
      const copy = bySeq().find(([other, r]) => r.kind === 'dup' && r.dupOf === rel && disk.get(other)?.sha === rec.sha);
      if (copy === undefined) continue;
      readFrom.set(rel, copy[0]);
      changedAfterImport.push({
        file: rel,
        reason: new RegExp(`before it was classified: .* It is classified from ${escapeRegExp(copy[0])}, an identical copy`),
      });
      stats.fromCopy++;
    }
    type Item = { kind: 'stored' | 'new' | 'refix'; rel: string };
    const work: Item[] = [
      ...pending.map((rel): Item => ({ kind: 'stored', rel })),
      ...files.filter((rel) => !records.has(rel)).map((rel): Item => ({ kind: 'new', rel })),
      ...files.filter((rel) => records.get(rel)?.kind === 'failed').map((rel): Item => ({ kind: 'refix', rel })),
    ];
    // A change made once the run has listed the folder and checked the classified cells (at its first
    // 'classifying' progress, before any batch is read) is seen by the batches, not by the listing or the check.
    if (midRun !== null) apply(midRun, { fs: false, model: true });
    const batches = Math.ceil(work.length / batchSize);
    const cancelled = cancelAfter < batches;
    const processed = cancelled ? work.slice(0, cancelAfter * batchSize) : work;
    const expected: Expected = {
      cancelled,
      classified: 0,
      newFiles: work.filter((w) => w.kind === 'new').length,
      duplicates: 0,
      reimported: [],
      failures: [],
      changedAfterImport,
      done: alreadyDone + processed.length,
      total: alreadyDone + work.length,
    };
    for (const item of processed) {
      const content = disk.get(item.rel);
      if (item.kind === 'stored') {
        const rec = records.get(item.rel)!;
        const copy = readFrom.get(item.rel);
        if (disk.get(copy ?? item.rel)?.sha !== rec.sha) {
          expected.failures.push({
            file: item.rel,
            reason:
              copy === undefined
                ? /changed or disappeared after it was imported, so it is not classified or counted/
                : /changed after it was imported, and .* now too, so the cell is not classified or counted/,
          });
        } else {
          rec.predicted = true;
          expected.classified++;
        }
        continue;
      }
      if (content === undefined) {
        // Listed, then deleted before it was read.
        if (item.kind === 'refix') expected.reimported.push(item.rel);
        imageRows++;
        records.set(item.rel, { seq: seq++, sha: '', kind: 'failed', fails: /cannot be read: ENOENT/, predicted: false });
        expected.failures.push({ file: item.rel, reason: /cannot be read: ENOENT/ });
        continue;
      }
      if (item.kind === 'refix') {
        const failed = records.get(item.rel)!;
        if (content.fails !== null && content.sha === failed.sha) continue; // the same bad bytes: left alone
        expected.reimported.push(item.rel);
      }
      const { duplicate } = importFile(item.rel, content);
      const rec = records.get(item.rel)!;
      if (duplicate) expected.duplicates++;
      if (rec.kind === 'failed') expected.failures.push({ file: item.rel, reason: content.fails! });
      if (rec.kind === 'cell') {
        rec.predicted = true;
        expected.classified++;
      }
    }
    return expected;
  };

  /** An analysis that stored these files' images and died before their predictions (two transactions). */
  const interruptedImport = (): string[] => {
    const candidates = listedFiles().filter((rel) => !records.has(rel) && disk.get(rel)!.fails === null);
    const chosen = candidates.filter(() => rng() < 0.6);
    if (chosen.length === 0) return [];
    const files: ImageFile[] = chosen.map((rel) => {
      const c = disk.get(rel)!;
      return { relativePath: rel, sha256: c.sha, bytes: c.bytes.length, width: c.width!, height: c.height!, importError: null };
    });
    const result = insertImages(db, caseId, files);
    const dups: string[] = [];
    for (const rel of chosen) if (importFile(rel, disk.get(rel)!).duplicate) dups.push(rel);
    expect(result.duplicates.map((d) => d.relativePath)).toEqual(dups);
    stats.pendingMade += chosen.length - dups.length;
    log.push(`interrupted import of ${chosen.join(', ')}`);
    return chosen.filter((rel) => !dups.includes(rel));
  };

  // ---- checks ----
  const check = (where: string, outcome: PipelineOutcome, expected: Expected, last: PipelineProgress | undefined): void => {
    const ctx = `seed ${seed}, batch ${batchSize}, ${where}\n${log.join('\n')}`;
    expect(outcome.cancelled, ctx).toBe(expected.cancelled);
    expect(outcome.classified, ctx).toBe(expected.classified);
    expect(outcome.newFiles, ctx).toBe(expected.newFiles);
    expect(outcome.duplicates, ctx).toBe(expected.duplicates);
    expect(outcome.reimported, ctx).toEqual(expected.reimported);
    expect(
      outcome.failures.map((f) => f.file),
      ctx,
    ).toEqual(expected.failures.map((f) => f.file));
    outcome.failures.forEach((f, i) => expect(f.reason, ctx).toMatch(expected.failures[i]!.reason));
    expect(
      outcome.changedAfterImport.map((f) => f.file),
      ctx,
    ).toEqual(expected.changedAfterImport.map((f) => f.file));
    outcome.changedAfterImport.forEach((f, i) => {
      expect(f.reason, ctx).toMatch(expected.changedAfterImport[i]!.reason);
      expect(f.reason, ctx).toContain('The case keeps the cell as it was imported');
    });
    expect(last?.phase, ctx).toBe(expected.cancelled ? 'cancelled' : 'done');
    expect(last?.done, ctx).toBe(expected.done);
    expect(last?.total, ctx).toBe(expected.total);
    expect(last?.failures, ctx).toEqual([...outcome.changedAfterImport, ...outcome.failures]);
    const row = getCase(db, caseId);
    expect(row.status, ctx).toBe(expected.cancelled ? 'cancelled' : 'in_review');
    // A stopped run is recorded with the oracle's counts; a complete one leaves no partial result.
    const partial = partialAnalysisOf(db, row);
    if (expected.cancelled) expect(partial?.cancellation, ctx).toMatchObject({ filesAnalysed: expected.done, filesTotal: expected.total });
    else expect(partial, ctx).toBeNull();

    // The stored records: one current record per path, as the oracle has it.
    const images = listImages(db, caseId);
    const idToPath = new Map(images.map((i) => [i.id, i.relativePath]));
    expect(images.map((i) => i.relativePath).sort(byPath), ctx).toEqual([...records.keys()].sort(byPath));
    expect(
      images.map((i) => i.relativePath),
      ctx,
    ).toEqual(bySeq().map(([rel]) => rel));
    for (const image of images) {
      const rec = records.get(image.relativePath)!;
      const at = `${ctx}\n@ ${image.relativePath}`;
      expect(image.sha256, at).toBe(rec.sha);
      expect(image.importError === null, at).toBe(rec.kind !== 'failed');
      if (rec.kind === 'failed') expect(image.importError, at).toMatch(rec.fails!);
      expect(image.duplicateOf === null ? null : idToPath.get(image.duplicateOf), at).toBe(rec.kind === 'dup' ? rec.dupOf : null);
    }
    const allRows = (db.raw.prepare('SELECT count(*) AS n FROM images WHERE case_id = ?').get(caseId) as { n: number }).n;
    expect(allRows, ctx).toBe(imageRows);

    // Predictions: each counted cell exactly once, from its imported bytes, never rewritten.
    const predictions = db.raw
      .prepare(
        `SELECT p.id, p.image_id, p.model_id, p.predicted_class, p.probabilities, i.relative_path, i.sha256
         FROM predictions AS p JOIN images AS i ON i.id = p.image_id WHERE p.case_id = ? ORDER BY p.id`,
      )
      .all(caseId) as {
      id: number;
      image_id: number;
      model_id: number;
      predicted_class: string;
      probabilities: string;
      relative_path: string;
      sha256: string;
    }[];
    const predictedCells = [...records.entries()].filter(([, r]) => r.kind === 'cell' && r.predicted).map(([rel]) => rel);
    expect(predictions.map((p) => p.relative_path).sort(byPath), ctx).toEqual(predictedCells.sort(byPath));
    expect(new Set(predictions.map((p) => p.image_id)).size, ctx).toBe(predictions.length);
    for (const p of predictions) {
      const at = `${ctx}\n@ prediction of ${p.relative_path}`;
      expect(p.model_id, at).toBe(outcome.modelRowId);
      expect(idToPath.get(p.image_id), at).toBe(p.relative_path);
      expect(p.sha256, at).toBe(records.get(p.relative_path)!.sha);
      const ref = reference.get(p.sha256)!;
      expect(p.predicted_class, at).toBe(ref.predicted);
      const probabilities = JSON.parse(p.probabilities) as number[];
      probabilities.forEach((v, c) => expect(Math.abs(v - ref.probabilities[c]!), at).toBeLessThan(1e-5));
      const before = predictionIds.get(p.image_id);
      if (before !== undefined) expect(p.id, at).toBe(before);
      predictionIds.set(p.image_id, p.id);
    }
    expect(predictionIds.size, ctx).toBe(predictions.length);

    const counted = Object.values(effectiveCountsByClass(db, caseId)).reduce((s: number, n) => s + (n ?? 0), 0);
    expect(counted, ctx).toBe(predictedCells.length);
    expect(
      listImportFailures(db, caseId).map((f) => f.file),
      ctx,
    ).toEqual(
      bySeq()
        .filter(([, r]) => r.kind !== 'cell')
        .map(([rel]) => rel),
    );
  };

  /** Sometimes a change to the folder while the analysis runs: a file it is about to read, or a classified one. */
  const planMidRun = (): Change | null => {
    if (rng() >= 0.3) return null;
    // Links are left out here: whether a file links outside the folder is decided when the folder is listed
    // (see the separate test of a file swapped for such a link during a run).
    const targets = [...disk.entries()]
      .filter(([rel, c]) => listed(rel) && c.link === undefined)
      .map(([rel]) => rel)
      .sort(byPath);
    if (targets.length === 0) return null;
    const rel = pick(targets);
    const r = int(3);
    let content = r === 0 ? null : r === 1 ? pick(goods) : someBroken();
    if (content?.link !== undefined) content = brokens[0]!;
    return { rel, content };
  };

  const run = async (where: string, cancelAfter: number): Promise<PipelineOutcome> => {
    const midRun = planMidRun();
    log.push(`run ${where} (cancel after ${cancelAfter} batches)`);
    if (midRun !== null) log.push(`  during the run: ${midRun.content === null ? 'delete' : 'write'} ${midRun.rel} <- ${midRun.content?.name ?? ''}`);
    const expected = simulate(cancelAfter, midRun);
    let polls = 0;
    let last: PipelineProgress | undefined;
    let previous: PipelineProgress | undefined;
    let changed = false;
    const outcome = await analyseCaseFolder(
      sqliteStore(db),
      model,
      caseId,
      {
        onProgress: (p) => {
          if (p.phase === 'classifying' && !changed && midRun !== null) {
            changed = true;
            apply(midRun, { fs: true, model: false });
          }
          // failures only ever grow during a run, and done never goes back.
          if (previous !== undefined) {
            expect(p.failures.slice(0, previous.failures.length)).toEqual(previous.failures);
            expect(p.done).toBeGreaterThanOrEqual(previous.done);
          }
          previous = p;
          last = p;
        },
        isCancelled: () => polls++ >= cancelAfter,
      },
      { batchSize },
    );
    if (midRun !== null) expect(changed).toBe(true);
    stats.runs++;
    if (outcome.cancelled) stats.cancelled++;
    check(where, outcome, expected, last);
    return outcome;
  };

  try {
    // The folder as the technician first copies it: good crops, some copies of them, some bad files.
    const initialGood = goods.filter(() => rng() < 0.5);
    for (const g of initialGood) write(freshName(), g);
    for (let i = int(3); i > 0; i--) ops.addDuplicate!();
    for (let i = 1 + int(4); i > 0; i--) ops.addBroken!();
    if (rng() < 0.5) write(freshName(), linkOutside());

    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) for (let i = 1 + int(4); i > 0; i--) ops[randomOp()]!();
      if (rng() < 0.3) {
        const pending = interruptedImport();
        // What the technician may do to the folder before the resumed analysis: change or delete a stored cell
        // that has no prediction yet, or add another copy of it.
        if (pending.length > 0 && rng() < 0.6) {
          const rel = pick(pending);
          const r = int(4);
          if (r === 0) write(rel, pick(goods));
          else if (r === 1) write(rel, truncatedGood());
          else if (r === 2) remove(rel);
          else write(freshName(), disk.get(rel)!);
        }
      }
      const cancelAfter = rng() < 0.45 ? int(4) : Number.POSITIVE_INFINITY;
      const outcome = await run(`round ${round}`, cancelAfter);
      if (outcome.cancelled && rng() < 0.7) {
        if (rng() < 0.4) ops[randomOp()]!();
        await run(`round ${round} resumed`, rng() < 0.2 ? int(3) : Number.POSITIVE_INFINITY);
      }
    }
    // Finally everything restored where it can be, and one full run: nothing is left pending or changed.
    for (const rel of recordsWhere((r, rec) => rec.kind === 'cell' && differs(r, rec)))
      write(
        rel,
        goods.find((g) => g.sha === records.get(rel)!.sha)!,
      );
    const final = await run('final', Number.POSITIVE_INFINITY);
    expect(final.changedAfterImport).toEqual([]);
    expect([...records.values()].filter((r) => r.kind === 'cell' && !r.predicted)).toEqual([]);
    return stats;
  } finally {
    closeDatabase(db);
    temp.remove();
  }
}

const totals = { runs: 0, cancelled: 0, pendingMade: 0, fromCopy: 0 };

describe('analysis re-runs over a changing case folder (seeded, against an oracle)', () => {
  it.each(SEEDS)('seed %i: every cell classified and counted once, from its imported bytes; failures named', async (seed) => {
    const stats = await scenario(seed);
    expect(stats.runs).toBeGreaterThan(ROUNDS);
    totals.runs += stats.runs;
    totals.cancelled += stats.cancelled;
    totals.pendingMade += stats.pendingMade;
    totals.fromCopy += stats.fromCopy;
  });

  it('the seeds together reach cancelled runs, interrupted imports and cells read from a copy', () => {
    expect(totals.runs).toBeGreaterThan(SEEDS.length * ROUNDS);
    expect(totals.cancelled).toBeGreaterThan(SEEDS.length);
    expect(totals.pendingMade).toBeGreaterThan(0);
    expect(totals.fromCopy).toBeGreaterThan(0);
  });
});

describe('a listed file swapped for a link outside the case folder before the analysis reads it', () => {
  // A file swapped for a link out of the folder after the folder was listed is refused when it is read: the cell
  // would otherwise be counted from an image that review and the report cannot show.
  it('refuses a file swapped for a link outside the folder during the run instead of importing the image it points to', async () => {
    const temp = tempDir('reruns-link');
    const db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    try {
      const folder = join(temp.path, 'case');
      mkdirSync(folder);
      mkdirSync(join(temp.path, 'outside'));
      writeFileSync(join(folder, 'a.jpg'), goods[1]!.bytes);
      writeFileSync(join(folder, 'b.jpg'), goods[2]!.bytes);
      writeFileSync(join(temp.path, 'outside', 'cell.jpg'), goods[3]!.bytes);
      const patient = upsertPatient(db, { labId: 'P-link', actor: 'test' });
      const caseId = createCase(db, { patientId: patient.id, accession: 'BM-link', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
      let swapped = false;
      const outcome = await analyseCaseFolder(
        sqliteStore(db),
        model,
        caseId,
        {
          onProgress: (p) => {
            // Listed, not yet read: the first 'classifying' progress comes before any batch is decoded.
            if (p.phase !== 'classifying' || swapped) return;
            swapped = true;
            rmSync(join(folder, 'b.jpg'));
            symlinkSync(join(temp.path, 'outside', 'cell.jpg'), join(folder, 'b.jpg'));
          },
        },
        { batchSize: 2 },
      );
      expect(swapped).toBe(true);
      expect(outcome.failures.map((f) => f.file)).toEqual(['b.jpg']);
      expect(outcome.failures[0]!.reason).toMatch(/outside the case folder/);
      expect(outcome.classified).toBe(1);
      expect(listImages(db, caseId).find((i) => i.relativePath === 'b.jpg')!.importError).not.toBeNull();
    } finally {
      closeDatabase(db);
      temp.remove();
    }
  });
});
