// packStep (StepInput → flat kernel metadata) and the KV pool sizing, without a GPU:
// the layout the kernels read, and a coded error for every broken step.
import { describe, expect, it } from 'vitest';
import { GREEDY, type SequenceInput, type StepInput } from '../../../src/engine/types';
import { defaultKvCacheBytes, kvPoolLayout } from '../../../src/gpu/kv-pool';
import { RunnerError } from '../../../src/gpu/runner-errors';
import { packStep } from '../../../src/gpu/step-pack';
import type { ModelConfig } from '../../../src/model/config';

const VOCAB = 100;
const BLOCKS = 32;

function seq(queryStart: number, queryLength: number, contextLength: number, table: number[], sample = true): SequenceInput {
  return { queryStart, queryLength, contextLength, blockTable: Int32Array.from(table), sample, sampling: sample ? GREEDY : undefined };
}

/** a: prefill of 3 at 0 (table [7, 2]); b: decode at position 17 (table [4, 9]). */
function mixedStep(): StepInput {
  return {
    tokenIds: Int32Array.from([5, 6, 7, 8]),
    positions: Int32Array.from([0, 1, 2, 17]),
    sequences: [seq(0, 3, 3, [7, 2]), seq(3, 1, 18, [4, 9])],
  };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    return (e as RunnerError).code;
  }
  return undefined;
}

describe('packStep', () => {
  it('maps tokens to slots through the block tables and packs only the blocks each context needs', () => {
    const p = packStep(mixedStep(), VOCAB, BLOCKS);
    expect(p.numTokens).toBe(4);
    expect(Array.from(p.slotMapping)).toEqual([7 * 16, 7 * 16 + 1, 7 * 16 + 2, 9 * 16 + 1]);
    expect(Array.from(p.blockTables)).toEqual([7, 4, 9]); // a needs 1 block of [7, 2]; b needs 2
    expect(Array.from(p.tokenMeta)).toEqual([0, 0, 1, 0, 2, 0, 17, 1]);
    expect(Array.from(p.sampleRows)).toEqual([2, 3]);
    expect(p.sampledSequences.length).toBe(2);
  });

  it('samples only sequences that ask, in order', () => {
    const step = mixedStep();
    step.sequences[0] = seq(0, 3, 3, [7], false);
    const p = packStep(step, VOCAB, BLOCKS);
    expect(Array.from(p.sampleRows)).toEqual([3]);
    expect(p.sampledSequences).toEqual([step.sequences[1]]);
  });

  const broken: [string, (s: StepInput) => void][] = [
    ['no tokens', (s) => { s.tokenIds = new Int32Array(0); s.positions = new Int32Array(0); }],
    ['positions length', (s) => { s.positions = Int32Array.from([0, 1, 2]); }],
    ['token outside vocab', (s) => { s.tokenIds[1] = VOCAB; }],
    ['negative token', (s) => { s.tokenIds[0] = -1; }],
    ['no sequences', (s) => { s.sequences = []; }],
    ['gap between queries', (s) => { s.sequences[1] = seq(4, 1, 18, [4, 9]); }],
    ['queries past the batch', (s) => { s.sequences[1] = seq(3, 2, 19, [4, 9]); }],
    ['tokens left uncovered', (s) => { s.sequences = [s.sequences[0]]; }],
    ['context shorter than query', (s) => { s.sequences[0] = seq(0, 3, 2, [7]); }],
    ['block table too short', (s) => { s.sequences[1] = seq(3, 1, 18, [4]); }],
    ['block id out of the pool', (s) => { s.sequences[1] = seq(3, 1, 18, [4, BLOCKS]); }],
    ['position disagrees with context', (s) => { s.positions[3] = 16; }],
    ['sample without params', (s) => { s.sequences[0] = { ...s.sequences[0], sampling: undefined }; }],
    // a's position 1 and b's position 17 both land in block 3, slot 1.
    ['two tokens on one slot', (s) => { s.sequences = [seq(0, 3, 3, [3]), seq(3, 1, 18, [4, 3])]; }],
  ];
  for (const [name, breakIt] of broken) {
    it(`rejects a step with ${name} (bad_step_input)`, () => {
      const step = mixedStep();
      breakIt(step);
      expect(codeOf(() => packStep(step, VOCAB, BLOCKS))).toBe('bad_step_input');
    });
  }
});

