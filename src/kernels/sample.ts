// GPU sampling — engineer H owns src/kernels/sample*.{ts,wgsl} and src/kernels/logprobs*.{ts,wgsl}
// (work in progress: per-row penalties/bias, greedy, temperature/top-k/top-p/min-p draw, logprobs)
export {};
