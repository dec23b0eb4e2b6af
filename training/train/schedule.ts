/** @module Learning-rate schedules. */

/** Linear warm-up over `warmup` steps to `base`, then cosine decay to `final` at `total`. */
export function warmupCosine(step: number, total: number, warmup: number, base: number, final = 0): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return final + (base - final) * 0.5 * (1 + Math.cos(Math.PI * t));
}
