// ModelRunner on WebGPU — engineer R owns src/gpu/runner.ts, src/gpu/forward.ts, src/gpu/kv-pool.ts, src/gpu/create-runner.ts
export {};
