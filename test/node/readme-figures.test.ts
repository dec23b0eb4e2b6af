/**
 * The README's performance section quotes the committed results files, not older runs: each figure listed here
 * must appear in that section exactly as the file has it (so regenerating bench.json without updating the
 * README fails this test). Only the section's headline figures are listed; docs/ keep their own dated runs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const section = readme.slice(readme.indexOf('## Performance and cost'), readme.indexOf('\n## ', readme.indexOf('## Performance and cost') + 1));
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const bench = json('bench/results/bench.json') as Record<string, number>;
const cold = (json('bench/results/cold-start.json') as { summary: Record<string, Record<string, number>> }).summary;

/** The ways the README writes a number: 1,283.8 / 1283.8, and 48 as 48.0 when it is a size. */
function spellings(value: number): string[] {
  const plain = String(value);
  const grouped = value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return [...new Set([plain, grouped, value.toFixed(1), Number.isInteger(value) ? value.toLocaleString('en-US', { minimumFractionDigits: 1 }) : grouped])];
}
const quoted = (value: number) => spellings(value).some((s) => new RegExp(`(^|[^0-9.,])${s.replace(/[.$]/g, '\\$&')}([^0-9]|$)`).test(section));

describe('README performance figures', () => {
  it('has the section', () => {
    expect(section.length).toBeGreaterThan(500);
  });

  const benchKeys = [
    'ort_web_infer_ms', 'ort_web_node_int8_ms', 'ort_web_node_int8_prepack_ms', 'infer_workerd_vs_node', 'e2e_warm_p50_ms', 'cpu_ms_per_request',
    'usd_per_million', 'cold_start_ms', 'r2_read_ms', 'session_create_ms', 'first_inference_ms', 'wasm_heap_mb', 'isolate_at_rest_mb',
    'peak_memory_mb_12mp', 'default_model_infer_ms', 'default_model_e2e_p50_ms', 'default_model_cpu_ms_per_request',
    'default_model_usd_per_million', 'default_model_cold_start_ms', 'native_1t_ms',
  ];
  for (const key of benchKeys) {
    it(`quotes bench.json's ${key}`, () => {
      expect(typeof bench[key], `${key} is in bench/results/bench.json`).toBe('number');
      expect(quoted(bench[key]!), `README's performance section should quote ${key} = ${bench[key]} (re-run made the README stale?)`).toBe(true);
    });
  }

  for (const [form, key] of [['pre-optimised', 'cold_start_ms_median'], ['plain', 'cold_start_ms_median'], ['pre-optimised', 'wasm_heap_mb_median'], ['plain', 'wasm_heap_mb_median']] as const) {
    it(`quotes cold-start.json's ${form} ${key}`, () => {
      expect(quoted(cold[form]![key]!), `${form} ${key} = ${cold[form]![key]}`).toBe(true);
    });
  }

  it('would notice a figure that is not there (the check can fail)', () => {
    expect(quoted(987654.3)).toBe(false);
    expect(quoted(bench.ort_web_infer_ms! + 0.7)).toBe(false);
  });
});

