// `npm start`: the desktop app where Electron's binary is installed; otherwise say so plainly and run the
// headless CLI on the bundled demo case, so a new user still sees a differential.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// Electron 45 fetches its binary on first use (require('electron')), not at install time; offline that fetch fails
// and we fall back to the CLI below.
function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

if (!existsSync(join(root, 'out/main/index.js'))) {
  const build = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const electron = electronBinary();
if (electron) {
  run(electron, ['.']);
} else {
  console.log(
    [
      "Electron's binary is not installed on this machine and could not be downloaded (see above), so the desktop",
      'window cannot open here. To get it, run `npm start` again on a machine that can reach GitHub.',
      'Meanwhile, the headless CLI analyses the bundled demo case:',
      '  bin/marrowcount analyze resources/demo/case-001',
      'The case is stored in the database named on the "Database:" line below: the per-user database the desktop',
      'app opens, so the case is there when the app first starts. To try the screens in a browser instead:',
      '  sh scripts/with-node.sh npx tsx scripts/serve-browser.ts   (then open http://127.0.0.1:5180/)',
      '',
    ].join('\n'),
  );
  run(process.execPath, [join(root, 'out/main/cli.js'), 'analyze', join(root, 'resources/demo/case-001')]);
}
