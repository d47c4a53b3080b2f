import { compile, evaluate } from '@ims/routing-core';
import { buildWorkload } from './src/workload';

const w = buildWorkload();
const policy = compile(w.config);
const qs = w.queries;
let sink = 0;
const t = performance.now();
for (let r = 0; r < 100; r++)
  for (const q of qs) sink += evaluate(policy, q, { trace: false }).action.length;
console.log(Math.round((2000000 / (performance.now() - t)) * 1000), sink);
