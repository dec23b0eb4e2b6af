/** The Worker started as `npm start` does (seeded local R2, wrangler dev), with the debug route and V8 inspector on: for benches and the e2e test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

export interface RunningWorker {
  base: string;
  /** wrangler's local state folder (its local R2): `publishModel({ persistTo })` publishes into the running Worker. */
  persistTo: string;
  /** JS heap of the Worker's isolate (V8 Runtime.getHeapUsage), bytes. */
  /** The isolate's V8 heap (Runtime.getHeapUsage): used/total JS heap, embedder memory, ArrayBuffer backing stores (bytes). */
  jsHeap(): Promise<{ used: number; total: number; embedder: number; backingStores: number }>;
  /** A full garbage collection in the isolate (V8 HeapProfiler.collectGarbage), for steady-state readings. */
  collectGarbage(): Promise<void>;
  wasmHeap(): Promise<number>;
  /** Whether a DevTools client is attached yet (latency is measured before it is). */
  debuggerAttached(): boolean;
  /** CPU time (user + system, ms) the workerd process has used so far: the isolate plus workerd's HTTP handling. */
  cpuMs(): number;
  /** Resident memory (MB) of the workerd processes (wrangler's proxy and the Worker's), no debugger needed. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** User + system CPU (ms) of the processes named `name` under `pid` (Linux /proc; 10 ms resolution). */
export function groupCpuMs(pid: number, name: string): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (sumOverGroup(pid, name, (fields) => Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Resident memory (MB) of the processes named `name` under `pid`: what the OS sees, read without a debugger. */
export function groupRssMb(pid: number, name: string): number {
  const pageBytes = 4096;
  return (sumOverGroup(pid, name, (fields) => Number(fields[21])) * pageBytes) / 2 ** 20;
}

/** Sums `field(stat fields after the name)` over the processes named `name` in the tree under `pid`. */
function sumOverGroup(pid: number, name: string, field: (fields: string[]) => number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name) total += field(fields);
      // A child is listed under the thread that forked it.
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const c of children ? children.split(' ').map(Number) : []) visit(c);
      }
    } catch {
      // the process (or one of its threads) exited meanwhile
    }
  };
  visit(pid);
  return total;
}

export interface StartOptions {
  /** Serve this client Worker's config on the port, edge-resnet beside it for its service bindings. */
  clientConfig?: string;
  /** Seed the model even if publish's fit check would refuse it (to measure such a model). */
  noFitCheck?: boolean;
  /** wrangler's state folder (local R2, Durable Objects), kept when the Worker stops: a restart finds it as it was. Default: a temp folder removed on stop. */
  persistTo?: string;
  /** Port on 127.0.0.1 (default: a free one): a restart on the same port is the same URL to a client. */
  port?: number;
}

/**
 * Starts the Worker; tries again on fresh ports when one was taken meanwhile (freePort closes the port it found,
 * and e2e files starting Workers side by side can race for it: workerd then fails with "Address already in use").
 */
export async function startWorker(modelDir: string, vars: string[] = [], options: StartOptions = {}): Promise<RunningWorker> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(modelDir, vars, options);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof Error) || !e.message.includes('Address already in use')) throw e;
    }
  }
}

async function startWorkerOnce(modelDir: string, vars: string[], options: StartOptions): Promise<RunningWorker> {
  const [port, inspectorPort] = [options.port ?? (await freePort()), await freePort()];
  const state = options.persistTo ?? (await mkdtemp(join(tmpdir(), 'edge-resnet-bench-')));
  const removeState = () => (options.persistTo ? Promise.resolve() : rm(state, { recursive: true, force: true }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', String(port), '--model-dir', modelDir, '--persist-to', state, '--inspector-port', String(inspectorPort), '--var', 'DEBUG_ROUTES=1', ...vars.flatMap((v) => ['--var', v]), ...(options.clientConfig ? ['--client-config', options.clientConfig] : []), ...(options.noFitCheck ? ['--no-fit-check'] : [])], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  // The child is detached (its own process group, so stop() can end wrangler and workerd together): if it never
  // comes up, end it here, since no caller holds a handle to stop it.
  const killGroup = () => {
    if (child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline || child.exitCode !== null || output.includes('Address already in use')) {
      killGroup();
      await removeState();
      throw new Error(`worker did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  // The DevTools connection opens on the first heap reading, never before: wrangler's inspector proxy sends
  // Debugger.enable when a client attaches, and V8 then runs the isolate's wasm as slow debug code (FIELD-NOTES).
  // So everything measured before the first jsHeap()/collectGarbage() runs as production does.
  let ws: WebSocket | null = null;
  const connect = async (): Promise<WebSocket> => {
    if (ws) return ws;
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ webSocketDebuggerUrl: string; title?: string }>;
    const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0]!;
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    ws = socket;
    return socket;
  };
  let id = 0;
  const call = async (method: string) => {
    const socket = await connect();
    return new Promise<any>((resolve) => {
      const mine = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data));
        if (msg.id === mine) {
          socket.off('message', onMessage);
          resolve(msg.result);
        }
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method }));
    });
  };
  return {
    base,
    persistTo: state,
    async jsHeap() {
      const r = await call('Runtime.getHeapUsage');
      return { used: r.usedSize, total: r.totalSize, embedder: r.embedderHeapUsedSize ?? 0, backingStores: r.backingStorageSize ?? 0 };
    },
    async collectGarbage() {
      // workerd's inspector answers HeapProfiler only once the domain is enabled; never wait long for it.
      const timeout = new Promise((resolve) => setTimeout(resolve, 5000));
      await Promise.race([call('HeapProfiler.enable').then(() => call('HeapProfiler.collectGarbage')), timeout]);
    },
    debuggerAttached: () => ws !== null,
    cpuMs: () => groupCpuMs(child.pid!, 'workerd'),
    rssMb: () => groupRssMb(child.pid!, 'workerd'),
    async wasmHeap() {
      return ((await (await fetch(`${base}/debug/memory`, { signal: AbortSignal.timeout(60_000) })).json()) as { wasm_heap_bytes: number }).wasm_heap_bytes;
    },
    async stop() {
      ws?.close();
      if (child.pid) process.kill(-child.pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 800));
      killGroup();
      await removeState();
    },
  };
}
