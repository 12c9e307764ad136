// Deterministic test inputs for the quantizers: a seeded LCG (so the ggml golden hashes can be
// regenerated) and eight kinds of data that stress different paths of the block quantizers.
export function makeRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

export const DATA_KINDS = [
  'gaussian',
  'gaussian with 2% outliers x50',
  'every third 32-block zero, the rest tiny',
  'constant 64-value runs (0.7 / -1.25)',
  'uniform [0, 3): all positive',
  'scale growing per 32-block',
  'multiples of 1/4',
  'signed powers of two 2^-10..2^9',
] as const;

/** `n` values of data kind `kind` (index into DATA_KINDS), reproducible from `seed`. */
export function quantTestData(kind: number, n: number, seed = 12345): Float32Array {
  const rand = makeRng(seed + kind);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 0: x[i] = gauss(); break;
      case 1: x[i] = gauss() * (rand() < 0.02 ? 50 : 1); break;
      case 2: x[i] = Math.floor(i / 32) % 3 === 0 ? 0 : gauss() * 0.01; break;
      case 3: x[i] = Math.floor(i / 64) % 2 ? 0.7 : -1.25; break;
      case 4: x[i] = rand() * 3; break;
      case 5: x[i] = gauss() * 1e-3 * (Math.floor(i / 32) + 1); break;
      case 6: x[i] = Math.round(gauss() * 8) / 4; break;
      case 7: x[i] = (rand() < 0.5 ? 1 : -1) * 2 ** Math.floor(rand() * 20 - 10); break;
      default: throw new Error(`no data kind ${kind}`);
    }
  }
  return x;
}

/** Values per golden input: 8 K-quant super-blocks. */
export const GOLDEN_VALUES = 2048;
