/**
 * @module Progress for long runs: a bar with ETA, loss and accuracy on a terminal (cli-progress); on a
 * non-TTY stream (CI, log files) nothing per step, one summary line per epoch.
 */
import cliProgress from 'cli-progress';

export interface EpochProgress {
  tick(values: { loss: number; accuracy: number }): void;
  done(): void;
}

export function epochProgress(title: string, total: number, stream: NodeJS.WriteStream = process.stderr): EpochProgress {
  if (!stream.isTTY) return { tick: () => {}, done: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream, format: `${title} {bar} {value}/{total} | loss {loss} | acc {acc} | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { loss: '-', acc: '-' });
  return {
    tick: ({ loss, accuracy }) => bar.increment(1, { loss: loss.toFixed(4), acc: accuracy.toFixed(3) }),
    done: () => bar.stop(),
  };
}
