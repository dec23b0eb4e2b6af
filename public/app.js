// The page at `/`: choose or drop an image; the browser downscales it (long side ≤ 1024 px) before upload,
// to save bandwidth and isolate memory; the top-5 come back as bars with confidence and timing.
// Self-contained: no CDN, no framework, served as a static asset by the Worker.
/** Longest side the browser sends; larger images are redrawn on a canvas first (bandwidth, isolate memory). */
const MAX_SIDE = 1024;
const $ = (id) => document.getElementById(id);

/** What each error code means, in words; the server's own message is the fallback. */
const WORDS = {
  missing_image: 'No image was sent.',
  unsupported_format: 'That file is not a JPEG or PNG image.',
  unsupported_image_variant: 'That kind of JPEG or PNG is not supported.',
  corrupt_image: 'The image file is damaged and could not be read.',
  truncated_image: 'The image file is incomplete (cut off before its end): upload it again.',
  image_too_large: 'The image is too large to process.',
  body_too_large: 'The file is too large to upload.',
  model_unavailable: 'The model is not available right now. Try again shortly.',
  unauthorized: 'This server needs an API key; the page cannot send one.',
};

/** Below this top score the page says in words that the model is unsure (it always answers one of its labels). */
const UNSURE_BELOW = 0.6;
let knownLabels = [];

fetch('/v1/models').then((r) => r.json()).then((body) => {
  const m = body.models && body.models[0];
  if (m) knownLabels = m.labels;
  $('model').textContent = m ? 'Model ' + m.name + ' ' + m.version + ': ' + m.labels.length + ' labels (' + m.labels.slice(0, 8).join(', ') + (m.labels.length > 8 ? ', …' : '') + ')' : '';
  if (m && m.endpoints) showEndpoints(m);
}).catch(() => { $('model').textContent = ''; });

/** Every protocol the server speaks for this model, as the server itself lists them (/v1/models). */
function showEndpoints(m) {
  const e = m.endpoints;
  const items = [
    ['POST ' + e.predict, 'multipart field "image" (repeat it for up to ' + m.max_batch + ' images) or the raw file'],
    ['POST ' + e.v2_infer, 'Open Inference Protocol (KServe V2): input "image", BYTES [N], base64 files'],
    ['POST ' + e.workers_ai, "Workers AI's REST path: the cloudflare SDK's client.ai.run('" + e.workers_ai_binding.model + "', …) with this server as its baseURL"],
    ['service binding, entrypoint "' + e.workers_ai_binding.entrypoint + '"', "env.AI.run('" + e.workers_ai_binding.model + "', { image }) from another Worker"],
    ['POST ' + e.batch_jobs, 'a batch job: {"prefix": "photos/2026/"} classifies every image under that prefix of the IMAGES bucket; follow it at GET ' + e.batch_jobs + '/{id}, results as JSONL at ' + e.batch_jobs + '/{id}/results (npm run pipeline -- batch does it all from a folder)'],
  ];
  $('endpoints').replaceChildren(...items.map(([where, what]) => {
    const li = document.createElement('li');
    const code = document.createElement('code'); code.textContent = where;
    li.append(code, document.createTextNode(': ' + what));
    return li;
  }));
  $('api').hidden = false;
}

// The served model's own example images: one click classifies one.
fetch('/v1/examples').then((r) => (r.ok ? r.json() : null)).then((body) => {
  if (!body || body.examples.length === 0) return;
  $('example-list').replaceChildren(...body.examples.map((e) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.title = 'Classify this ' + e.label;
    const img = document.createElement('img'); img.src = e.url; img.alt = 'an example: ' + e.label;
    button.append(img, document.createTextNode(e.label));
    button.addEventListener('click', async () => {
      const blob = await (await fetch(e.url)).blob();
      classify(new File([blob], 'example-' + e.label, { type: blob.type }));
    });
    return button;
  }));
  $('examples').hidden = false;
}).catch(() => {});

/** The file itself when it is small enough; otherwise a JPEG redrawn with its long side at MAX_SIDE. */
async function downscale(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale === 1) { bitmap.close(); return { blob: file, width: bitmap.width, height: bitmap.height, resized: false }; }
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; // the server composites transparency on white too
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  return { blob, width, height, resized: true };
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
  $('result').hidden = true;
}

function showResult(body) {
  $('label').textContent = body.label;
  $('confidence').textContent = (body.confidence * 100).toFixed(1) + ' %';
  const unsure = body.confidence < UNSURE_BELOW;
  $('unsure').hidden = !unsure;
  $('unsure').textContent = unsure ? 'Not sure: the model is only ' + (body.confidence * 100).toFixed(0) + ' % confident. It knows only ' + (knownLabels.length ? knownLabels.join(', ') : 'its own labels') + ', and answers one of them for any image; this may be none of them.' : '';
  const list = $('top');
  list.replaceChildren(...body.top.map((t) => {
    const li = document.createElement('li');
    const name = document.createElement('span'); name.className = 'name'; name.textContent = t.label;
    const bar = document.createElement('span'); bar.className = 'bar';
    const fill = document.createElement('span'); fill.style.width = (t.score * 100).toFixed(1) + '%'; bar.append(fill);
    const score = document.createElement('span'); score.className = 'score'; score.textContent = (t.score * 100).toFixed(1) + ' %';
    li.append(name, bar, score);
    return li;
  }));
  const t = body.timing;
  $('timing').textContent = 'Server: ' + t.total_ms + ' ms (decode ' + t.decode_ms + ', preprocess ' + t.preprocess_ms + ', inference ' + t.inference_ms + ' ms)';
  $('result').hidden = false;
}

async function classify(file) {
  $('error').hidden = true;
  $('result').hidden = true;
  $('status').textContent = 'Preparing the image…';
  let upload;
  try {
    upload = await downscale(file);
  } catch {
    upload = { blob: file, resized: false }; // the browser cannot read it: let the server say why
  }
  $('image').src = URL.createObjectURL(upload.blob);
  $('preview').hidden = false;
  $('sent').textContent = upload.resized ? 'Sent at ' + upload.width + '×' + upload.height + ' (' + Math.round(upload.blob.size / 1024) + ' KiB)' : 'Sent as is (' + Math.round(file.size / 1024) + ' KiB)';
  $('status').textContent = 'Classifying…';
  const form = new FormData();
  form.append('image', upload.blob, file.name);
  const started = performance.now();
  try {
    const response = await fetch('/predict', { method: 'POST', body: form });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const code = body && body.error && body.error.code;
      showError(WORDS[code] || (String(code).startsWith('model_') ? WORDS.model_unavailable : '') || (body && body.error && body.error.message) || 'The server answered ' + response.status + '.');
      $('status').textContent = '';
      return;
    }
    showResult(body);
    $('status').textContent = 'Done in ' + Math.round(performance.now() - started) + ' ms round trip.';
  } catch {
    showError('The server could not be reached.');
    $('status').textContent = '';
  }
}

$('file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) classify(f); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer.files[0]; if (f) classify(f); });
