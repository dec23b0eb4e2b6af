/** wrangler bundles imported .wasm files as precompiled modules (CompiledWasm). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
