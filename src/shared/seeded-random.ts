// mulberry32: a small, fast, seeded generator (32-bit state, uniform floats in [0, 1)). Used where an order only has
// to be reproducible: the lab head's shuffles, the benchmarks, the randomised tests.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
