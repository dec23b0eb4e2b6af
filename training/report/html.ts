/**
 * @module report.html: one self-contained page (inline CSS and SVG, thumbnails as data: URIs, no script, no
 * network) with the confusion matrix, ROC curves, the P/R/F1 table, training curves and the worst mistakes.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../model-folder/files.js';
import type { ClassificationMetrics } from '../evaluate/metrics.js';

export interface WorstMistake {
  path: string;
  truth: string;
  predicted: string;
  confidence: number;
  /** Grad-CAM of the predicted class over the image (PNG), when the run could compute it. */
  heatmap?: Uint8Array;
}

export interface ReportInput {
  title: string;
  /** Which split the figures and mistakes are from ('test' when the run had one, else 'validation'). */
  split: 'test' | 'validation';
  labels: string[];
  metrics: ClassificationMetrics;
  accuracyFp32: number;
  agreement: number;
  history: Array<{ stage: number; epoch: number; loss: number; accuracy: number; val_loss: number; val_accuracy: number }>;
  worst: WorstMistake[];
  readImage: (path: string) => Promise<Uint8Array>;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** A line chart: each series is a list of [x, y] in data units, drawn into a 320×220 SVG. */
export function lineChart(series: Array<{ name: string; points: Array<[number, number]> }>, o: { xMax: number; yMax: number; xLabel: string; yLabel: string; legend?: 'top' | 'bottom' }): string {
  const [w, h, pad] = [320, 220, 34];
  const sx = (x: number) => pad + (x / (o.xMax || 1)) * (w - pad - 10);
  const sy = (y: number) => h - pad - (y / (o.yMax || 1)) * (h - pad - 10);
  const lines = series
    .map((s, i) => `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${escape(s.name)}</title></polyline>`)
    .join('');
  // ROC curves hug the top left: their legend goes bottom right, out of the way.
  const legendY = (i: number) => (o.legend === 'bottom' ? h - pad - 6 - (series.length - 1 - i) * 14 : 24 + i * 14);
  const legend = series.map((s, i) => `<text x="${w - 14}" y="${legendY(i)}" text-anchor="end" fill="${COLOURS[i % COLOURS.length]}">${escape(s.name)}</text>`).join('');
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img"><rect x="${pad}" y="10" width="${w - pad - 10}" height="${h - pad - 10}" fill="#fafafa" stroke="#ccc"/>${lines}${legend}<text x="${w / 2}" y="${h - 6}" text-anchor="middle">${escape(o.xLabel)}</text><text x="10" y="${h / 2}" transform="rotate(-90 10 ${h / 2})" text-anchor="middle">${escape(o.yLabel)}</text><text x="${pad}" y="${h - pad + 14}" text-anchor="middle">0</text><text x="${w - 10}" y="${h - pad + 14}" text-anchor="end">${o.xMax}</text><text x="${pad - 4}" y="14" text-anchor="end">${o.yMax.toFixed(2)}</text></svg>`;
}

function confusionTable(labels: string[], matrix: number[][]): string {
  const max = Math.max(1, ...matrix.flat());
  const head = `<tr><th>true ↓ / predicted →</th>${labels.map((l) => `<th>${escape(l)}</th>`).join('')}</tr>`;
  const rows = matrix.map((row, i) => `<tr><th>${escape(labels[i]!)}</th>${row.map((v, j) => `<td style="background:rgba(${i === j ? '44,160,44' : '214,39,40'},${(v / max).toFixed(2)})">${v}</td>`).join('')}</tr>`).join('');
  return `<table class="cm">${head}${rows}</table>`;
}

async function thumbnail(bytes: Uint8Array): Promise<string> {
  const jpeg = await sharp(bytes).rotate().resize(96, 96, { fit: 'inside' }).flatten({ background: '#ffffff' }).jpeg({ quality: 80 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

export async function renderReport(r: ReportInput): Promise<string> {
  const m = r.metrics;
  const prf = r.labels
    .map((l, i) => {
      const c = m.per_class[i]!;
      return `<tr><th>${escape(l)}</th><td>${c.precision.toFixed(3)}</td><td>${c.recall.toFixed(3)}</td><td>${c.f1.toFixed(3)}</td><td>${Number.isNaN(c.roc_auc) ? '–' : c.roc_auc.toFixed(3)}</td><td>${c.support}</td></tr>`;
    })
    .join('');
  const roc = lineChart(
    r.labels.map((l, i) => ({ name: `${l} (AUC ${Number.isNaN(m.per_class[i]!.roc_auc) ? '–' : m.per_class[i]!.roc_auc.toFixed(2)})`, points: m.roc_curves[i]! })),
    { xMax: 1, yMax: 1, xLabel: 'false positive rate', yLabel: 'true positive rate', legend: 'bottom' },
  );
  const epochs = r.history.map((h, i) => ({ ...h, x: i + 1 }));
  const xMax = Math.max(1, epochs.length);
  const lossMax = Math.max(0.1, ...epochs.flatMap((h) => [h.loss, h.val_loss]).filter(Number.isFinite));
  const lossChart = lineChart([{ name: 'loss', points: epochs.map((h) => [h.x, h.loss]) }, { name: 'val_loss', points: epochs.map((h) => [h.x, h.val_loss]) }], { xMax, yMax: lossMax, xLabel: 'epoch (both stages)', yLabel: 'loss' });
  const accChart = lineChart([{ name: 'accuracy', points: epochs.map((h) => [h.x, h.accuracy]) }, { name: 'val_accuracy', points: epochs.map((h) => [h.x, h.val_accuracy]) }], { xMax, yMax: 1, xLabel: 'epoch (both stages)', yLabel: 'accuracy' });
  const mistakes: string[] = [];
  for (const w of r.worst) {
    const src = await thumbnail(await r.readImage(w.path)).catch(() => null);
    const heat = w.heatmap ? `<img src="data:image/png;base64,${Buffer.from(w.heatmap).toString('base64')}" alt="Grad-CAM of the predicted class">` : '';
    mistakes.push(`<figure>${src ? `<img src="${src}" alt="">` : ''}${heat}<figcaption>${escape(w.truth)} → <b>${escape(w.predicted)}</b> ${pct(w.confidence)}<br><small>${escape(w.path.split('/').slice(-2).join('/'))}</small></figcaption></figure>`);
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(r.title)} — training report</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}section{margin:1.5em 0}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
.cm td{min-width:3em;text-align:center}.charts{display:flex;flex-wrap:wrap;gap:1em}svg text{font-size:10px}figure{display:inline-block;margin:4px;width:200px;font-size:12px}img{max-width:96px;max-height:96px}
</style></head><body><h1>${escape(r.title)}</h1>
<p>${r.split === 'test' ? 'Test split (no choice saw it)' : 'Validation split (it chose the best epoch: optimistic; give a test split for an unbiased figure)'}: ${m.confusion_matrix.flat().reduce((a, b) => a + b, 0)} images · top-1 int8 <b>${pct(m.top1)}</b> · fp32 ${pct(r.accuracyFp32)} · fp32↔int8 agreement ${pct(r.agreement)} · macro F1 ${m.macro_f1.toFixed(3)}</p>
<section><h2>Confusion matrix (int8)</h2>${confusionTable(r.labels, m.confusion_matrix)}</section>
<section><h2>Precision, recall, F1</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>ROC AUC</th><th>support</th></tr>${prf}</table></section>
<section class="charts"><div><h2>ROC (one vs rest)</h2>${roc}</div><div><h2>Loss</h2>${lossChart}</div><div><h2>Accuracy</h2>${accChart}</div></section>
<section><h2>Worst mistakes</h2><p><small>Each with its Grad-CAM for the predicted class (float model, last block output with room for a place): where the evidence it answered from lies.</small></p>${mistakes.length ? mistakes.join('') : `<p>None: every ${r.split} image is classified correctly.</p>`}</section>
</body></html>
`;
}

export async function writeReport(path: string, r: ReportInput): Promise<void> {
  await writeFileAtomic(path, await renderReport(r));
}
