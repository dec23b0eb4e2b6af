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
import { buildDefaultModel } from '../../training/default-model.js';
import { predictAll } from '../../training/evaluate.js';
import { writeFileAtomic, writeJsonAtomic } from '../../training/files.js';

/** Two small images and onnxruntime-node's scores for them: the independent reference for workerd's ORT. */
async function writeFixtures(dir: string) {
  const random = seededRandom(99);
  const circle = drawShape('circle', 96, random);
  const star = drawShape('star', 80, random);
  const raw = (img: typeof circle) => sharp(img.rgba, { raw: { width: img.width, height: img.height, channels: 4 } });
  const files = { 'circle.jpg': await raw(circle).jpeg({ quality: 90 }).toBuffer(), 'star.png': await raw(star).png().toBuffer() };
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const expected: Record<string, number[]> = {};
  for (const [name, bytes] of Object.entries(files)) {
    await writeFileAtomic(join(dir, 'fixtures', name), bytes);
    const tensor = preprocessImage(decodeImage(new Uint8Array(bytes), undefined, { for: manifest.preprocess }), manifest.preprocess);
    const { scores } = await predictAll(join(dir, manifest.file), [tensor], manifest.preprocess, manifest.output.kind);
    expected[name] = Array.from(scores[0]!);
  }
  await writeJsonAtomic(join(dir, 'fixtures', 'expected.json'), expected);
}

export const TEST_MODEL_DIR = '.cache/test-model';

let server: Server | null = null;

export default async function setup(project: TestProject) {
  await buildDefaultModel({ out: TEST_MODEL_DIR, fast: true, force: false, bench: false, log: (l) => console.log(`[test model] ${l}`) });
  await writeFixtures(TEST_MODEL_DIR);
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(TEST_MODEL_DIR, path));
      res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  project.provide('modelBaseUrl', `http://127.0.0.1:${port}`);
  project.provide('testModelDir', TEST_MODEL_DIR);
  return async () => {
    await new Promise((resolve) => server?.close(resolve));
  };
}
