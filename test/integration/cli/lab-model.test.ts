// `marrowcount lab-model ...` in-process over the real service, model and SQLite file: the commands a lab scripts
// (train, list, evaluate, approve) with their exit codes and messages.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import type { LabModelDetail } from '../../../src/shared/api';
import { runCli } from '../../../src/main/cli';
import { REPO, startService, TEST_PERSON, waitForAnalysis, type ServiceFixture } from '../service/helpers';

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const DEMO = join(REPO, 'resources/demo/case-001');
const TRUTH = new Map(
  readFileSync(join(DEMO, 'labels.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',') as [string, CellClassCode]),
);
const FILES = [...TRUTH.keys()].sort();

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = { MARROWCOUNT_PASSWORD: TEST_PERSON.password },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await runCli(args, { stdout, stderr, env, onInterrupt: () => () => undefined });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('marrowcount lab-model', () => {
  let fx: ServiceFixture;
  let db: string;

  beforeAll(async () => {
    fx = await startService('lab-model-cli', { modelDir: MODEL_DIR });
    db = join(fx.root, 'data', 'marrowcount.sqlite');
    for (let i = 0; i < 3; i++) {
      const folder = join(fx.root, 'cases', `C${i}`);
      mkdirSync(folder, { recursive: true });
      for (const f of FILES.slice(i * 100, (i + 1) * 100)) copyFileSync(join(DEMO, f), join(folder, f));
      const created = await fx.service.createCase({ patient: { labId: `P${i}` }, accession: `C${i}`, specimen: 'bone_marrow_aspirate', folder });
      await fx.service.startAnalysis(created.id);
      expect((await waitForAnalysis(fx.service, created.id)).phase).toBe('done');
      const { cells } = await fx.service.listCells({ caseId: created.id, scope: 'all', limit: 1000 });
      for (const c of cells) await fx.service.reviewCell({ caseId: created.id, imageId: c.imageId, label: TRUTH.get(c.file)! });
      await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: created.id });
    }
    // The CLI opens the file itself, as a second process would.
    await fx.service.close();
  }, 300_000);

  afterAll(async () => fx?.dispose());

  // The commands act as the test person (every role), whose password comes from MARROWCOUNT_PASSWORD.
  const common = () => ['--db', db, '--model', MODEL_DIR, '--user', TEST_PERSON.login];

  it('refuses to train with too few cells per class, saying so, with exit code 3', async () => {
    const run = await cli(['lab-model', 'train', ...common(), '--min-per-class', '1000']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Too few reviewed cells: a class needs at least 1000/);
  });

  it('trains, lists, approves and evaluates', async () => {
    const train = await cli(['lab-model', 'train', ...common(), '--min-per-class', '10']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toContain('Training a lab model on 300 reviewed cells of 3 signed cases');
    expect(train.stdout).toMatch(/Lab model lab-1 \(id 1\) trained in [\d.]+ s; pending approval/);
    expect(train.stdout).toMatch(/Macro-F1: lab 0\.\d{3}, base 0\.\d{3}/);

    const list = await cli(['lab-model', 'list', ...common()]);
    expect(list.stdout).toMatch(/1 {2}lab-1 +pending/);

    const usage = await cli(['lab-model', 'approve', '1', ...common()]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('lab-model approve needs --reason');
    // Who approves is the logged-in person; a name on the command line is not an option any more.
    const named = await cli(['lab-model', 'approve', '1', ...common(), '--by', 'Dr Head', '--reason', 'validated']);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('Unknown option "--by"');
    const noUser = await cli(['lab-model', 'approve', '1', '--db', db, '--model', MODEL_DIR, '--reason', 'validated']);
    expect(noUser.code).toBe(4);
    expect(noUser.stderr).toContain('needs --user <login>');
    const wrongPassword = await cli(['lab-model', 'approve', '1', ...common(), '--reason', 'validated'], { MARROWCOUNT_PASSWORD: 'not-the-password' });
    expect(wrongPassword.code).toBe(4);
    expect(wrongPassword.stderr).toContain(`Login as ${TEST_PERSON.login} refused: Wrong login name or password.`);

    const approve = await cli(['lab-model', 'approve', '1', ...common(), '--reason', 'validated']);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain(`Lab model lab-1 approved by ${TEST_PERSON.displayName} (Pathologist)`);

    const evaluate = await cli(['lab-model', 'evaluate', '1', ...common(), '--json']);
    const detail = JSON.parse(evaluate.stdout) as LabModelDetail;
    expect(detail.status).toBe('approved');
    expect(detail.trainedBy).toBe(TEST_PERSON.displayName);
    expect(detail.validation.folds.map((f) => f.fold).sort()).toEqual(['calibration', 'test', 'train']);
  }, 120_000);

  it('exports a package that another PC imports pending; refuses a damaged package, naming the field', async () => {
    const file = join(fx.root, 'lab-1.labmodel.json');
    const exported = await cli(['lab-model', 'export', '1', ...common(), '--out', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`Lab model package written to ${file}`);

    // Another PC: its own database, the same base model installed.
    const other = ['--db', join(fx.root, 'other-pc', 'marrowcount.sqlite'), '--model', MODEL_DIR];
    // A PC without accounts yet: the import runs without a login, as the demo does, under the system's name.
    const imported = await cli(['lab-model', 'import', file, ...other]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Lab model lab-1 (id 1) imported by MarrowCount (no account); pending approval on this PC.');
    expect((await cli(['lab-model', 'list', ...other])).stdout).toMatch(/1 {2}lab-1 +pending/);

    const damaged = join(fx.root, 'damaged.labmodel.json');
    writeFileSync(damaged, readFileSync(file, 'utf8').replace(`"trainedBy": "${TEST_PERSON.displayName}"`, '"trainedBy": "Someone else"'));
    const refused = await cli(['lab-model', 'import', damaged, ...other]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('field "sha256" does not match the content');

    const usage = await cli(['lab-model', 'import', ...other]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('lab-model import needs the package file');
  }, 120_000);
});
