/**
 * @module Downloading pretrained weights once: streamed to a temporary file, size and digest checked, then
 * renamed into the cache. A failed or tampered download leaves nothing behind; a cached file is re-checked.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface PinnedFile {
  url: string;
  /** Expected digest, hex, and its algorithm (the upstream pin). */
  digest: string;
  algorithm: 'sha256' | 'md5';
  /** Size in bytes, where upstream states it (checked first: a cheap test before hashing). */
  bytes?: number;
  fileName: string;
}

/**
 * keras-applications' ResNet50 ImageNet weights without the top. Keras pins this file by md5 (and its size
 * is fixed); that is the only published checksum, so it is the one we verify.
 */
export const KERAS_RESNET50_NOTOP: PinnedFile = {
  url: 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
  digest: '4d473c1dd8becc155b73f8504c6f6626',
  algorithm: 'md5',
  bytes: 94_765_736,
  fileName: 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
};

/**
 * keras-applications' ResNet50 ImageNet weights with the top (the 1000-class Dense `predictions`): pinned by
 * Keras' md5 for it (`WEIGHTS_HASHES['resnet50'][0]` in keras/applications/resnet.py). Keras states no size.
 */
export const KERAS_RESNET50_TOP: PinnedFile = {
  url: 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5',
  digest: '2cb95161c43110f7111970584f804107',
  algorithm: 'md5',
  fileName: 'resnet50_weights_tf_dim_ordering_tf_kernels.h5',
};

/** The same for ResNet101 and ResNet152 (Keras' `WEIGHTS_HASHES['resnet101'|'resnet152'][0]`), by depth. */
export const KERAS_RESNET_TOP: Record<50 | 101 | 152, PinnedFile> = {
  50: KERAS_RESNET50_TOP,
  101: { ...KERAS_RESNET50_TOP, url: KERAS_RESNET50_TOP.url.replace('resnet50_', 'resnet101_'), fileName: 'resnet101_weights_tf_dim_ordering_tf_kernels.h5', digest: 'f1aeb4b969a6efcfb50fad2f0c20cfc5' },
  152: { ...KERAS_RESNET50_TOP, url: KERAS_RESNET50_TOP.url.replace('resnet50_', 'resnet152_'), fileName: 'resnet152_weights_tf_dim_ordering_tf_kernels.h5', digest: '100835be76be38e30d865e96f2aaae62' },
};

export const weightsCacheDir = () => process.env.EDGE_RESNET_CACHE ?? join(homedir(), '.cache', 'edge-resnet', 'weights');

export class ChecksumError extends Error {
  readonly code = 'checksum_mismatch';
}

async function digestOf(path: string, algorithm: PinnedFile['algorithm']): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Returns the cached file's path, downloading it first when absent or damaged. */
export async function fetchPinned(file: PinnedFile, cacheDir = weightsCacheDir(), log: (s: string) => void = () => {}): Promise<string> {
  const target = join(cacheDir, file.fileName);
  const cached = await stat(target).catch(() => null);
  const sizeFits = (size: number) => file.bytes === undefined || size === file.bytes;
  if (cached && sizeFits(cached.size) && (await digestOf(target, file.algorithm)) === file.digest) return target;
  if (cached) log(`cached ${target} does not match its checksum: downloading again`);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.part-${process.pid}`;
  try {
    log(`downloading ${file.url}`);
    const response = await fetch(file.url);
    if (!response.ok || !response.body) throw new Error(`download of ${file.url} failed: HTTP ${response.status}`);
    const hash = createHash(file.algorithm);
    let received = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
    });
    await pipeline(body, createWriteStream(tmp));
    const digest = hash.digest('hex');
    if (!sizeFits(received) || digest !== file.digest) {
      throw new ChecksumError(`${file.url}: got ${received} bytes with ${file.algorithm} ${digest}, expected ${file.bytes === undefined ? '' : `${file.bytes} bytes with `}${file.digest}`);
    }
    await rename(tmp, target);
    return target;
  } finally {
    await rm(tmp, { force: true });
  }
}
