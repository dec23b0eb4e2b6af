/**
 * A vitest reporter that bounds the run: a test file that runs past its limit, or a run in which nothing at all
 * is reported for too long, fails the whole run at once, naming the files still running, and ends every
 * process the run started (workerd, wrangler, Chromium, forks).
 *
 * Why a reporter and not testTimeout: a test inside workerd that blocks its isolate (a long synchronous wasm
 * call, a loop) never lets the isolate's own timers fire, and a stalled pool never starts the next file, so
 * neither fails by itself; this watch runs in vitest's main process, outside both.
 */
import { execFileSync } from 'node:child_process';
import type { Reporter, TestModule } from 'vitest/node';

export interface WatchdogLimits {
  /** Longest a single test file may run, from the moment its worker takes it (seconds). */
  fileSeconds: number;
  /** Longest the run may go without any file or test reporting a result (seconds). */
  silentSeconds: number;
}

/** Every process below `pid`, deepest first (Linux `ps`; empty where there is none). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
  return children.flatMap((c) => [...descendants(c), c]);
}

export class Watchdog implements Reporter {
  private readonly running = new Map<string, number>();
  private lastReport = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: WatchdogLimits,
    private readonly stop: (message: string) => void = Watchdog.failRun,
    private readonly now: () => number = Date.now,
  ) {}

  /** Prints why, ends every process the run started, exits 1. */
  static failRun(message: string): void {
    process.stderr.write(`\n${message}\n`);
    for (const pid of descendants(process.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(1);
  }

  onInit(): void {
    this.lastReport = this.now();
    this.timer = setInterval(() => this.check(), 5_000);
    this.timer.unref();
  }

  onTestModuleQueued(module: TestModule): void {
    this.running.set(Watchdog.nameOf(module), this.now());
    this.lastReport = this.now();
  }

  onTestCaseResult(): void {
    this.lastReport = this.now();
  }

  onTestModuleEnd(module: TestModule): void {
    this.running.delete(Watchdog.nameOf(module));
    this.lastReport = this.now();
  }

  onTestRunEnd(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the clock; public so that the watch itself can be tested without waiting. */
  check(): void {
    const now = this.now();
    const files = [...this.running].map(([name, since]) => `${name} (${Math.round((now - since) / 1000)} s)`).join(', ') || 'none';
    for (const [name, since] of this.running) {
      if (now - since > this.limits.fileSeconds * 1000) {
        this.onTestRunEnd();
        this.stop(`watchdog: ${name} has run for over ${this.limits.fileSeconds} s, the limit for one test file; failing the run (files still running: ${files})`);
        return;
      }
    }
    if (now - this.lastReport > this.limits.silentSeconds * 1000) {
      this.onTestRunEnd();
      this.stop(`watchdog: nothing reported for over ${this.limits.silentSeconds} s; failing the run (files still running: ${files})`);
    }
  }

  private static nameOf(module: TestModule): string {
    return module.project.name ? `${module.relativeModuleId} [${module.project.name}]` : module.relativeModuleId;
  }
}
