/** @module Posts corpus files to a running Worker's /predict and tallies what comes back. */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CORPORA_DIR } from './corpus-files.js';

export interface CorpusReport {
  files: number;
  /** "200", "415 unsupported_format", … → count. */
  outcomes: Record<string, number>;
  /** Answers that break the contract: 5xx, non-JSON, unknown shape, leaked internals. */
  violations: string[];
  slowest: Array<{ file: string; ms: number; outcome: string }>;
}

const ALLOWED = new Set([200, 400, 413, 415, 422]);
/** What must never appear in an answer: server paths, stack frames. */
const LEAK = /\/work\/|node_modules|\bat [\w$.<>]+ \(|\.ts:\d+/;

/** Posts each file (alternating multipart and raw bodies), `concurrency` at a time. */
export async function postCorpus(base: string, files: string[], concurrency = 4): Promise<CorpusReport> {
  const report: CorpusReport = { files: files.length, outcomes: {}, violations: [], slowest: [] };
  const times: Array<{ file: string; ms: number; outcome: string }> = [];
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      const bytes = await readFile(join(CORPORA_DIR, file));
      let body: Buffer | FormData = bytes;
      if (index % 2 === 0) {
        body = new FormData();
        body.set('image', new Blob([bytes]), basename(file));
      }
      const started = performance.now();
      const res = await fetch(`${base}/predict`, { method: 'POST', body });
      const text = await res.text();
      const ms = performance.now() - started;
      let outcome = String(res.status);
      try {
        const json = JSON.parse(text) as { error?: { code?: string }; label?: string };
        if (res.status !== 200) outcome += ` ${json.error?.code}`;
        if (res.status === 200 ? typeof json.label !== 'string' : typeof json.error?.code !== 'string') report.violations.push(`${file}: unexpected body ${text.slice(0, 120)}`);
      } catch {
        report.violations.push(`${file}: ${res.status} with a non-JSON body`);
      }
      if (!ALLOWED.has(res.status)) report.violations.push(`${file}: status ${res.status} ${text.slice(0, 200)}`);
      if (LEAK.test(text)) report.violations.push(`${file}: the answer leaks internals: ${text.slice(0, 200)}`);
      report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
      times.push({ file, ms: Math.round(ms), outcome });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  report.slowest = times.sort((a, b) => b.ms - a.ms).slice(0, 10);
  return report;
}
