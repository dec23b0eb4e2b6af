/**
 * `npx tsx bench/corpus.ts [--url http://127.0.0.1:8787]`: posts every file of ../shared/corpora to a running
 * Worker's /predict (multipart and raw, alternating) and prints outcome counts by status and code, contract
 * violations, and the slowest files. Exits 1 on any violation (a 5xx, a non-JSON answer, a leaked path).
 */
import { corpusFiles } from './lib/corpus-files.js';
import { postCorpus } from './lib/corpus-post.js';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const report = await postCorpus(arg('--url', 'http://127.0.0.1:8787'), corpusFiles(), Number(arg('--concurrency', '4')));
console.log(JSON.stringify(report, null, 2));
process.exitCode = report.violations.length ? 1 : 0;
