// Child process of kill-during-send.test.ts: runs the real LIS delivery loop on a database until nothing is left to
// send, printing "sending <control id>" before each message goes on the wire, so the parent can kill it there.
//   node --import tsx test/integration/lis/delivery-child.ts <db> <default outbox>
import { nextOpenDelivery, openDatabase } from '../../../src/main/db';
import { LisDelivery } from '../../../src/main/lis/delivery';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const [path, outbox] = process.argv.slice(2);
if (!path || !outbox) throw new Error('usage: delivery-child <db> <outbox>');

const db = openDatabase(path);
const delivery = new LisDelivery(sqliteStore(db), {
  defaultOutboxDir: outbox,
  retryDelayMs: () => 0,
  connectTimeoutMs: 5000,
  ackTimeoutMs: 10_000,
  onSending: (d) => process.stdout.write(`sending ${d.controlId}\n`),
});
for (;;) {
  await delivery.runOnce();
  if (nextOpenDelivery(db, 'mllp') === null && nextOpenDelivery(db, 'outbox') === null) break;
}
process.stdout.write('done\n');
