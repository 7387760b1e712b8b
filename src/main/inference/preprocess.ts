// Turns one crop into the tensor the model was trained on. It must match training/common.py's app_preprocess
// exactly (RGB, framed to the model's field of view when it declares one, resized to width x height with Lanczos,
// (pixel/scale - mean)/std, NCHW): a preprocessing drift is invisible in the UI and shifts every differential.
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { headerDimensions } from './case-folder';
import { ImageDecodeError } from './errors';
import type { ModelInputSpec } from './model-manifest';

/**
 * libvips decodes a truncated or corrupt JPEG partially (grey bottom rows) and only warns. 'truncated' and 'error'
 * stop a file cut short but let through one whose scan data was cut and an end marker follows ("Corrupt JPEG data:
 * premature end of data segment", test/fixtures/crops/broken/corrupt-data.jpg); only 'warning' stops both.
 * A half-grey cell must be reported, not classified.
 */
export const DECODE_FAIL_ON = 'warning' as const;

export function tensorLength(spec: ModelInputSpec): number {
  return 3 * spec.width * spec.height;
}

/** How a crop of `width` x `height` is cut or padded to `side` x `side`, centred (training/common.py `frame`). */
export interface Framing {
  crop: { left: number; top: number; width: number; height: number };
  pad: { top: number; bottom: number; left: number; right: number };
}

export function framingOf(width: number, height: number, side: number): Framing {
  const axis = (size: number): { offset: number; kept: number; before: number; after: number } => {
    if (size >= side) return { offset: Math.floor((size - side) / 2), kept: side, before: 0, after: 0 };
    const missing = side - size;
    return { offset: 0, kept: size, before: Math.floor(missing / 2), after: missing - Math.floor(missing / 2) };
  };
  const x = axis(width);
  const y = axis(height);
  return {
    crop: { left: x.offset, top: y.offset, width: x.kept, height: y.kept },
    pad: { top: y.before, bottom: y.after, left: x.before, right: x.after },
  };
}

/**
 * Decodes `source` (a path or the file's bytes) and writes its normalised NCHW tensor into `target` at `offset`.
 * `label` names the file in the error a person sees.
 */
export async function preprocessInto(source: string | Buffer, spec: ModelInputSpec, target: Float32Array, offset: number, label: string): Promise<void> {
  let pixels: Buffer;
  let channels: number;
  try {
    const { data, info } = await resized(await framed(source, spec.frameSide), spec);
    pixels = data;
    channels = info.channels;
    if (info.width !== spec.width || info.height !== spec.height) {
      throw new Error(`decoded to ${info.width}x${info.height} instead of ${spec.width}x${spec.height}`);
    }
  } catch (error) {
    const message = (error as Error).message;
    // libvips reports the warning that tripped failOn separately; sharp's own text ("Warning treated as error due
    // to failOn setting") means nothing to a technician.
    const reason = /failOn/.test(message) ? 'its image data is corrupt or incomplete' : message;
    throw new ImageDecodeError(`${label} could not be decoded: ${reason}`, label);
  }
  writeNormalisedNchw(pixels, channels, spec, target, offset);
}

function decoder(source: string | Buffer): Sharp {
  return sharp(source, { failOn: DECODE_FAIL_ON }).removeAlpha().toColourspace('srgb');
}

/**
 * The crop cut or padded to the model's field of view, as raw RGB; the crop itself when it already has that size
 * (every Matek crop) or the model takes any size. Two passes because sharp pads only after it resizes.
 */
async function framed(source: string | Buffer, side: number | null): Promise<Sharp> {
  if (side === null) return decoder(source);
  // The JPEG/PNG header gives the size without a libvips call (see headerDimensions); other formats ask libvips.
  const { width, height } = (Buffer.isBuffer(source) ? headerDimensions(source) : null) ?? (await sharp(source).metadata());
  if (width === undefined || height === undefined) throw new Error('it has no readable width and height');
  if (width === side && height === side) return decoder(source);
  const { crop, pad } = framingOf(width, height, side);
  const { data, info } = await decoder(source)
    .extract(crop)
    .extend({ ...pad, extendWith: 'copy' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

function resized(image: Sharp, spec: ModelInputSpec): Promise<{ data: Buffer; info: OutputInfo }> {
  return image
    .resize(spec.width, spec.height, {
      fit: spec.resize === 'cover' ? 'cover' : 'fill',
      kernel: spec.kernel,
      // JPEG shrink-on-load is a DCT-domain shortcut that PIL (the training pipeline) does not take.
      fastShrinkOnLoad: false,
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
}

/** Interleaved 8-bit pixels (1 or 3+ channels, RGB order) → planar normalised floats in the model's colour order. */
export function writeNormalisedNchw(pixels: Uint8Array, channels: number, spec: ModelInputSpec, target: Float32Array, offset: number): void {
  const plane = spec.width * spec.height;
  const order = spec.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const source = channels === 1 ? 0 : order[c]!;
    // Folding scale, mean and std into one multiply-add keeps the inner loop cheap.
    const factor = 1 / (spec.scale * spec.std[c]!);
    const shift = spec.mean[c]! / spec.std[c]!;
    const base = offset + c * plane;
    for (let i = 0, p = source; i < plane; i++, p += channels) {
      target[base + i] = pixels[p]! * factor - shift;
    }
  }
}
