/**
 * @module Test helper: Debian's Python 3 with the packages a reference check needs (python3-pil, python3-torch,
 * python3-torchvision, python3-onnx; CI installs them). A test asks for what it imports and skips, saying why,
 * when they are missing here; where `EDGE_RESNET_REQUIRE_PYTHON=1` (CI sets it once they installed), missing
 * packages fail instead of skipping.
 */
import { execFileSync } from 'node:child_process';

/** Debian's interpreter first: a pyenv `python3` on PATH does not see Debian's packages. */
const CANDIDATES = ['/usr/bin/python3', 'python3'];

export interface Python {
  path: string;
  /** Runs `script` (a file under test/reference/) with `args`; stdout as text. */
  run(script: string, args: string[], input?: string): string;
}

/** A Python that imports every module in `modules`, or null with the reason (thrown instead under CI). */
export function pythonWith(modules: string[]): { python: Python | null; reason: string } {
  const path = CANDIDATES.find((p) => {
    try {
      execFileSync(p, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  const reason = `no python3 with ${modules.join(', ')} here (Debian: apt-get install ${modules.map((m) => debianPackage[m] ?? m).join(' ')})`;
  if (!path && process.env.EDGE_RESNET_REQUIRE_PYTHON === '1') throw new Error(`EDGE_RESNET_REQUIRE_PYTHON=1 but ${reason}`);
  if (!path) return { python: null, reason };
  return {
    python: {
      path,
      run: (script, args, input) => execFileSync(path, [`test/reference/${script}`, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28, timeout: 600_000 }),
    },
    reason: '',
  };
}

const debianPackage: Record<string, string> = { PIL: 'python3-pil', torch: 'python3-torch', torchvision: 'python3-torchvision', onnx: 'python3-onnx', h5py: 'python3-h5py' };
