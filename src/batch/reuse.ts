/** @module Which answers of an earlier run a rerun may take as they are. */
import { isErrorLine, TRANSIENT_LINE_CODES, type ListedObject, type ResultLine } from './types.js';

/**
 * An earlier line answers `object` again when it is for the same content (etag) and the same model: a label
 * names its model; an image's own error (corrupt, too large…) holds for the model the earlier run served. Lines
 * of a failure around the image (a chunk that failed every retry, an object deleted meanwhile) never do.
 */
export function reusable(line: ResultLine | undefined, object: ListedObject, modelSha: string, earlierModelSha: string): line is ResultLine {
  if (!line || line.key !== object.key || line.etag !== object.etag) return false;
  if (isErrorLine(line)) return !TRANSIENT_LINE_CODES.has(line.error.code) && earlierModelSha === modelSha;
  return line.model.sha256 === modelSha;
}

/** A result part's lines (JSONL) by key. */
export function linesByKey(jsonl: string, into: Map<string, ResultLine> = new Map()): Map<string, ResultLine> {
  for (const text of jsonl.split('\n')) {
    if (!text) continue;
    const line = JSON.parse(text) as ResultLine;
    into.set(line.key, line);
  }
  return into;
}
