// Reads a PDF with poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm): an independent parser, so the tests
// check what a viewer shows rather than what pdfkit was asked to draw.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const PNG_DIR = resolve(import.meta.dirname, '../../../test-results/report');

const run = (tool: string, args: string[]): string => execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

/** Text of each page, laid out as on the page (pdftotext -layout); pages are split on form feeds. */
export function pdfPages(path: string): string[] {
  const pages = run('pdftotext', ['-layout', path, '-']).split('\f');
  if (pages[pages.length - 1]?.trim() === '') pages.pop();
  return pages;
}

/**
 * Whitespace collapsed to single spaces, so wrapped sentences can be searched whole. pdfkit wraps after a hyphen
 * ("300-|cell"), so a hyphen that ends a line is joined to the next line without a space.
 */
export function flat(text: string): string {
  return text.replace(/-[ \t]*\n\s*/g, '-').replace(/\s+/g, ' ');
}

/** pdfinfo's fields; throws when poppler cannot parse the file. */
export function pdfInfo(path: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of run('pdfinfo', [path]).split('\n')) {
    const match = /^([^:]+):\s*(.*)$/.exec(line);
    if (match) info[match[1]!.trim()] = match[2]!.trim();
  }
  return info;
}

export interface FontRow {
  name: string;
  embedded: boolean;
}

export function pdfFonts(path: string): FontRow[] {
  return run('pdffonts', [path])
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const columns = line.trim().split(/\s+/);
      // name type... encoding emb sub uni object ID: "emb" is the 5th field from the end.
      return { name: columns[0]!, embedded: columns[columns.length - 5] === 'yes' };
    });
}

/** Renders every page to test-results/report/<name>-N.png at 60 dpi, for a person to look at. */
export function renderPngs(path: string, name: string): string[] {
  mkdirSync(PNG_DIR, { recursive: true });
  for (const old of readdirSync(PNG_DIR).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.png'))) {
    rmSync(join(PNG_DIR, old));
  }
  run('pdftoppm', ['-r', '60', '-png', path, join(PNG_DIR, name)]);
  return readdirSync(PNG_DIR)
    .filter((f) => f.startsWith(`${basename(name)}-`) && f.endsWith('.png'))
    .map((f) => join(PNG_DIR, f));
}
