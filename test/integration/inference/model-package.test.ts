import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelPackageError } from '../../../src/main/inference/errors';
import { loadModelPackage, readModelManifest } from '../../../src/main/inference/model-package';
import { REPO, TINY_MODEL, WRONG_SHAPE_MODEL, tempDir } from './helpers';

const temps: { remove: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.remove()));

function copyOfTiny(edit?: (json: Record<string, unknown>) => void): string {
  const t = tempDir('model');
  temps.push(t);
  const dir = join(t.path, 'tiny');
  cpSync(TINY_MODEL, dir, { recursive: true });
  if (edit) {
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(json);
    writeFileSync(file, JSON.stringify(json));
  }
  return dir;
}

async function refusal(dir: string): Promise<ModelPackageError> {
  try {
    const model = await loadModelPackage(dir);
    await model.session.release();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelPackageError);
    return error as ModelPackageError;
  }
  throw new Error(`${dir} was accepted`);
}

describe('model package', () => {
  it('loads the tiny package and describes it from model.json', async () => {
    const model = await loadModelPackage(TINY_MODEL, { intraOpThreads: 1 });
    try {
      expect(model.info).toEqual({
        id: 'tiny-test',
        version: '0.0.1',
        name: 'Tiny test CNN (random weights)',
        sha256: 'e98a240abc52eabd60b98edd07e03f3c6d9b1949aa4d26e5bbab06cfabf4418d',
        classes: ['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF', 'PMO'],
        provisionalClasses: [],
        researchOnly: true,
      });
      expect(model.manifest.input).toMatchObject({ width: 64, height: 64, colorOrder: 'RGB', mean: [0.5, 0.4, 0.3] });
      expect(model.manifest.flagging.alwaysReview).toEqual(['BLA', 'FGC', 'ABE', 'HAC', 'LYI', 'OTH']);
    } finally {
      await model.session.release();
    }
  });

  it('gives the logits the PyTorch reference computed for the same tensors', async () => {
    const expected = JSON.parse(readFileSync(join(REPO, 'test/fixtures/models/tiny-expected.json'), 'utf8')) as {
      tolerance: number;
      inputs: Record<string, { logits: number[] }>;
    };
    const size = 64;
    const plane = size * size;
    const tensors: Record<string, Float32Array> = {
      zeros: new Float32Array(3 * plane),
      ones: new Float32Array(3 * plane).fill(1),
      ramp: new Float32Array(3 * plane),
    };
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        tensors['ramp']![y * size + x] = -1 + (2 * x) / 63;
        tensors['ramp']![plane + y * size + x] = -1 + (2 * y) / 63;
        tensors['ramp']![2 * plane + y * size + x] = 1 - (2 * x) / 63;
      }
    }
    const model = await loadModelPackage(TINY_MODEL);
    try {
      for (const [name, data] of Object.entries(tensors)) {
        const out = await model.session.run({ input: new ort.Tensor('float32', data, [1, 3, size, size]) });
        const logits = Array.from(out['logits']!.data as Float32Array);
        expected.inputs[name]!.logits.forEach((value, i) => expect(Math.abs(logits[i]! - value)).toBeLessThan(expected.tolerance));
      }
    } finally {
      await model.session.release();
    }
  });

  it('refuses a model.onnx whose SHA-256 differs from model.json, naming the file and both hashes', async () => {
    const wrong = 'ab'.repeat(32);
    const dir = copyOfTiny((json) => {
      json['sha256'] = wrong;
    });
    const error = await refusal(dir);
    expect(error.file).toBe(join(dir, 'model.onnx'));
    expect(error.field).toBe('sha256');
    expect(error.message).toContain('e98a240abc52eabd60b98edd07e03f3c6d9b1949aa4d26e5bbab06cfabf4418d');
    expect(error.message).toContain(wrong);
    expect(error.message).toContain(join(dir, 'model.onnx'));
  });

  it('refuses a graph whose input shape differs from the size model.json declares', async () => {
    const error = await refusal(WRONG_SHAPE_MODEL);
    expect(error.message).toMatch(/\[batch, 3, 32, 32\]/);
    expect(error.message).toMatch(/\[N, 3, 64, 64\]/);
    expect(error.file).toBe(join(WRONG_SHAPE_MODEL, 'model.onnx'));
  });

  it('refuses a package without model.onnx, naming the missing file', async () => {
    const dir = copyOfTiny();
    rmSync(join(dir, 'model.onnx'));
    const error = await refusal(dir);
    expect(error.file).toBe(join(dir, 'model.onnx'));
    expect(error.message).toContain('model.onnx');
  });

  it('refuses a folder without model.json', async () => {
    const t = tempDir('empty-model');
    temps.push(t);
    const error = await refusal(t.path);
    expect(error.file).toBe(join(t.path, 'model.json'));
  });

  it.each([
    ['classes[1]', (j: Record<string, unknown>) => ((j['classes'] as string[])[1] = 'XYZ')],
    ['classes', (j: Record<string, unknown>) => (j['classes'] = ['ART'])],
    ['input.std[2]', (j: Record<string, unknown>) => (((j['input'] as Record<string, number[]>)['std'] as number[])[2] = 0)],
    ['input.colorOrder', (j: Record<string, unknown>) => ((j['input'] as Record<string, unknown>)['colorOrder'] = 'RGBA')],
    ['input.frameSide', (j: Record<string, unknown>) => ((j['input'] as Record<string, unknown>)['frameSide'] = 249.5)],
    ['calibration.temperature', (j: Record<string, unknown>) => ((j['calibration'] as Record<string, unknown>)['temperature'] = -1)],
    ['flagging.minConfidence', (j: Record<string, unknown>) => ((j['flagging'] as Record<string, unknown>)['minConfidence'] = 1.5)],
    ['flagging.alwaysReview[0]', (j: Record<string, unknown>) => ((j['flagging'] as Record<string, unknown>)['alwaysReview'] = ['blast'])],
    ['license', (j: Record<string, unknown>) => delete j['license']],
    ['sha256', (j: Record<string, unknown>) => (j['sha256'] = 'not-a-hash')],
    ['embedding.dim', (j: Record<string, unknown>) => (j['embedding'] = { name: 'logits', dim: 0 })],
    ['openSet', (j: Record<string, unknown>) => (j['openSet'] = { file: 'open-set.json', sha256: 'a'.repeat(64) })],
    [
      'openSet.file',
      (j: Record<string, unknown>) => {
        j['embedding'] = { name: 'logits', dim: 8 };
        j['openSet'] = { file: '../open-set.json', sha256: 'a'.repeat(64) };
      },
    ],
    ['provisionalClasses.classes[0]', (j: Record<string, unknown>) => (j['provisionalClasses'] = { classes: ['MYB'], reason: 'blood only' })],
    ['provisionalClasses.reason', (j: Record<string, unknown>) => (j['provisionalClasses'] = { classes: ['ART'] })],
  ])('refuses model.json with a bad "%s", naming the field and the file', async (field, edit) => {
    const dir = copyOfTiny(edit);
    const error = await refusal(dir);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toContain(join(dir, 'model.json'));
  });

  it('refuses a model whose output has a different number of classes than model.json lists', async () => {
    const dir = copyOfTiny((json) => {
      json['classes'] = ['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF'];
    });
    const error = await refusal(dir);
    expect(error.field).toBe('classes');
    expect(error.message).toMatch(/7 classes/);
  });

  it('refuses open-set statistics that are missing, altered, or of another embedding size', async () => {
    const openSet = (dim: number) =>
      JSON.stringify({
        formatVersion: 1,
        method: 'mahalanobis-tied',
        classes: ['ART'],
        dim,
        threshold: 1,
        means: [Array(dim).fill(0)],
        whitening: Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j) => (i === j ? 1 : 0))),
      });
    const withStats = (text: string | null, declaredSha?: string) => {
      const dir = copyOfTiny();
      if (text !== null) writeFileSync(join(dir, 'open-set.json'), text);
      const file = join(dir, 'model.json');
      const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      // The tiny graph's logits (8 values) stand in for an embedding output of 8 values.
      json['embedding'] = { name: 'logits', dim: 8 };
      const sha = text === null ? 'b'.repeat(64) : createHash('sha256').update(text).digest('hex');
      json['openSet'] = { file: 'open-set.json', sha256: declaredSha ?? sha };
      writeFileSync(file, JSON.stringify(json));
      return dir;
    };
    expect((await refusal(withStats(null))).message).toMatch(/has no open-set\.json/);
    const altered = await refusal(withStats(openSet(8), 'c'.repeat(64)));
    expect(altered.field).toBe('openSet.sha256');
    expect((await refusal(withStats(openSet(4)))).field).toBe('dim');
    const model = await loadModelPackage(withStats(openSet(8)));
    expect(model.openSet?.dim).toBe(8);
    await model.session.release();
  });

  it('refuses a declared embedding output the graph does not have', async () => {
    const error = await refusal(copyOfTiny((json) => (json['embedding'] = { name: 'features', dim: 8 })));
    expect(error.field).toBe('embedding.name');
    expect(error.message).toMatch(/"features" but the graph's outputs are logits/);
  });

  it('reads model.json without opening the graph', async () => {
    const manifest = await readModelManifest(WRONG_SHAPE_MODEL);
    expect(manifest.id).toBe('wrong-shape-test');
  });
});
