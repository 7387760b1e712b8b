// The training recipe must keep producing packages the app can load: a few CPU steps on the in-repo demo crops
// (no ../shared needed), then the app's own loader (SHA-256, manifest, graph shape) and onnxruntime classify a crop;
// and the ensemble-distillation parts of train.py that the smoke run does not reach (training/test_train_parts.py).
// CI installs Debian's python3-torch for this; elsewhere, without torch, the test is skipped with the reason printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelPackage } from '../../../src/main/inference/model-package';
import { preprocessInto, tensorLength } from '../../../src/main/inference/preprocess';
import * as ort from 'onnxruntime-node';

const REPO = join(import.meta.dirname, '../../..');
const PYTHON = '/usr/bin/python3';
const DEMO = join(REPO, 'resources/demo/case-001');

const torchCheck = spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL, numpy'], { encoding: 'utf8' });
const torchMissing = torchCheck.status !== 0;
if (torchMissing) {
  const reason = `${PYTHON} cannot import torch/torchvision/PIL/numpy (apt-get install python3-torch python3-torchvision python3-pil)`;
  if (process.env['CI']) throw new Error(`training smoke test cannot run on CI: ${reason}`);
  console.log(`skipping the training smoke test: ${reason}`);
}

describe.skipIf(torchMissing)('training recipe smoke run', () => {
  const out = mkdtempSync(join(tmpdir(), 'marrowcount-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('trains a few steps on the demo crops and writes a package the app loads and runs', async () => {
    const modelDir = join(out, 'model');
    const run = spawnSync(PYTHON, [join(REPO, 'training/train.py'), '--smoke', '--out', modelDir], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '2' },
    });
    expect(run.status, `train.py --smoke failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(readdirSync(modelDir).sort()).toEqual(expect.arrayContaining(['model.json', 'model.onnx']));

    const model = await loadModelPackage(modelDir, { intraOpThreads: 1 });
    const crop = readdirSync(DEMO).find((f) => f.endsWith('.jpg'));
    expect(crop).toBeDefined();
    const input = new Float32Array(tensorLength(model.manifest.input));
    await preprocessInto(join(DEMO, crop!), model.manifest.input, input, 0, crop!);
    const { width, height } = model.manifest.input;
    const feeds = { [model.manifest.input.name]: new ort.Tensor('float32', input, [1, 3, height, width]) };
    const result = await model.session.run(feeds);
    const logits = result[model.manifest.output.name];
    expect(logits?.dims).toEqual([1, model.manifest.classes.length]);
    expect(Array.from(logits!.data as Float32Array).every(Number.isFinite)).toBe(true);
    await model.session.release();
  });

  it('mixes batches, averages teachers and round-trips teacher files as the ensemble run relies on', () => {
    const run = spawnSync(PYTHON, [join(REPO, 'training/test_train_parts.py')], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, OMP_NUM_THREADS: '2' },
    });
    expect(run.status, `training/test_train_parts.py failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('train parts: ok');
  });
});
