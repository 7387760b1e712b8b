// Child process of crash.test.ts: writes prediction batches in a loop until it is killed.
// Prints "begin N" before and "end N" after each batch, so the parent can kill it in the middle of one.
//   node --import tsx test/integration/db/crash-writer.ts <db> <caseId> <modelRowId> <batchSize>
import { insertPredictions, listImagesNeedingPrediction, openDatabase } from '../../../src/main/db';

const [path, caseIdArg, modelArg, batchArg] = process.argv.slice(2);
if (!path || !caseIdArg || !modelArg || !batchArg) throw new Error('usage: crash-writer <db> <caseId> <modelRowId> <batchSize>');
const caseId = Number(caseIdArg);
const modelRowId = Number(modelArg);
const batchSize = Number(batchArg);

const db = openDatabase(path);
const classes = ['BLA', 'LYT', 'NGS', 'EBO'] as const;
const pending = listImagesNeedingPrediction(db, caseId, modelRowId);
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
  insertPredictions(db, modelRowId, batch, 'crash-writer');
  process.stdout.write(`end ${n}\n`);
}
process.stdout.write('done\n');
