// Runs a TypeScript worker entry (workerData.entry, a file URL) in a Node worker_threads Worker
// from source, as the built dist/worker/*.js would run: tsx for the TypeScript and
// scripts/raw-loader.mjs for `?raw` imports, registered inside the worker (hooks given to
// the parent do not reach workers on Node 20).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import('../../scripts/raw-loader.mjs');
await import(workerData.entry);
