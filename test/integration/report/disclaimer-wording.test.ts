// The disclaimer is printed for any model not cleared for diagnostic use (research-only unless the model's own
// manifest says researchOnly: false), so its words must hold for a lab's own model as well as for the bundled
// reference model: it names the model that did the counting instead of calling it the reference model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateReportFonts } from '../../../src/main/report/fonts';
import { disclaimerText, renderCaseReportPdf } from '../../../src/main/report/render-pdf';
import type { CaseReportData } from '../../../src/main/report/report-data';
import { flat, pdfPages } from './pdf-tools';
import { sampleReportData } from './sample-report-data';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'marrowcount-disclaimer-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function firstPage(data: CaseReportData, name: string): Promise<string> {
  const pdf = await renderCaseReportPdf(data, { fonts: locateReportFonts(), thumbnails: new Map() });
  const path = join(dir, `${name}.pdf`);
  writeFileSync(path, pdf);
  return flat(pdfPages(path)[0]!);
}

describe('the not-for-diagnostic-use disclaimer', () => {
  it('names the bundled reference model as a research model not cleared for diagnostic use', async () => {
    const data = sampleReportData();
    const text = await firstPage(data, 'reference');
    expect(text).toContain('NOT FOR DIAGNOSTIC USE.');
    expect(text).toContain(`classified by a research model (${data.model!.name} ${data.model!.version}) that is not cleared for diagnostic use`);
  });

  it('names a lab model whose manifest does not clear it, without calling it the bundled reference model', async () => {
    const data = sampleReportData();
    data.model = { ...data.model!, id: 'lab-model', name: 'City Lab marrow model', version: '2.1.0', researchOnly: true };
    const text = await firstPage(data, 'uncleared-lab-model');
    expect(text).toContain('NOT FOR DIAGNOSTIC USE.');
    expect(text).toContain('classified by a research model (City Lab marrow model 2.1.0) that is not cleared for diagnostic use');
    expect(text).not.toMatch(/bundled|public-subset|reference model/i);
  });

  it('names the model by name and version and says it is not cleared, whatever the model', () => {
    expect(disclaimerText({ name: 'X', version: '9' })).toBe(
      'NOT FOR DIAGNOSTIC USE. The cells were classified by a research model (X 9) that is not cleared for diagnostic use; ' +
        'it is for research and evaluation only. Do not use these figures for patient care.',
    );
  });
});
