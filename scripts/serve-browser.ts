// Serves the built renderer and the real service over loopback HTTP, for trying MarrowCount in a browser where
// Electron is not installed (and for watching what the end-to-end tests do).
//   npm run build && scripts/with-node.sh npx tsx scripts/serve-browser.ts [--port 5180] [--data <folder>] [--db <file or URL>]
// Reports go to <folder> (default .cache/browser-host), and the database too unless --db or MARROWCOUNT_DATABASE_URL
// names another (db/store.ts); the model is the bundled one, or the tiny
// test model while the bundled one is not installed.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { appVersion } from '../src/main/cli/paths';
import { resolveDatabaseLocation } from '../src/main/db/store';
import { startHttpHost } from '../src/main/http/serve-api';
import { createMarrowService } from '../src/main/service/marrow-service';
import { CELL_HTTP_PREFIX } from '../src/main/http/serve-api';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { port: { type: 'string', default: '5180' }, data: { type: 'string' }, db: { type: 'string' } } });
const dataDir = resolve(values.data ?? join(root, '.cache', 'browser-host'));
const rendererDir = join(root, 'out', 'renderer');
if (!existsSync(join(rendererDir, 'index.html'))) {
  console.error(`No built renderer at ${rendererDir}. Run \`npm run build\` first.`);
  process.exit(1);
}
const bundled = join(root, 'resources', 'models', 'marrowcount-ref');
const modelDir = existsSync(join(bundled, 'model.json')) ? bundled : join(root, 'test', 'fixtures', 'models', 'tiny');

const service = await createMarrowService({
  databaseLocation: resolveDatabaseLocation({ cliOption: values.db ?? null, env: process.env, default: join(dataDir, 'marrowcount.sqlite') }).location,
  modelDir,
  reportsDir: join(dataDir, 'reports'),
  cellImageUrl: (caseId, imageId) => `${CELL_HTTP_PREFIX}${caseId}/${imageId}`,
  // The package's version, as the desktop app and the CLI print it (reports read "MarrowCount 0.1.0", not the host's name).
  appVersion: appVersion(),
});
service.lisDelivery.start();
const host = await startHttpHost({ service, rendererDir, port: Number(values.port), host: '127.0.0.1' });
console.log(`MarrowCount (browser host) at ${host.url}/`);
console.log(`  database ${service.databaseWhere}\n  model    ${modelDir}`);
const demo = join(root, 'resources', 'demo', 'case-001');
if (existsSync(demo)) console.log(`  demo case folder to type into "New case": ${demo}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void host
      .close()
      .then(() => service.close())
      .finally(() => process.exit(0));
  });
}
