// Open-set benchmark: the JavaScript time per cell of the shipped open-set score (Mahalanobis to the nearest class
// mean, src/main/inference/open-set.ts, on the shipped open-set.json) and of the alternative that training/
// open_set.py measured slightly better, a brute-force k-nearest-neighbour cosine distance to the 4,897 marrow
// training embeddings (k = 10), on embeddings of the same size. Both run on the analysis's JS thread, beside the
// decoders and onnxruntime, so their cost comes straight off the end-to-end rate. Figures only.
//   scripts/with-node.sh npx tsx scripts/bench-open-set.ts [cells]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSetDistance, parseOpenSetStats } from '../src/main/inference/open-set';

const CELLS = Number(process.argv[2] ?? 2_000);
const REFERENCES = 4_897;
const K = 10;
const file = join(import.meta.dirname, '..', 'resources/models/marrowcount-ref/open-set.json');
const stats = parseOpenSetStats(JSON.parse(readFileSync(file, 'utf8')), file, 160);
const dim = stats.dim;

// Seeded, so every run scores the same embeddings.
let seed = 1;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2;
const cells = Array.from({ length: CELLS }, () => Float32Array.from({ length: dim }, random));
const references = Float32Array.from({ length: REFERENCES * dim }, random);

function knnCosine(z: Float32Array): number {
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += z[d]! * z[d]!;
  norm = Math.sqrt(norm);
  const top = new Float64Array(K).fill(-Infinity);
  for (let n = 0; n < REFERENCES; n++) {
    let dot = 0;
    let rn = 0;
    const o = n * dim;
    for (let d = 0; d < dim; d++) {
      dot += references[o + d]! * z[d]!;
      rn += references[o + d]! * references[o + d]!;
    }
    const sim = dot / (norm * Math.sqrt(rn));
    if (sim > top[K - 1]!) {
      let j = K - 1;
      while (j > 0 && top[j - 1]! < sim) {
        top[j] = top[j - 1]!;
        j--;
      }
      top[j] = sim;
    }
  }
  return 1 - top.reduce((a, b) => a + b, 0) / K;
}

function time(name: string, score: (z: Float32Array) => number): void {
  let sink = 0;
  for (const z of cells.slice(0, 50)) sink += score(z); // warm-up
  const start = process.cpuUsage();
  const t0 = performance.now();
  for (const z of cells) sink += score(z);
  const wall = (performance.now() - t0) / CELLS;
  const cpu = process.cpuUsage(start);
  console.log(
    `${name}: ${wall.toFixed(3)} ms/cell wall, ${((cpu.user + cpu.system) / 1000 / CELLS).toFixed(3)} CPU-ms/cell (${CELLS} cells; checksum ${sink.toFixed(1)})`,
  );
}

time(`mahalanobis-tied (shipped, ${stats.classes.length} classes, ${dim} dims)`, (z) => openSetDistance(stats, z));
time(`kNN cosine, brute force (${REFERENCES} references, k = ${K})`, knnCosine);
