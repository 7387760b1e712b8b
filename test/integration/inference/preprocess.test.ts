import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../../../src/main/inference/errors';
import type { ModelInputSpec } from '../../../src/main/inference/model-manifest';
import { preprocessInto, tensorLength } from '../../../src/main/inference/preprocess';
import { BROKEN_CROPS, GOOD_CROPS } from './helpers';

const spec: ModelInputSpec = {
  name: 'input',
  width: 8,
  height: 8,
  layout: 'NCHW',
  colorOrder: 'RGB',
  resize: 'fill',
  kernel: 'lanczos3',
  scale: 255,
  mean: [0.5, 0.4, 0.3],
  std: [0.25, 0.2, 0.3],
};

async function solid(width: number, height: number, rgb: [number, number, number], channels: 3 | 4 = 3): Promise<Buffer> {
  const background = channels === 4 ? { r: rgb[0], g: rgb[1], b: rgb[2], alpha: 1 } : { r: rgb[0], g: rgb[1], b: rgb[2] };
  return sharp({ create: { width, height, channels, background } }).png().toBuffer();
}

function planes(tensor: Float32Array, s: ModelInputSpec): number[][] {
  const plane = s.width * s.height;
  return [0, 1, 2].map((c) => Array.from(tensor.subarray(c * plane, (c + 1) * plane)));
}

describe('preprocessing', () => {
  it('normalises each channel as (pixel/scale - mean)/std in NCHW order', async () => {
    const tensor = new Float32Array(tensorLength(spec));
    await preprocessInto(await solid(20, 20, [204, 102, 51]), spec, tensor, 0, 'solid.png');
    // By hand: R (204/255 - 0.5)/0.25 = 1.2; G (102/255 - 0.4)/0.2 = 0; B (51/255 - 0.3)/0.3 = -1/3.
    const [r, g, b] = planes(tensor, spec);
    for (const v of r!) expect(v).toBeCloseTo(1.2, 5);
    for (const v of g!) expect(v).toBeCloseTo(0, 5);
    for (const v of b!) expect(v).toBeCloseTo(-1 / 3, 5);
  });

  it('puts blue first when the model was trained on BGR', async () => {
    const bgr: ModelInputSpec = { ...spec, colorOrder: 'BGR', mean: [0, 0, 0], std: [1, 1, 1] };
    const tensor = new Float32Array(tensorLength(bgr));
    await preprocessInto(await solid(16, 16, [255, 0, 51]), bgr, tensor, 0, 'solid.png');
    const [first, , third] = planes(tensor, bgr);
    expect(first![0]).toBeCloseTo(0.2, 5);
    expect(third![0]).toBeCloseTo(1, 5);
  });

  it('drops an alpha channel and writes at the given batch offset', async () => {
    const tensor = new Float32Array(2 * tensorLength(spec)).fill(99);
    await preprocessInto(await solid(10, 10, [204, 102, 51], 4), spec, tensor, tensorLength(spec), 'alpha.png');
    expect(tensor[0]).toBe(99);
    expect(tensor[tensorLength(spec)]).toBeCloseTo(1.2, 5);
  });

  it('gives a greyscale crop three equal channels', async () => {
    const grey = await sharp(join(GOOD_CROPS, 'BLA_00001.jpg')).greyscale().jpeg().toBuffer();
    const flat: ModelInputSpec = { ...spec, mean: [0, 0, 0], std: [1, 1, 1] };
    const tensor = new Float32Array(tensorLength(flat));
    await preprocessInto(grey, flat, tensor, 0, 'grey.jpg');
    const [r, g, b] = planes(tensor, flat);
    expect(g).toEqual(r);
    expect(b).toEqual(r);
  });

  it('resizes a 250x250 Matek crop to the model input size', async () => {
    const big: ModelInputSpec = { ...spec, width: 64, height: 64 };
    const tensor = new Float32Array(tensorLength(big));
    await preprocessInto(join(GOOD_CROPS, 'NGS_00001.jpg'), big, tensor, 0, 'NGS_00001.jpg');
    expect(tensor.every(Number.isFinite)).toBe(true);
    expect(new Set(tensor).size).toBeGreaterThan(100);
  });

  it.each(['truncated.jpg', 'corrupt-data.jpg'])('refuses to classify %s instead of decoding it partially', async (name) => {
    const tensor = new Float32Array(tensorLength(spec));
    const attempt = preprocessInto(join(BROKEN_CROPS, name), spec, tensor, 0, name);
    await expect(attempt).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(attempt).rejects.toThrow(new RegExp(`^${name} could not be decoded`));
  });
});