/** The accuracy the README states is the default model's test split, as the build wrote it; validation is named as such. */
describe('README accuracy figures', () => {
  const report = json('bench/results/default-model.json') as { model: string; metrics: Record<string, number>; training: { seconds: number } | null };
  const status = readme.slice(readme.indexOf('Status:'), readme.indexOf('\n\n', readme.indexOf('Status:')));
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

  it('quotes the test split (ours and librsvg), int8, and names validation apart', () => {
    expect(report.model).not.toMatch(/-fast$/); // the full build's report, not the test model's
    for (const key of ['test_top1_int8', 'test_svg_top1_int8', 'validation_top1_int8', 'validation_svg_top1_int8']) {
      expect(typeof report.metrics[key], key).toBe('number');
      expect(status, `README status should quote ${key} = ${percent(report.metrics[key]!)}`).toContain(percent(report.metrics[key]!));
    }
    expect(status).toMatch(/test split/);
    expect(status).toMatch(/validation split/);
    expect(status.indexOf(percent(report.metrics.test_top1_int8!))).toBeLessThan(status.indexOf('validation'));
  });

  it("quotes the fresh-clone start time it was measured at (bench/results/fresh-start.json)", () => {
    const fresh = json('bench/results/fresh-start.json') as { npm_ci_seconds: number; npm_start_first_answer_seconds: number; ci_run_seconds: number };
    const text = readme.replace(/\s+/g, ' ');
    expect(text).toContain(`\`npm ci\` took ${fresh.npm_ci_seconds} s`);
    expect(text).toContain(`answered its first request after ${fresh.npm_start_first_answer_seconds.toLocaleString('en-US')} s`);
    expect(text).toContain(`\`bash .ci/run\` took ${fresh.ci_run_seconds} s`);
  });

  it("quotes the build's training time", () => {
    expect(readme.replace(/\s+/g, ' ')).toContain(`training alone took ${report.training!.seconds.toLocaleString('en-US', { maximumFractionDigits: 0 })} s`);
  });

  it('would notice a wrong accuracy (the check can fail)', () => {
    expect(status).not.toContain(percent(report.metrics.test_top1_int8! + 0.013));
  });
});

/** The README's GPU training figure is the last GPU run's, with its file named beside it. */
describe('README GPU figure', () => {
  it('quotes gpu-check-h200.json’s images/s at batch 32, and names the file', () => {
    const run = json('bench/results/gpu-check-h200.json') as { gpu: { batch: number; imagesPerSecond: number } };
    expect(run.gpu.batch).toBe(32);
    expect(readme).toContain(`${run.gpu.imagesPerSecond.toFixed(1)} images/s (224 px, batch 32`);
    expect(readme).toContain('bench/results/gpu-check-h200.json');
  });
});

/** "Bring your model" quotes the committed run of bench/import-agreement.ts. */
describe('README import figures', () => {
  const d = json('bench/results/import-agreement.json') as { heldout_images: number; rows: Array<{ source: string; agreement_with_pytorch_png: number; agreement_with_pytorch_jpeg: number; accuracy_worker_png: number; accuracy_pytorch_png: number }>; hf_and_onnx_same_answers: number };
  const byo = readme.slice(readme.indexOf('## Bring your model'), readme.indexOf('\n## ', readme.indexOf('## Bring your model') + 1));
  const flat = byo.replace(/\s+/g, ' ');
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

  it("quotes the torch.onnx.export row's agreement with PyTorch and both accuracies", () => {
    const onnx = d.rows.find((r) => r.source === 'torch.onnx.export')!;
    for (const value of [onnx.agreement_with_pytorch_png, onnx.agreement_with_pytorch_jpeg, onnx.accuracy_worker_png, onnx.accuracy_pytorch_png]) expect(flat).toContain(percent(value));
    expect(flat).toContain(`${d.heldout_images} held-out images`);
  });

  it("quotes the pruned row's accuracies and GMAC ratio", () => {
    const pruned = d.rows.find((r) => r.source.includes('pruned')) as { accuracy_worker_png: number; accuracy_worker_jpeg: number; gmac: { before: number; after: number } } | undefined;
    expect(pruned, 'the run has a pruned row').toBeDefined();
    expect(flat).toContain(`${percent(pruned!.accuracy_worker_png).replace(' %', '')} % / ${percent(pruned!.accuracy_worker_jpeg)}`);
    expect(flat).toContain(`${(pruned!.gmac.after / pruned!.gmac.before).toFixed(2)}× the GMAC`);
  });

  it('says the Hugging Face folder gives the same answers only when the run says so', () => {
    expect(flat.includes('the same weights as a Hugging Face folder give the same answers')).toBe(d.hf_and_onnx_same_answers === 1);
  });
});

