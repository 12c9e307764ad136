// StepInput (plain data from the engine) → the flat i32 arrays the kernels read.
// Pure and GPU-free, so every broken step is caught here with a coded error before
// anything is recorded, and is unit-tested without a device.
//
//   sequences a (prefill 3, table [7, 2]) and b (decode at position 17, table [4, 9]):
//     tokenIds    [a0 a1 a2 b17]
//     positions   [ 0  1  2  17]
//     slotMapping [7·16+0, 7·16+1, 7·16+2, 9·16+1]
//     blockTables [7 | 4 9]            (only the blocks covering each context)
//     tokenMeta   [(0,0) (1,0) (2,0) (17,1)]
//     sampleRows  [2, 3]               (last token of each sequence that samples)
import { KV_BLOCK_SIZE, type SequenceInput, type StepInput } from '../engine/types';
import { RunnerError } from './runner-errors';
import type { StepMeta } from './step-buffers';

export interface PackedStep extends StepMeta {
  /** The sequences that sample, in StepInput order (one SampledToken each). */
  sampledSequences: SequenceInput[];
}

function bad(message: string): RunnerError {
  return new RunnerError('bad_step_input', message);
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

export function packStep(input: StepInput, vocabSize: number, numKvBlocks: number): PackedStep {
  const { tokenIds, positions, sequences } = input;
  if (!(tokenIds instanceof Int32Array) || !(positions instanceof Int32Array)) throw bad('tokenIds and positions must be Int32Arrays');
  const T = tokenIds.length;
  if (T === 0) throw bad('a step needs at least one token');
  if (positions.length !== T) throw bad(`positions has ${positions.length} entries for ${T} tokens`);
  if (!Array.isArray(sequences) || sequences.length === 0) throw bad('a step needs at least one sequence');

  for (let t = 0; t < T; t++) {
    const id = tokenIds[t];
    if (id < 0 || id >= vocabSize) throw bad(`tokenIds[${t}] = ${id} is outside the vocabulary [0, ${vocabSize})`);
  }

  let tableLength = 0;
  let expectedStart = 0;
  for (let s = 0; s < sequences.length; s++) {
    const seq = sequences[s];
    const at = `sequences[${s}]`;
    if (!isCount(seq.queryStart) || !isCount(seq.queryLength) || seq.queryLength === 0) throw bad(`${at}: bad query range ${seq.queryStart}+${seq.queryLength}`);
    // The kernels assume every token belongs to exactly one sequence: queries tile the batch in order.
    if (seq.queryStart !== expectedStart) throw bad(`${at}: queryStart ${seq.queryStart}, expected ${expectedStart} (queries must tile the batch in order)`);
    expectedStart += seq.queryLength;
    if (expectedStart > T) throw bad(`${at}: query range ends at ${expectedStart}, past the ${T} tokens`);
    if (!isCount(seq.contextLength) || seq.contextLength < seq.queryLength) throw bad(`${at}: contextLength ${seq.contextLength} < queryLength ${seq.queryLength}`);
    if (!(seq.blockTable instanceof Int32Array)) throw bad(`${at}: blockTable must be an Int32Array`);
    const neededBlocks = Math.ceil(seq.contextLength / KV_BLOCK_SIZE);
    if (seq.blockTable.length < neededBlocks) throw bad(`${at}: block table has ${seq.blockTable.length} blocks, context of ${seq.contextLength} needs ${neededBlocks}`);
    for (let i = 0; i < neededBlocks; i++) {
      const b = seq.blockTable[i];
      if (b < 0 || b >= numKvBlocks) throw bad(`${at}: blockTable[${i}] = ${b} is not a block of 0..${numKvBlocks - 1}`);
    }
    const firstPos = seq.contextLength - seq.queryLength;
    for (let i = 0; i < seq.queryLength; i++) {
      const p = positions[seq.queryStart + i];
      if (p !== firstPos + i) throw bad(`${at}: token ${i} has position ${p}, expected ${firstPos + i} (contextLength - queryLength + i)`);
    }
    if (seq.sample && !seq.sampling) throw bad(`${at}: sample without sampling params`);
    tableLength += neededBlocks;
  }
  if (expectedStart !== T) throw bad(`sequences cover ${expectedStart} of ${T} tokens`);

  const slotMapping = new Int32Array(T);
  const tokenMeta = new Int32Array(2 * T);
  const blockTables = new Int32Array(tableLength);
  const sampledSequences: SequenceInput[] = [];
  const sampleRowList: number[] = [];
  let tableStart = 0;
  for (const seq of sequences) {
    const neededBlocks = Math.ceil(seq.contextLength / KV_BLOCK_SIZE);
    blockTables.set(seq.blockTable.subarray(0, neededBlocks), tableStart);
    for (let i = 0; i < seq.queryLength; i++) {
      const t = seq.queryStart + i;
      const p = positions[t];
      slotMapping[t] = seq.blockTable[Math.floor(p / KV_BLOCK_SIZE)] * KV_BLOCK_SIZE + (p % KV_BLOCK_SIZE);
      tokenMeta[2 * t] = p;
      tokenMeta[2 * t + 1] = tableStart;
    }
    if (seq.sample) {
      sampledSequences.push(seq);
      sampleRowList.push(seq.queryStart + seq.queryLength - 1);
    }
    tableStart += neededBlocks;
  }
  checkDistinctSlots(slotMapping);
  return {
    numTokens: T,
    numSampled: sampledSequences.length,
    tokenIds,
    positions,
    slotMapping,
    tokenMeta,
    sampleRows: Int32Array.from(sampleRowList),
    blockTables,
    sampledSequences,
  };
}

/** Two tokens of one step writing the same KV slot would race: a broken block table. */
function checkDistinctSlots(slots: Int32Array): void {
  if (slots.length < 2) return;
  const sorted = Int32Array.from(slots).sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw bad(`two tokens of this step write KV slot ${sorted[i]} (block ${Math.floor(sorted[i] / KV_BLOCK_SIZE)})`);
  }
}
