/** @module What a default-model build records: the training run, the machine, and the build report beside the model. */
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { BuildEstimate } from './estimate.js';

/** What the training run recorded (older caches have only seconds and curve). */
export interface TrainingRecord {
  seconds: number;
  curve: Array<[number, number]>;
  machine?: MachineInfo;
  finished?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  platform: string;
}

export const machineInfo = (): MachineInfo => ({ cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` });

/** `build-report.json`: what the build measured, on which machine, and which split each figure is from. */
export interface BuildReport {
  model: string;
  sha256: string;
  written: string;
  build_seconds: number;
  /** From the trained fp32 model to the last file written (quantize, evaluate, pre-optimise, bench model). */
  outputs_seconds: number;
  /** What the build said it would take before it started (null when it did not train). */
  estimate: BuildEstimate | null;
  training: TrainingRecord | null;
  machine: MachineInfo;
  splits: Record<'train' | 'validation' | 'test', string>;
  metrics: Record<string, number | string>;
}
