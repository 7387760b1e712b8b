// The renderer on its own, over hand-built report data (no database): what it does with missing images, an unset
// lab name, a model that is not the reference model, and how small the embedded thumbnails are.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateReportFonts } from '../../../src/main/report/fonts';
import { renderCaseReportPdf } from '../../../src/main/report/render-pdf';
import type { CaseReportData } from '../../../src/main/report/report-data';
import { THUMBNAIL_PIXELS, makeThumbnail, makeThumbnails } from '../../../src/main/report/thumbnails';
import { CROPS_DIR, sampleReportData } from './sample-report-data';
import { flat, pdfInfo, pdfPages, renderPngs } from './pdf-tools';
import { computeDifferential } from '../../../src/shared/differential';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'marrowcount-render-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function render(data: CaseReportData, name: string): Promise<{ path: string; text: string }> {
  const thumbnails = await makeThumbnails([...data.gallery.blasts, ...data.gallery.flagged].map((c) => c.imagePath));
  const pdf = await renderCaseReportPdf(data, { fonts: locateReportFonts(), thumbnails });
  const path = join(dir, `${name}.pdf`);
  writeFileSync(path, pdf);
  return { path, text: pdfPages(path).join('\n') };
}

describe('report renderer', () => {
  it('draws a placeholder for a crop that is missing on disk and still produces the report', async () => {
    const data = sampleReportData();
    data.gallery.blasts = data.gallery.blasts.slice(0, 2);
    data.gallery.blasts[0] = { ...data.gallery.blasts[0]!, imagePath: resolve(dir, 'gone.jpg') };
    const { path, text } = await render(data, 'missing-image');
    expect(Number(pdfInfo(path)['Pages'])).toBeGreaterThan(0);
    expect(flat(text)).toContain('image file missing');
  });

  it('is titled by what it is when the lab name is not set, with no stray separator in the footer', async () => {
    const { text } = await render(sampleReportData({ labName: '' }), 'no-lab');
    expect(flat(text)).not.toContain('Laboratory name not set');
    expect(text.trimStart().startsWith('Bone marrow differential count')).toBe(true);
    const footer = text.split('\n').find((line) => line.includes('Page 1 of'))!;
    expect(footer.trim()).toMatch(/^Patient \S+ · Accession \S+\s+Page 1 of \d+$/);
    expect(footer).not.toMatch(/·\s*(Page|$)/);
  });

  it('prints the flag reasons of a gallery cell in full, on two lines if need be', async () => {
    const data = sampleReportData();
    data.gallery.flagged = data.gallery.flagged.slice(0, 1).map((cell) => ({
      ...cell,
      flagReasons: ['low confidence 0.33 < 0.63', 'margin 0.10 < 0.38', 'unlike any cell type this model has learned — check for a type it cannot classify'],
    }));
    const { text } = await render(data, 'gallery-caption');
    expect(flat(text)).toMatch(/low confidence, narrow margin, unlike learned types/);
  });

  it('omits the disclaimer for a model that is not the research-only reference model', async () => {
    const data = sampleReportData();
    data.model = { ...data.model!, id: 'lab-model', researchOnly: false };
    const { text } = await render(data, 'lab-model');
    expect(text).not.toMatch(/diagnostic use/i);
    expect(flat(text)).toContain('Intended use as validated by the laboratory');
  });

  it('lists the override reason and every amendment of a signed case', async () => {
    const data = sampleReportData({
      draft: false,
      signedAt: '2026-11-28T09:30:00.000Z',
      signOff: { signedBy: 'Dr B', role: 'Consultant', signedAt: '2026-11-28T09:30:00.000Z', overrideReason: 'smear exhausted' },
      signOffHistory: [
        { signedBy: 'Dr A', role: 'Registrar', signedAt: '2026-11-27T12:00:00.000Z', overrideReason: null },
        { signedBy: 'Dr B', role: 'Consultant', signedAt: '2026-11-28T09:30:00.000Z', overrideReason: 'smear exhausted' },
      ],
      amendments: [{ by: 'Dr B', reason: 'wrong specimen type', at: '2026-11-28T08:00:00.000Z' }],
    });
    const text = flat((await render(data, 'amended')).text);
    expect(text).toContain('Signed by Dr B, Consultant — 2026-11-28 09:30 UTC');
    expect(text).toContain('Override reason signed with flagged cells unreviewed: smear exhausted');
    expect(text).toContain('Amended Dr B — 2026-11-28 08:00 UTC: wrong specimen type');
    expect(text).toContain('Earlier sign-off Dr A, Registrar — 2026-11-27 12:00 UTC (superseded by amendment)');
    expect(text).not.toContain('DRAFT');
  });
});

describe('classes the model cannot output', () => {
  it('marks them "not assessable by model" with no percentage instead of 0%', async () => {
    const differential = computeDifferential({ BLA: 5, NGS: 50, LYT: 20, EBO: 25 }, { modelClasses: ['BLA', 'NGS', 'LYT', 'EBO', 'ART'] });
    const { path, text } = await render(sampleReportData({ differential }), 'subset-model');
    renderPngs(path, 'subset-model');
    expect(text).toMatch(/^\s*HAC\s+hairy cell\s+0\s+—\s+—\s+not assessable by model/m);
    expect(text).toMatch(/^\s*BLA\s+blast\s+5\s+5\.0%/m);
    for (const warning of differential.warnings) expect(flat(text)).toContain(warning);
  });
});

describe('gallery thumbnails', () => {
  it(`shrinks a 250 px crop to at most ${THUMBNAIL_PIXELS} px JPEG`, async () => {
    const thumbnail = await makeThumbnail(join(CROPS_DIR, 'BLA_00001.jpg'));
    expect(thumbnail.ok).toBe(true);
    if (!thumbnail.ok) return;
    const meta = await sharp(thumbnail.jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(THUMBNAIL_PIXELS);
  });

  it('turns a PNG crop into a JPEG thumbnail', async () => {
    const thumbnail = await makeThumbnail(join(CROPS_DIR, 'slide-2/EOS_00002.png'));
    expect(thumbnail.ok && (await sharp(thumbnail.jpeg).metadata()).format).toBe('jpeg');
  });

  it('reports an unreadable file instead of throwing', async () => {
    const broken = resolve(import.meta.dirname, '../../fixtures/crops/broken/not-an-image.jpg');
    expect(await makeThumbnail(broken)).toEqual({ ok: false, reason: 'image unreadable' });
    expect(await makeThumbnail(join(dir, 'nope.jpg'))).toEqual({ ok: false, reason: 'image file missing' });
  });
});
