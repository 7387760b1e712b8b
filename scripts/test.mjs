// `npm test`: every check a change must pass, in the order that fails fastest — types, lint, formatting, the build the
// end-to-end tests load, unit + integration tests, then the browser/Electron end-to-end tests.
// Ends with one plain "N passed, N failed, N skipped" line summing the Vitest runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const bin = (pkg, file) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
let failedStages = [];

function stage(name, args) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (result.status !== 0) failedStages.push(name);
  return result.status === 0;
}

function vitest(name, config) {
  const report = join(resultsDir, `${name}.json`);
  stage(name, [bin('vitest', 'vitest.mjs'), 'run', '--config', config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += json.numPassedTests;
    totals.failed += json.numFailedTests;
    totals.skipped += json.numPendingTests + json.numTodoTests;
  } catch {
    console.error(`${name}: no JSON report at ${report} (the run did not finish)`);
    totals.failed += 1;
  }
}

const tsc = bin('typescript', 'bin/tsc');
for (const config of ['tsconfig.shared.json', 'tsconfig.node.json', 'tsconfig.web.json']) {
  stage(`typecheck ${config}`, [tsc, '-p', config]);
}
stage('lint', [bin('eslint', 'bin/eslint.js'), '.']);
// Formatting (Prettier, .prettierrc): `npm run format` rewrites what this check refuses.
stage('format', [bin('prettier', 'bin/prettier.cjs'), '--check', '.']);
const built = stage('build', [bin('electron-vite', 'bin/electron-vite.js'), 'build']);
vitest('unit-and-integration', 'vitest.config.ts');
if (built) vitest('e2e', 'vitest.e2e.config.ts');

if (failedStages.length > 0) console.log(`\nFailed stages: ${failedStages.join(', ')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedStages.length > 0 || totals.failed > 0 ? 1 : 0);
