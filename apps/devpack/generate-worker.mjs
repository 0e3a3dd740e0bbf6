// Worker thread entry of isolated.ts. Plain JS: the console may have taught its main thread
// TypeScript with tsx's register() (apps/cli/bin.mjs), which a worker does not inherit, so the
// worker registers tsx itself before it loads the generator.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runGeneration } = await import('./generate-job.ts');
const result = runGeneration(workerData);
parentPort.postMessage(result, result.ok ? [result.tarball.buffer] : []);
