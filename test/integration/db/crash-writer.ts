// Child process of crash.test.ts: writes prediction batches in a loop until it is killed (or, on a resumed run, until
// every image of the case is classified). It opens the store by location, as the analysis worker does: a SQLite file
// or a postgres:// URL, so the same writer dies on either engine.
// Prints "begin N" before and "end N" after each batch, so the parent can kill it in the middle of one.
//   node --import tsx test/integration/db/crash-writer.ts <db file or URL> <caseId> <modelRowId> <batchSize>
import { openStore } from '../../../src/main/db/store';

const [location, caseIdArg, modelArg, batchArg] = process.argv.slice(2);
if (!location || !caseIdArg || !modelArg || !batchArg) throw new Error('usage: crash-writer <db> <caseId> <modelRowId> <batchSize>');
const caseId = Number(caseIdArg);
const modelRowId = Number(modelArg);
const batchSize = Number(batchArg);

const store = await openStore(location);
const classes = ['BLA', 'LYT', 'NGS', 'EBO'] as const;
// What is still unclassified: a resumed run starts where the killed one's last committed batch ended.
const pending = await store.images.listImagesNeedingPrediction(caseId, modelRowId);
for (let start = 0, n = 1; start < pending.length; start += batchSize, n++) {
  const batch = pending.slice(start, start + batchSize).map((image, i) => ({
    imageId: image.id,
    predicted: classes[i % 4]!,
    probabilities: classes.map((_, k) => (k === i % 4 ? 0.7 : 0.1)),
    confidence: 0.7,
    flagged: false,
    flagReasons: [],
  }));
  process.stdout.write(`begin ${n}\n`);
  await store.predictions.insertPredictions(modelRowId, batch, 'crash-writer');
  process.stdout.write(`end ${n}\n`);
}
await store.close();
process.stdout.write('done\n');
