/**
 * Every file of ../shared/corpora posted to the real /predict route of the running Worker: valid images 200,
 * the rest a 4xx JSON error with a stable code; never a 5xx, a non-JSON answer or a leaked path; and the
 * server still answers a good request afterwards. Skipped, saying so, without the corpora.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { corpusFiles, CORPORA_DIR, hasCorpora } from '../../bench/lib/corpus-files.js';
import { postCorpus } from '../../bench/lib/corpus-post.js';
import { startWorker, type RunningWorker } from '../../bench/lib/worker-server.js';

const present = hasCorpora();
if (!present) console.warn(`corpus HTTP test skipped: ${CORPORA_DIR} is absent`);

let worker: RunningWorker;

describe.skipIf(!present)('corpus through /predict over HTTP [needs ../shared/corpora]', () => {
  beforeAll(async () => {
    worker = await startWorker(inject('testModelDir'));
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('answers every file with 200 or a coded 4xx, and keeps serving', async () => {
    const report = await postCorpus(worker.base, corpusFiles());
    console.log('corpus over HTTP', JSON.stringify({ outcomes: report.outcomes, slowest: report.slowest.slice(0, 5) }));
    expect(report.violations).toEqual([]);
    expect(report.outcomes['200']).toBeGreaterThan(1000);
    const jpeg = await readFile(join(inject('testModelDir'), 'fixtures', 'circle.jpg'));
    expect((await fetch(`${worker.base}/predict`, { method: 'POST', body: jpeg })).status).toBe(200);
  });
});
