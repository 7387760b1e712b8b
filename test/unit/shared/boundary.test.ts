// src/shared runs in every process (main, preload, renderer, CLI): anything it imports or touches must exist in all
// of them. The compiler (tsconfig.shared.json) and ESLint catch most of this; this test also catches imports that
// only need a type to resolve, globals used through `globalThis`-free names, and files ESLint ignores.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sharedDir = join(repoRoot, 'src', 'shared');

const NODE_BUILTINS = new Set([
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'module',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'querystring',
  'readline',
  'stream',
  'string_decoder',
  'timers',
  'tls',
  'tty',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
]);

const FORBIDDEN_GLOBALS = ['window', 'document', 'process', 'require', 'navigator', 'localStorage', 'Buffer', '__dirname'];

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/** Module specifiers of every import/export-from/dynamic import/require in the source. */
function importSpecifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

/** The source with comments and the text of string literals blanked, so prose like "every process" is not code. */
function codeOnly(source: string): string {
  let out = '';
  let i = 0;
  // Each entry is the brace depth at which a `${` interpolation returns to its template literal.
  const templateStack: number[] = [];
  let braceDepth = 0;
  while (i < source.length) {
    const ch = source[i] ?? '';
    const next = source[i + 1] ?? '';
    if (ch === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 2;
      out += ' ';
    } else if (ch === "'" || ch === '"') {
      i++;
      while (i < source.length && source[i] !== ch && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      i++;
      out += '""';
    } else if (ch === '`' || (ch === '}' && templateStack.at(-1) === braceDepth)) {
      // Template literal text, up to its end or the next `${`.
      if (ch === '}') templateStack.pop();
      i++;
      while (i < source.length && source[i] !== '`' && !(source[i] === '$' && source[i + 1] === '{')) {
        i += source[i] === '\\' ? 2 : 1;
      }
      if (source[i] === '$') {
        templateStack.push(braceDepth);
        i += 2;
      } else {
        i++;
      }
      out += '""';
    } else {
      if (ch === '{') braceDepth++;
      if (ch === '}') braceDepth--;
      out += ch;
      i++;
    }
  }
  return out;
}

/** Reasons a file under src/shared breaks the boundary; empty when it is clean. */
function boundaryViolations(fileRelativeToShared: string, source: string): string[] {
  const violations: string[] = [];
  for (const specifier of importSpecifiers(source)) {
    const bare = specifier.replace(/^node:/, '');
    if (specifier.startsWith('node:') || NODE_BUILTINS.has(bare)) {
      violations.push(`imports the Node module "${specifier}"`);
    } else if (specifier === 'electron' || specifier.startsWith('electron/')) {
      violations.push(`imports Electron ("${specifier}")`);
    } else if (/^react(-dom)?(\/|$)/.test(specifier)) {
      violations.push(`imports React ("${specifier}")`);
    } else if (!specifier.startsWith('.')) {
      violations.push(`imports the package "${specifier}"; src/shared depends on nothing outside itself`);
    } else {
      const target = join(sharedDir, dirname(fileRelativeToShared), specifier);
      const fromShared = relative(sharedDir, target);
      if (fromShared.startsWith('..')) {
        const where = relative(repoRoot, target).split(sep).join('/');
        violations.push(`imports "${specifier}", which is outside src/shared (${where})`);
      }
    }
  }
  const code = codeOnly(source);
  for (const name of FORBIDDEN_GLOBALS) {
    // A property such as `options.process` is fine; a bare reference is not.
    if (new RegExp(`(?<![.\\w$])${name}\\b`).test(code)) violations.push(`references the global "${name}"`);
  }
  return violations;
}

describe('src/shared boundary', () => {
  it('has no file that imports Node, Electron, React or code above it, or touches window/document/process/require', () => {
    const files = listFiles(sharedDir);
    expect(files.length).toBeGreaterThan(0);
    const problems = files.flatMap((file) => {
      const rel = relative(sharedDir, file);
      return boundaryViolations(rel, readFileSync(file, 'utf8')).map((v) => `src/shared/${rel.split(sep).join('/')} ${v}`);
    });
    expect(problems).toEqual([]);
  });

  it('detects each kind of violation in sample sources', () => {
    const cases: [string, RegExp][] = [
      ["import { readFileSync } from 'node:fs';", /Node module "node:fs"/],
      ["import path from 'path';", /Node module "path"/],
      ["import type { BrowserWindow } from 'electron';", /Electron/],
      ["import { useState } from 'react';", /React/],
      ["export { x } from '../main/db/cases';", /outside src\/shared \(src\/main\/db\/cases\)/],
      ["import '../renderer/src/main';", /outside src\/shared/],
      ["const m = await import('../preload/index');", /outside src\/shared/],
      ["const fs = require('fs');", /Node module "fs"/],
      ['const w = window.innerWidth;', /"window"/],
      ['document.title = "x";', /"document"/],
      ['const env = process.env.HOME;', /"process"/],
      ['const s = `${process.platform}`;', /"process"/],
      ["import { z } from 'zod';", /package "zod"/],
    ];
    for (const [source, expected] of cases) {
      expect(boundaryViolations('sample.ts', source).join('; '), source).toMatch(expected);
    }
  });

  it('ignores forbidden words inside comments, strings and property names', () => {
    const clean = [
      '// runs in every process, even the window-less CLI',
      '/* document the rule */',
      "const text = 'shared by every process';",
      'const t = `the ${kind} process`;',
      'const x = options.process ?? settings.window;',
      "import { cellClass } from './cell-classes';",
    ].join('\n');
    expect(boundaryViolations('sample.ts', clean)).toEqual([]);
  });
});
