#!/usr/bin/env bash
# Packs `npm run gpu-check` into one folder that runs on an x86-64 Linux GPU machine with no Node.js or npm:
# this machine's node binary (xz), the check bundled by esbuild, tfjs' wasm files and Dawn's dawn.node.
# Usage: bash scripts/gpu-check-bundle.sh OUT_DIR   then there: bash OUT_DIR/run.sh [gpu-check options]
set -euo pipefail
out=${1:?usage: gpu-check-bundle.sh OUT_DIR}
rm -rf "$out" && mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
npx esbuild scripts/gpu-check.ts --bundle --platform=node --format=esm --target=node20 --outfile="$out/gpu-check.mjs" \
  --external:webgpu --external:@tensorflow/tfjs-node-gpu --log-level=warning \
  --banner:js="import { createRequire } from 'node:module'; import { fileURLToPath as __ftp } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = createRequire(import.meta.url); const __filename = __ftp(import.meta.url); const __dirname = __dn(__filename);"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/dawn.node.xz"
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
unxz() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c "import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$1"; fi; }
[ -x "$here/node" ] || { unxz "$here/node.xz" > "$here/node"; chmod +x "$here/node"; }
[ -f "$here/node_modules/webgpu/dist/linux-x64/dawn.node" ] || unxz "$here/dawn.node.xz" > "$here/node_modules/webgpu/dist/linux-x64/dawn.node"
exec "$here/node" "$here/gpu-check.mjs" "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
