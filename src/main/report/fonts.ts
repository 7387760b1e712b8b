// The report embeds DejaVu Sans (resources/fonts, Bitstream Vera licence) rather than using PDF's standard-14
// Helvetica, which is never embedded: a viewer substitutes its own font and may lack glyphs such as "–" or "≥".
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReportError } from './errors';

export interface ReportFonts {
  regular: string;
  bold: string;
}

const REGULAR = 'DejaVuSans.ttf';
const BOLD = 'DejaVuSans-Bold.ttf';

function fontsIn(dir: string): ReportFonts | null {
  const regular = join(dir, REGULAR);
  const bold = join(dir, BOLD);
  return existsSync(regular) && existsSync(bold) ? { regular, bold } : null;
}

/**
 * Finds the fonts: an explicit folder if given; else `fonts/` in Electron's resources folder (packaged app);
 * else `resources/fonts/` in the nearest folder above this module (source tree, out/main bundle, tests, CLI).
 */
export function locateReportFonts(fontsDir?: string): ReportFonts {
  const searched: string[] = [];
  const tryDir = (dir: string): ReportFonts | null => {
    searched.push(dir);
    return fontsIn(dir);
  };
  if (fontsDir !== undefined) {
    const found = tryDir(fontsDir);
    if (found) return found;
  } else {
    const resourcesPath = (process as { resourcesPath?: unknown }).resourcesPath;
    if (typeof resourcesPath === 'string') {
      const found = tryDir(join(resourcesPath, 'fonts'));
      if (found) return found;
    }
    let dir = import.meta.dirname;
    for (;;) {
      const found = tryDir(join(dir, 'resources', 'fonts'));
      if (found) return found;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new ReportError('fonts_missing', `The report fonts ${REGULAR} and ${BOLD} were not found (looked in ${searched.join(', ')}). Reinstall MarrowCount.`, {
    path: searched[0],
  });
}
