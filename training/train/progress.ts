/**
 * @module Progress for long runs: a bar with ETA on a terminal (cli-progress); on a non-TTY stream (CI, log
 * files) plain lines instead: nothing per step for an epoch, a line every so often for a build task.
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

export interface TaskProgress {
  /** `n` more units done; `fields` shown on the bar (or the line). */
  tick(n?: number, fields?: Record<string, string>): void;
  /** A line above the bar (or just a line). */
  log(line: string): void;
  done(): void;
}

/**
 * A build task of `total` units (shapes drawn, training steps): on a TTY a bar with ETA from the first unit;
 * otherwise a line (with ETA) every `lineEvery` units and at the end, through `log`.
 */
export function taskProgress(title: string, total: number, options: { lineEvery: number; fields?: string[]; log: (line: string) => void; stream?: NodeJS.WriteStream; done?: number }): TaskProgress {
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  const first = options.done ?? 0;
  let value = first;
  const extra = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `  ${k} ${v}`).join('');
  if (!stream.isTTY) {
    return {
      tick: (n = 1, fields = {}) => {
        const before = value;
        value += n;
        if (Math.floor(value / options.lineEvery) === Math.floor(before / options.lineEvery) && value !== total) return;
        const elapsed = (Date.now() - started) / 1000;
        const eta = value > first ? (elapsed / (value - first)) * (total - value) : NaN;
        options.log(`  ${title} ${value}/${total}${extra(fields)}  ${elapsed.toFixed(0)} s (eta ${Number.isFinite(eta) ? eta.toFixed(0) : '?'} s)`);
      },
      log: options.log,
      done: () => {},
    };
  }
  const names = options.fields ?? [];
  const multi = new cliProgress.MultiBar(
    { stream, format: `${title} {bar} {value}/{total} ${names.map((n) => `| ${n} {${n}} `).join('')}| ETA {eta_formatted}`, hideCursor: true, clearOnComplete: false, etaBuffer: 50, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(total, first, Object.fromEntries(names.map((n) => [n, '-'])));
  return {
    tick: (n = 1, fields = {}) => bar.increment(n, fields),
    log: (line) => multi.log(`${line}\n`),
    done: () => multi.stop(),
  };
}
