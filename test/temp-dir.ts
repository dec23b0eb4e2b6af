import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/**
 * A fresh folder under the OS temp dir, removed when the test that made it finishes, pass or fail. Tests write
 * models, checkpoints and whole training runs (0.5 GB for the train e2e); left behind, a few dozen runs filled
 * a CI machine's disk.
 */
export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The same for a folder made in `beforeAll`, shared by a file's tests: removed after the last of them. */
export function suiteDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
