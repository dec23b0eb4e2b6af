import { buildDefaultModel } from '../training/default-model.js';
await buildDefaultModel({ out: '.scratch/fast-bench', fast: true, force: false, bench: true, log: (l) => console.log(l) });
