/** Test helper: Debian's python3-onnx checker, when installed. */
import { execFileSync } from 'node:child_process';

/** Debian's python3-onnx, when installed (CI installs it): the independent checker for exported files. */
export function onnxChecker(): ((path: string) => string) | null {
  // Debian's interpreter first: a pyenv `python3` on PATH does not see Debian's packages.
  const python = ['/usr/bin/python3', 'python3'].find((p) => {
    try {
      execFileSync(p, ['-c', 'import onnx'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!python) return null;
  return (path) => execFileSync(python, ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("ok", m.opset_import[0].version)', path], { encoding: 'utf8' }).trim();
}

