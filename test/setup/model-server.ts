/**
 * Global setup (runs in Node): builds the fast variant of the default model once (a real ResNet50, trained
 * a few steps: servable, not accurate) and serves its folder over HTTP on 127.0.0.1 so that tests inside
 * workerd can put it into their R2 bucket.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { TestProject } from 'vitest/node';
import sharp from 'sharp';
import { parseManifest } from '../../src/core/manifest.js';
import { decodeImage } from '../../src/core/image/decode.js';
import { preprocessImage } from '../../src/core/preprocess.js';
import { seededRandom } from '../../training/data/random.js';
import { drawShape } from '../../training/data/shapes.js';
import { buildDefaultModel } from '../../training/default-model/build.js';
import { predictAll } from '../../training/evaluate/evaluate.js';
import { writeFileAtomic, writeJsonAtomic } from '../../training/model-folder/files.js';
import { WORKER_SESSION_OPTIONS } from '../../training/ort/web.js';

/**
 * Two small images and their scores computed in Node: `int8`, the published int8 file through onnxruntime-web
 * with the Worker's session options (the same engine, so workerd must match it to float rounding); `fp32`, the
 * fp32 reference file through onnxruntime-node (an independent engine: int8 must stay within its error).
 */
async function writeFixtures(dir: string) {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  // Each vitest process (worker, then node) runs this setup: the second finds the fixtures made for this model
  // with these session options and keeps them.
  const made = JSON.stringify({ model: manifest.sha256, options: WORKER_SESSION_OPTIONS });
  const stamp = join(dir, 'fixtures', '.made-for.json');
  if ((await readFile(stamp, 'utf8').catch(() => null)) === made) return;
  const random = seededRandom(99);
  const circle = drawShape('circle', 96, random);
  const star = drawShape('star', 80, random);
  const raw = (img: typeof circle) => sharp(img.rgba, { raw: { width: img.width, height: img.height, channels: 4 } });
  const files = { 'circle.jpg': await raw(circle).jpeg({ quality: 90 }).toBuffer(), 'star.png': await raw(star).png().toBuffer() };
  const expected: Record<string, { int8: number[]; fp32: number[] }> = {};
  for (const [name, bytes] of Object.entries(files)) {
    await writeFileAtomic(join(dir, 'fixtures', name), bytes);
    const tensor = preprocessImage(decodeImage(new Uint8Array(bytes), undefined, { for: manifest.preprocess }), manifest.preprocess);
    const outputKind = manifest.output.kind;
    const int8 = await predictAll(join(dir, manifest.file), [tensor], manifest.preprocess, { outputKind, engine: 'wasm' });
    const fp32 = await predictAll(join(dir, manifest.reference!.file), [tensor], manifest.preprocess, { outputKind, engine: 'native' });
    expected[name] = { int8: Array.from(int8.scores[0]!), fp32: Array.from(fp32.scores[0]!) };
  }
  await writeJsonAtomic(join(dir, 'fixtures', 'expected.json'), expected);
  await writeFileAtomic(stamp, made);
}

export const TEST_MODEL_DIR = '.cache/test-model';

/**
 * Each project (worker, node) runs this setup: the first builds the model and fixtures, the second finds the
 * build stamp current and skips the work. Each gets its own server, closed by its own teardown: nothing here is
 * module state that one project's teardown could close under the other, or leave open.
 */
export default async function setup(project: TestProject) {
  await buildDefaultModel({ out: TEST_MODEL_DIR, fast: true, force: false, bench: false, log: (l) => console.log(`[test model] ${l}`) });
  await writeFixtures(TEST_MODEL_DIR);
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(TEST_MODEL_DIR, path));
      res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  project.provide('modelBaseUrl', `http://127.0.0.1:${port}`);
  project.provide('testModelDir', TEST_MODEL_DIR);
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
