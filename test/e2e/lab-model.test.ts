// The lab model as a technician uses it, in the built renderer in Debian's Chromium, against the real service,
// database and bundled model over the loopback HTTP host. Set-up through the service (the lab's earlier work: four
// cases of demo crops reviewed to their true labels and signed, and one new case analysed); then, on screen: train,
// read the comparison with the base model, approve with name, role and reason, re-analyse the new case with the lab
// model, and read the case's PDF report naming the lab model (pdftotext). Screenshots in test-results/screenshots/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../src/shared/cell-classes';
import { loginAs, releaseCase, REPO, screenshot, startHarness, type Harness } from './harness';
import { copyCropDistinctly } from '../helpers/distinct-crops';

const DEMO = join(REPO, 'resources/demo/case-001');
const byTestId = (page: Page, id: string) => page.getByTestId(id);

describe('lab model in the browser', () => {
  let h: Harness;
  let newCaseId: number;

  const waitForAnalysis = async (caseId: number) => {
    for (;;) {
      const p = await (await h.api('tech')).getAnalysisProgress(caseId);
      if (p && p.phase !== 'importing' && p.phase !== 'classifying') return p;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    h = await startHarness('lab-model');
    if (!h.model.bundled) throw new Error('The lab-model e2e test needs the bundled model (its embeddings).');
    const truth = new Map(
      readFileSync(join(DEMO, 'labels.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',') as [string, CellClassCode]),
    );
    const files = [...truth.keys()].sort();
    const caseOf = async (name: string, subset: string[]) => {
      const folder = join(h.root, 'cases', name);
      mkdirSync(folder, { recursive: true });
      // Each case its own copies (same pixels, other bytes): NEW-1 reuses LAB-1's images for another patient (issue 21).
      for (const f of subset) copyCropDistinctly(join(DEMO, f), join(folder, f), name);
      const created = await (await h.api('tech')).createCase({ patient: { labId: `MRN-${name}` }, accession: name, specimen: 'bone_marrow_aspirate', folder });
      await (await h.api('tech')).startAnalysis(created.id);
      expect((await waitForAnalysis(created.id)).phase).toBe('done');
      return created.id;
    };
    for (let i = 0; i < 4; i++) {
      const id = await caseOf(`LAB-${i + 1}`, files.slice(i * 75, (i + 1) * 75));
      const { cells } = await (await h.api('tech')).listCells({ caseId: id, scope: 'all', limit: 1000 });
      for (const c of cells) await (await h.api('tech')).reviewCell({ caseId: id, imageId: c.imageId, label: truth.get(c.file)! });
      await releaseCase(h, id);
    }
    newCaseId = await caseOf('NEW-1', files.slice(0, 50));
    await (await h.api('admin')).saveSettings({ labName: 'E2E Lab' });
  }, 300_000);

  afterAll(async () => h?.close());

  it('trains, compares, approves, re-analyses a case and the report names the lab model', async () => {
    const { page, pageErrors } = await h.newPage();
    // The technician trains; the pathologist approves (the role table allows each only their step).
    await loginAs(page, h, 'tech', '/#/cases');
    await byTestId(page, 'nav-lab-model').click();
    await expect.poll(() => byTestId(page, 'lab-models-empty').isVisible()).toBe(true);
    await byTestId(page, 'lab-train-minimum').fill('10');
    // Up front: what there is to learn from (4 signed cases of 75 reviewed cells), per class, and that it is enough.
    await expect.poll(() => byTestId(page, 'lab-material-summary').innerText()).toContain('4 signed cases with reviewed cells');
    expect(await byTestId(page, 'lab-material-summary').innerText()).toContain('300 reviewed cells');
    await byTestId(page, 'lab-material-ready').waitFor();
    const material = await (await h.api('tech')).getLabTrainingMaterial({ minimumPerClass: 10 });
    expect(material.classes.reduce((sum, c) => sum + c.cells, 0)).toBe(300);
    for (const c of material.classes) expect(await byTestId(page, `lab-material-${c.code}`).innerText()).toContain(String(c.cells));
    await screenshot(page, 'lab-01-before-training');
    await byTestId(page, 'lab-train').click();
    await expect.poll(() => byTestId(page, 'lab-train-status').innerText(), { timeout: 60_000 }).toMatch(/^Trained on 300 reviewed cells of 4 cases/);
    expect(await byTestId(page, 'lab-train-bar').getAttribute('aria-valuenow')).toBe('100');

    // The comparison: the figures shown are the stored validation's.
    await expect.poll(() => byTestId(page, 'lab-model-status').innerText()).toBe('pending');
    const [stored] = await (await h.api('tech')).listLabModels();
    const detail = await (await h.api('tech')).getLabModel(stored!.id);
    const summary = await byTestId(page, 'lab-model-summary').innerText();
    expect(summary).toContain(`Macro-F1: lab ${detail.validation.lab.macroF1.toFixed(3)}, base ${detail.validation.base.macroF1.toFixed(3)}`);
    for (const m of detail.validation.lab.perClass) {
      const row = await byTestId(page, `lab-comparison-${m.code}`).innerText();
      expect(row).toContain(m.f1.toFixed(2));
    }
    // A lab model that scores below the base model on the held-out cases says so where it is approved.
    const worse = detail.validation.lab.macroF1 < detail.validation.base.macroF1;
    expect(await byTestId(page, 'lab-approve-worse').isVisible()).toBe(worse);
    await screenshot(page, 'lab-02-comparison');

    expect(await byTestId(page, 'lab-approve-name').innerText()).toContain('Only a pathologist approves a lab model; Alex Technician is not one.');
    await loginAs(page, h, 'path');
    await byTestId(page, 'nav-lab-model').click();
    await byTestId(page, `lab-model-row-${stored!.version}`).click();
    await expect.poll(() => byTestId(page, 'lab-approve-name').innerText()).toBe('Approving as Dr Sam Haematologist (Pathologist).');
    await byTestId(page, 'lab-approve-reason').fill('Validated on held-out cases of this lab');
    await byTestId(page, 'lab-approve').click();
    await expect.poll(() => byTestId(page, 'lab-model-status').innerText()).toBe('approved');
    expect(await byTestId(page, 'lab-model-approved-by').innerText()).toMatch(
      /^Dr Sam Haematologist \(Pathologist\), .*: Validated on held-out cases of this lab$/,
    );
    await screenshot(page, 'lab-03-approved');

    await byTestId(page, 'lab-use-case').selectOption(String(newCaseId));
    await byTestId(page, 'lab-use-run').click();
    // The re-analysis runs in a worker thread (started from the TypeScript sources here, through tsx): seconds on a
    // loaded machine, as the training above.
    await expect.poll(() => page.url(), { timeout: 30_000 }).toContain(`#/case/${newCaseId}/differential`);
    await expect.poll(() => byTestId(page, 'case-header-model').innerText()).toMatch(/^Model: Lab model lab-1 .* lab-1$/);
    await screenshot(page, 'lab-04-case-with-lab-model');

    await byTestId(page, 'case-tab-signoff').click();
    await byTestId(page, 'report-save-pdf').click();
    const saved = (await byTestId(page, 'report-saved-path').innerText()).trim();
    const text = execFileSync('pdftotext', ['-layout', saved, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).toContain('Lab model lab-1');
    await screenshot(page, 'lab-05-report-saved');

    // Export the package, then try to import a copy changed on the way: refused, naming the field, nothing stored.
    await byTestId(page, 'nav-lab-model').click();
    await byTestId(page, 'lab-export').click();
    const exported = (await byTestId(page, 'lab-saved-path').innerText()).trim();
    const pkg = JSON.parse(readFileSync(exported, 'utf8')) as { labModel: { trainedBy: string } };
    pkg.labModel.trainedBy = 'Someone Else';
    const tampered = join(h.root, 'tampered.labmodel.json');
    writeFileSync(tampered, JSON.stringify(pkg));
    await byTestId(page, 'lab-import-path').fill(tampered);
    await byTestId(page, 'lab-import').click();
    await expect.poll(() => byTestId(page, 'lab-import-error').innerText()).toMatch(/field "sha256" does not match the content/);
    expect(await (await h.api('tech')).listLabModels()).toHaveLength(1);
    await screenshot(page, 'lab-06-import-refused');
    expect(pageErrors).toEqual([]);
  });
});
