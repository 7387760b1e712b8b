// Child process of kill-during-send.test.ts: runs the real LIS delivery loop on a database until nothing is left to
// send, printing "sending <control id>" before each message goes on the wire, so the parent can kill it there. It
// opens the store by location (a SQLite file or a postgres:// URL), as the lab server's delivery loop does.
//   node --import tsx test/integration/lis/delivery-child.ts <db file or URL> <default outbox>
import { LisDelivery } from '../../../src/main/lis/delivery';
import { openStore } from '../../../src/main/db/store';

const [location, outbox] = process.argv.slice(2);
if (!location || !outbox) throw new Error('usage: delivery-child <db> <outbox>');

const store = await openStore(location);
const delivery = new LisDelivery(store, {
  defaultOutboxDir: outbox,
  retryDelayMs: () => 0,
  connectTimeoutMs: 5000,
  ackTimeoutMs: 10_000,
  onSending: (d) => process.stdout.write(`sending ${d.controlId}\n`),
});
for (;;) {
  await delivery.runOnce();
  if ((await store.lis.nextOpenDelivery('mllp')) === null && (await store.lis.nextOpenDelivery('outbox')) === null) break;
}
await store.close();
process.stdout.write('done\n');
