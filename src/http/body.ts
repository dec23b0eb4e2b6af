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

/**
 * The image bytes of a /predict request: multipart/form-data field `image` (the Flask recipe's contract), or
 * the raw body. The format is decided later from magic bytes, never from these headers.
 */
export async function extractImage(request: Request, limit: number): Promise<Uint8Array> {
  const contentType = request.headers.get('content-type') ?? '';
  const body = await readBodyCapped(request, limit);
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    if (body.byteLength === 0) throw new ApiError(400, 'missing_image', 'send the image as the request body or as multipart field "image"');
    return body;
  }
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid_multipart', 'the multipart/form-data body could not be parsed');
  }
  const field = form.get('image');
  if (field === null) throw new ApiError(400, 'missing_image', 'the multipart body has no "image" field');
  if (typeof field === 'string') throw new ApiError(400, 'missing_image', 'the "image" field must be a file, not text');
  const bytes = new Uint8Array(await field.arrayBuffer());
  if (bytes.byteLength === 0) throw new ApiError(400, 'missing_image', 'the "image" file is empty');
  return bytes;
}
