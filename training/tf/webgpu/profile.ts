/**
 * @module Where a WebGPU training step's time goes: every dispatch of one step counted by program, and its GPU
 * time read from timestamp queries (tfjs' backend.time, which ends the compute pass after each timed dispatch,
 * so a profiled step is slower than a plain one: its wall time is not the step's; `timeSteps` gives that).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from './programs.js';

export interface ProgramProfile {
  program: string;
  dispatches: number;
  gpu_ms: number;
  share: number;
}

export interface StepProfile {
  dispatches: number;
  gpu_ms: number;
  /** Whether the adapter has timestamp queries (without them every gpu_ms is 0). */
  timestamps: boolean;
  programs: ProgramProfile[];
}

/** tfjs' programs are classes; ours are plain objects named by their shader key's first word. */
const programName = (p: WebGPUProgram) => (p.constructor.name !== 'Object' ? p.constructor.name : p.shaderKey.split('_')[0]!);

/** Profiles one call of `step` (synchronous: it records dispatches; the function awaits their timings). */
export async function profileStep(step: () => void): Promise<StepProfile> {
  // recordAndSubmit and supportTimestampQuery are private in tfjs' typings: the one place we reach inside.
  const backend = tf.backend() as unknown as { recordAndSubmit: (program: WebGPUProgram, ...rest: unknown[]) => void; supportTimestampQuery: boolean; time: WebGPUBackend['time'] };
  const record = backend.recordAndSubmit;
  const names: string[] = [];
  backend.recordAndSubmit = function (program: WebGPUProgram, ...rest: unknown[]) {
    names.push(programName(program));
    return record.call(this, program, ...rest);
  };
  let timing: tf.TimingInfo & { getExtraProfileInfo?: () => string };
  try {
    timing = await backend.time(step);
  } finally {
    backend.recordAndSubmit = record;
  }
  // backend.time reports one time per timed dispatch, in dispatch order, as "Name: ms, Name: ms, ...".
  const times = (timing.getExtraProfileInfo?.() ?? '').split(', ').filter(Boolean).map((entry) => Number(entry.slice(entry.lastIndexOf(': ') + 2)));
  const byProgram = new Map<string, { dispatches: number; gpu_ms: number }>();
  names.forEach((name, i) => {
    const entry = byProgram.get(name) ?? { dispatches: 0, gpu_ms: 0 };
    entry.dispatches++;
    entry.gpu_ms += times[i] ?? 0;
    byProgram.set(name, entry);
  });
  const total = times.reduce((a, b) => a + b, 0);
  const programs = [...byProgram].map(([program, e]) => ({ program, dispatches: e.dispatches, gpu_ms: round(e.gpu_ms), share: round(total > 0 ? e.gpu_ms / total : 0) })).sort((a, b) => b.gpu_ms - a.gpu_ms || b.dispatches - a.dispatches);
  return { dispatches: names.length, gpu_ms: round(total), timestamps: backend.supportTimestampQuery, programs };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
