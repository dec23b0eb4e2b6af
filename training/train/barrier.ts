/**
 * @module A reusable barrier for worker threads on a SharedArrayBuffer (Int32 [arrived, generation]): the last
 * party to arrive resets the count and bumps the generation; the others sleep on the generation word.
 */

export const BARRIER_BYTES = 8;

export function arriveAndWait(words: Int32Array, parties: number, timeoutMs = 600_000): void {
  const generation = Atomics.load(words, 1);
  if (Atomics.add(words, 0, 1) === parties - 1) {
    Atomics.store(words, 0, 0);
    Atomics.add(words, 1, 1);
    Atomics.notify(words, 1);
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(words, 1) === generation) {
    const left = deadline - Date.now();
    // A party that died never arrives: give up rather than sleep forever.
    if (left <= 0 || Atomics.wait(words, 1, generation, left) === 'timed-out') throw new Error(`barrier: the other ${parties - 1} worker(s) did not arrive within ${timeoutMs} ms`);
  }
}
