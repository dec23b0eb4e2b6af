import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDir } from '../../test/temp-dir.js';
import { ChecksumError, fetchPinned, KERAS_RESNET50_NOTOP, type PinnedFile } from './download.js';

// A stand-in for the weights file, served by a local HTTP server (these machines have no internet).
const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
const md5 = createHash('md5').update(payload).digest('hex');
const sha256 = createHash('sha256').update(payload).digest('hex');
let server: Server;
let base: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/weights.h5') {
      res.writeHead(200, { 'content-length': payload.length });
      // Stream in chunks, as a real download arrives.
      for (let o = 0; o < payload.length; o += 65536) res.write(payload.subarray(o, o + 65536));
      res.end();
    } else if (req.url === '/tampered.h5') {
      const bad = Buffer.from(payload);
      bad[1234] ^= 0xff;
      res.end(bad);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const pinned = (over: Partial<PinnedFile>): PinnedFile => ({ url: `${base}/weights.h5`, digest: md5, algorithm: 'md5', bytes: payload.length, fileName: 'weights.h5', ...over });

describe('pinned weight download', () => {
  it('the ImageNet pin is Keras’ own (md5 and size of resnet50 …_notop.h5)', () => {
    expect(KERAS_RESNET50_NOTOP).toMatchObject({ digest: '4d473c1dd8becc155b73f8504c6f6626', algorithm: 'md5', bytes: 94_765_736 });
    expect(KERAS_RESNET50_NOTOP.url).toMatch(/^https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/resnet\/resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5$/);
  });

  it('downloads once, verifies, caches; a second call makes no request', async () => {
    const cache = testDir('dl-');
    requests = 0;
    const path = await fetchPinned(pinned({}), cache);
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(await fetchPinned(pinned({ algorithm: 'sha256', digest: sha256 }), cache)).toBe(path);
    expect(requests).toBe(1);
  });

  it('a checksum mismatch fails clearly and leaves nothing in the cache', async () => {
    const cache = testDir('dl-');
    await expect(fetchPinned(pinned({ url: `${base}/tampered.h5` }), cache)).rejects.toBeInstanceOf(ChecksumError);
    await expect(fetchPinned(pinned({ url: `${base}/tampered.h5` }), cache)).rejects.toThrow(/expected 300000 bytes with/);
    await expect(fetchPinned(pinned({ url: `${base}/missing.h5` }), cache)).rejects.toThrow(/HTTP 404/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('a damaged cached file is replaced by a fresh, verified download', async () => {
    const cache = testDir('dl-');
    writeFileSync(join(cache, 'weights.h5'), payload.subarray(0, 1000));
    requests = 0;
    const path = await fetchPinned(pinned({}), cache);
    expect(requests).toBe(1);
    expect(readFileSync(path).equals(payload)).toBe(true);
  });
});
