// The DRAFT watermark, drawn as stroked vector letters rather than text. As text, its rotated letters would be
// extracted by copy-and-paste, search and text-to-speech into the middle of the figures they lie over
// ("5.0% D 2.7–9.0%"); the readable "DRAFT — not signed" notice in each page's header carries the words instead.
import { COLOUR, PAGE, type Doc } from './pdf-layout';

/** Letters on a 60 × 100 grid (y down), as SVG path data for round-capped strokes. */
const LETTERS: readonly string[] = [
  // D
  'M 0 0 L 0 100 M 0 0 L 22 0 C 52 0 62 25 62 50 C 62 75 52 100 22 100 L 0 100',
  // R
  'M 0 100 L 0 0 L 32 0 C 62 0 62 52 32 52 L 0 52 M 28 52 L 60 100',
  // A
  'M 0 100 L 31 0 L 62 100 M 12 62 L 50 62',
  // F
  'M 0 100 L 0 0 L 58 0 M 0 48 L 44 48',
  // T
  'M 0 0 L 62 0 M 31 0 L 31 100',
];
const ADVANCE = 88;

export function drawDraftWatermark(doc: Doc): void {
  const scale = 1.05;
  const width = (ADVANCE * (LETTERS.length - 1) + 62) * scale;
  const height = 100 * scale;
  const cx = PAGE.width / 2;
  const cy = PAGE.height / 2;
  doc.save();
  doc.rotate(-40, { origin: [cx, cy] });
  doc.translate(cx - width / 2, cy - height / 2);
  doc.scale(scale);
  doc.lineWidth(15).lineCap('round').lineJoin('round').strokeColor(COLOUR.draft).strokeOpacity(0.13);
  LETTERS.forEach((letter, i) => {
    doc.save();
    doc.translate(i * ADVANCE, 0);
    doc.path(letter).stroke();
    doc.restore();
  });
  doc.restore();
}