const config: ModelConfig = {
  arch: 'llama', vocabSize: 512, dim: 64, numLayers: 5, numHeads: 8, numKvHeads: 4, headDim: 8, ffnDim: 172, rmsEps: 1e-5,
  ropeTheta: 10000, ropeStyle: 'adjacent', ropeDim: 8, contextLength: 512, tiedEmbeddings: false, qkvBias: false, qkNorm: false,
  fusedQkv: false, fusedGateUp: false,
};
const limits = { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 27 };

describe('KV pool sizing', () => {
  it('buys floor(budget / (2 · layers · 16 · kvDim · 4)) blocks', () => {
    const perBlock = 2 * 5 * 16 * 32 * 4; // 20480 bytes
    expect(kvPoolLayout(config, 10 * perBlock + 100, limits)).toEqual({ numBlocks: 10, bytesPerBlock: perBlock, bytesPerLayerBuffer: 10 * 16 * 32 * 4 });
  });

  it('caps one layer buffer at the storage binding limit', () => {
    const small = { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 16 * 32 * 4 * 3 };
    expect(kvPoolLayout(config, 1 << 30, small).numBlocks).toBe(3);
  });

  it('defaults to at most 64 full contexts and 512 MiB', () => {
    expect(defaultKvCacheBytes(config, limits)).toBe(64 * 32 * 20480);
    const big = { ...config, contextLength: 1 << 20, numKvHeads: 8, headDim: 128 };
    expect(defaultKvCacheBytes(big, { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 30 })).toBe(512 << 20);
    // A small device: a quarter of one buffer per layer per K/V (2 · 5 · 128 MiB / 4).
    expect(defaultKvCacheBytes(big, limits)).toBe((2 * 5 * (1 << 27)) / 4);
  });

  it('an f16 pool: 2-byte elements, twice the blocks for the same bytes, twice under the binding cap', () => {
    const perBlock = 2 * 5 * 16 * 32 * 2; // 10240 bytes
    expect(kvPoolLayout(config, 10 * 20480 + 100, limits, 'f16')).toEqual({ numBlocks: 20, bytesPerBlock: perBlock, bytesPerLayerBuffer: 20 * 16 * 32 * 2 });
    const small = { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 16 * 32 * 4 * 3 };
    expect(kvPoolLayout(config, 1 << 30, small, 'f16').numBlocks).toBe(6);
    expect(codeOf(() => kvPoolLayout(config, perBlock - 1, limits, 'f16'))).toBe('kv_cache_too_small');
    expect(kvPoolLayout(config, perBlock, limits, 'f16').numBlocks).toBe(1);
  });

  it('an f16 default: the same bytes where the device share binds, the same blocks where the context cap binds', () => {
    expect(defaultKvCacheBytes(config, limits, 'f16')).toBe(64 * 32 * 10240); // 64 full contexts of 32 blocks
    const big = { ...config, contextLength: 1 << 20, numKvHeads: 8, headDim: 128 };
    expect(defaultKvCacheBytes(big, limits, 'f16')).toBe((2 * 5 * (1 << 27)) / 4);
    expect(defaultKvCacheBytes(big, { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 30 }, 'f16')).toBe(512 << 20);
  });

  it('refuses budgets that buy nothing with coded errors', () => {
    expect(codeOf(() => kvPoolLayout(config, 100, limits))).toBe('kv_cache_too_small');
    expect(codeOf(() => kvPoolLayout(config, -1, limits))).toBe('bad_kv_cache_bytes');
    expect(codeOf(() => kvPoolLayout(config, Number.NaN, limits))).toBe('bad_kv_cache_bytes');
  });
});
