/** @module Reading the image out of a request without ever holding more than the configured limit. */
import { ApiError } from './errors.js';

/** Reads at most `limit` bytes: Content-Length is checked first, then the stream is counted as it arrives. */
export async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(Number(declared), limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(total, limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const tooLarge = (size: number, limit: number) => new ApiError(413, 'body_too_large', `the request body is ${size} bytes or more; the limit is ${limit}`);

/** One image of a /predict request, or why that part of it is not one (a batch answers it in its place). */
export type ImagePart = Uint8Array | ApiError;

/**
 * The images of a /predict request: the multipart/form-data field `image` (the Flask recipe's contract), once
 * or repeated for a batch of at most `maxBatch`, or the raw body. The format is decided later from magic bytes,
 * never from these headers. A single image's problem is the request's error; in a batch it is that image's.
 */
export async function extractImages(request: Request, limit: number, maxBatch: number): Promise<{ batch: boolean; images: ImagePart[] }> {
  const contentType = request.headers.get('content-type') ?? '';
  const body = await readBodyCapped(request, limit);
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    if (body.byteLength === 0) throw new ApiError(400, 'missing_image', 'send the image as the request body or as multipart field "image"');
    return { batch: false, images: [body] };
  }
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid_multipart', 'the multipart/form-data body could not be parsed');
  }
  const fields = form.getAll('image');
  if (fields.length === 0) throw new ApiError(400, 'missing_image', 'the multipart body has no "image" field');
  if (fields.length > maxBatch) throw new ApiError(400, 'batch_too_large', `${fields.length} images in one call; the limit is ${maxBatch} (MAX_BATCH)`);
  const images: ImagePart[] = [];
  for (const field of fields) {
    if (typeof field === 'string') images.push(new ApiError(400, 'missing_image', 'the "image" field must be a file, not text'));
    else {
      const bytes = new Uint8Array(await field.arrayBuffer());
      images.push(bytes.byteLength === 0 ? new ApiError(400, 'missing_image', 'the "image" file is empty') : bytes);
    }
  }
  const batch = fields.length > 1;
  if (!batch && images[0] instanceof ApiError) throw images[0];
  return { batch, images };
}
