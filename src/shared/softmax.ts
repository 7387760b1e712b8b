// Softmax of logits / temperature (temperature scaling, Guo et al. 2017), computed with the maximum subtracted so
// large logits cannot overflow. One implementation for the model's predictions and the lab model's head.
export function softmaxWithTemperature(logits: ArrayLike<number>, temperature: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps: number[] = [];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i]! - max) / temperature);
    exps.push(e);
    sum += e;
  }
  return exps.map((e) => e / sum);
}
