import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError } from '../../../src/main/inference/errors';
import type { ModelInputSpec } from '../../../src/main/inference/model-manifest';
import { framingOf, preprocessInto, tensorLength } from '../../../src/main/inference/preprocess';
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
  frameSide: null,
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

  it("frames a crop to the model's field of view: centre-cropped when larger, edge-padded when smaller", () => {
    expect(framingOf(250, 250, 250)).toEqual({ crop: { left: 0, top: 0, width: 250, height: 250 }, pad: { top: 0, bottom: 0, left: 0, right: 0 } });
    // A PBC crop: 110 and 113 extra pixels, the odd one going after the centre (as numpy slicing in training/common.py).
    expect(framingOf(360, 363, 250)).toEqual({ crop: { left: 55, top: 56, width: 250, height: 250 }, pad: { top: 0, bottom: 0, left: 0, right: 0 } });
    expect(framingOf(201, 260, 250)).toEqual({ crop: { left: 0, top: 5, width: 201, height: 250 }, pad: { top: 0, bottom: 0, left: 24, right: 25 } });
  });

  it('classifies only the centre of a larger crop and repeats the edge of a smaller one', async () => {
    const framed: ModelInputSpec = { ...spec, mean: [0, 0, 0], std: [1, 1, 1], frameSide: 20 };
    // 40x40: a 20x20 red centre in a blue border. Framed to 20, only red is left.
    const bordered = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 0, g: 0, b: 255 } } })
      .composite([{ input: await solid(20, 20, [255, 0, 0]), left: 10, top: 10 }])
      .png()
      .toBuffer();
    const tensor = new Float32Array(tensorLength(framed));
    await preprocessInto(bordered, framed, tensor, 0, 'bordered.png');
    const [r, , b] = planes(tensor, framed);
    for (const v of r!) expect(v).toBeCloseTo(1, 5);
    for (const v of b!) expect(v).toBeCloseTo(0, 5);
    // The same crop resized whole keeps its blue border.
    await preprocessInto(bordered, { ...framed, frameSide: null }, tensor, 0, 'bordered.png');
    expect(Math.max(...planes(tensor, framed)[2]!)).toBeGreaterThan(0.9);
    // 10x10 green: padded to 20 by repeating its edge, it stays green all over (no black or white frame).
    await preprocessInto(await solid(10, 10, [0, 255, 0]), framed, tensor, 0, 'small.png');
    const [r2, g2, b2] = planes(tensor, framed);
    for (const v of g2!) expect(v).toBeCloseTo(1, 5);
    expect(Math.max(...r2!, ...b2!)).toBeCloseTo(0, 5);
  });

  it.each(['truncated.jpg', 'corrupt-data.jpg'])('refuses to classify %s instead of decoding it partially', async (name) => {
    const tensor = new Float32Array(tensorLength(spec));
    const attempt = preprocessInto(join(BROKEN_CROPS, name), spec, tensor, 0, name);
    await expect(attempt).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(attempt).rejects.toThrow(new RegExp(`^${name} could not be decoded`));
  });
});