describe("README's price of each lever (bench/results/price.json, bench/results/prune-accuracy*.json)", () => {
  const price = json('bench/results/price.json') as { host: { ort_web_node_ms: number; committed_bench_ort_web_node_ms: number }; rows: Array<{ keep: number; keep_stream?: number; input: number; gmac: number; cpu_ms_per_request: number; usd_per_million: number }> };
  // The run the README quotes for each pruned variant (older runs of the same keep: BENCHMARKS.md, docs/pipeline.md).
  const quotedRuns: Array<[file: string, keep: number]> = [['prune-accuracy.json', 0.75], ['prune-accuracy-distill-6.json', 0.5], ['prune-accuracy-stream.json', 0.25]];
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
  const row = (input: number, keep: number, stream = 1) => section.split('\n').find((l) => l.startsWith(`| ${input} px, keep ${keep}${stream < 1 ? `, stream ${stream}` : ''} |`));

  it('has a row per variant of the run, with its GMAC, CPU-ms and price as the file has them', () => {
    for (const r of price.rows) {
      const line = row(r.input, r.keep, r.keep_stream);
      expect(line, `${r.input} px, keep ${r.keep}, stream ${r.keep_stream}`).toBeDefined();
      for (const v of [String(r.gmac), String(r.cpu_ms_per_request), `$${r.usd_per_million.toFixed(2)}`]) expect(line, `${r.input} px, keep ${r.keep}: ${v}`).toContain(v);
    }
    expect(section).toContain(`${price.host.ort_web_node_ms} against ${price.host.committed_bench_ort_web_node_ms} ms`);
  });

  it('quotes the served top-1 and fine-tuning minutes of each pruned default model beside its variant at 224 px, and the unpruned one', () => {
    for (const [file, keep] of quotedRuns) {
      const run = json(`bench/results/${file}`) as { rows: Array<{ keep: number; keep_stream?: number; http_top1_all: number; prune_minutes?: number }> };
      const pruned = run.rows.find((r) => r.keep === keep);
      expect(pruned, `${file} has keep ${keep}`).toBeDefined();
      const line = row(224, keep, pruned!.keep_stream);
      expect(line, `${file}: keep ${keep}`).toContain(percent(pruned!.http_top1_all));
      expect(line, `${file}: keep ${keep}`).toContain(`${pruned!.prune_minutes} min`);
      expect(row(224, 1), `${file}: unpruned`).toContain(percent(run.rows.find((r) => r.keep === 1)!.http_top1_all));
    }
  });

  it('would notice a price that is not the file’s (the check can fail)', () => {
    expect(row(224, 0.123)).toBeUndefined();
    expect(section).not.toContain('$123.45');
  });
});

describe("README's batch-job figures (bench/results/batch.json)", () => {
  const batch = json('bench/results/batch.json') as { job: { images_per_second: number; workerd_cpu_ms_per_image: number; counts: { failed: number } }; predict: { workerd_cpu_ms_per_image: number }; usd_per_million_images: { total: number; r2_class_b: number }; agreement: { good_images_compared: number; equal_to_predict: number } };

  it('quotes the run’s rate, CPU per image (job and /predict), failures and price per million images', () => {
    for (const value of [batch.job.images_per_second, batch.job.workerd_cpu_ms_per_image, batch.predict.workerd_cpu_ms_per_image, batch.job.counts.failed]) expect(quoted(value), String(value)).toBe(true);
    expect(section).toContain(`$${batch.usd_per_million_images.total.toFixed(2)} per million images`);
    expect(section).toContain(`$${batch.usd_per_million_images.r2_class_b.toFixed(2)} of it R2 reads`);
  });

  it('quotes the 224 px run’s rate, CPU per image and price (bench/results/batch-224.json)', () => {
    const run = json('bench/results/batch-224.json') as { job: { images_per_second: number; workerd_cpu_ms_per_image: number }; usd_per_million_images: { total: number } };
    expect(section).toContain(`${run.job.images_per_second} images/s, ${run.job.workerd_cpu_ms_per_image} CPU-ms per image, $${run.usd_per_million_images.total.toFixed(2)} per million`);
  });

  it('says every answer equals /predict’s only when the run says so', () => {
    expect(batch.agreement.equal_to_predict === batch.agreement.good_images_compared).toBe(section.includes("every answer equal to /predict's"));
  });
});
