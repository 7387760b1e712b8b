// Gallery thumbnails: each crop is decoded and shrunk before it goes into the PDF, so the report carries a few
// kilobytes per cell instead of the full 250×250 crop, and a crop in an unusual format (PNG with alpha, CMYK JPEG)
// reaches pdfkit as a plain RGB JPEG it always embeds correctly.
import sharp from 'sharp';

/** Thumbnail edge in pixels: 96 px printed at ~58 pt is about 120 dpi, sharp enough to recognise a cell. */
export const THUMBNAIL_PIXELS = 96;

export type Thumbnail = { ok: true; jpeg: Buffer } | { ok: false; reason: string };

export async function makeThumbnail(imagePath: string): Promise<Thumbnail> {
  try {
    const jpeg = await sharp(imagePath)
      .resize(THUMBNAIL_PIXELS, THUMBNAIL_PIXELS, { fit: 'inside', kernel: 'lanczos3' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .jpeg({ quality: 85 })
      .toBuffer();
    return { ok: true, jpeg };
  } catch (e) {
    // A missing or damaged crop must not stop the report (the counts come from the database, not the image):
    // the gallery prints the reason in the thumbnail's place.
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: /no such file|ENOENT|missing/i.test(message) ? 'image file missing' : 'image unreadable' };
  }
}

/** Thumbnails keyed by image path; decoded concurrently (sharp runs them on its own thread pool). */
export async function makeThumbnails(imagePaths: readonly string[]): Promise<Map<string, Thumbnail>> {
  const unique = [...new Set(imagePaths)];
  const results = await Promise.all(unique.map((path) => makeThumbnail(path)));
  return new Map(unique.map((path, i) => [path, results[i] as Thumbnail]));
}
