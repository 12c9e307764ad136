// Shared by sample.wgsl and logprobs.wgsl (prepended as text): the per-row parameter
// layout written by sample-pack.ts, the output layout read by readSampled, an
// order-preserving f32 -> u32 key, and the counter-based RNG.

const ROW_WORDS: u32 = 16u;     // per-row parameter block, see sample-pack.ts ROW_*
const TOP_WORDS: u32 = 40u;     // per-row top logprobs: 20 x (id, logprob)
const FLAG_GREEDY: u32 = 1u;
const FLAG_LOGPROBS: u32 = 2u;
const NO_TOKEN: u32 = 0xffffffffu;
const LOWEST_F32: f32 = -3.4028234e38;

// Output [numRows * (2 + TOP_WORDS)] u32, grouped so that a step without logprobs reads
// back only the ids:  ids [numRows] | logprobs [numRows] f32 | tops [numRows, TOP_WORDS].
fn outId(numRows: u32, row: u32) -> u32 { return row; }
fn outLogprob(numRows: u32, row: u32) -> u32 { return numRows + row; }
fn outTop(numRows: u32, row: u32, j: u32) -> u32 { return 2u * numRows + row * TOP_WORDS + 2u * j; }

struct Dims {
  numRows: u32,
  vocabSize: u32,
  numEntries: u32,
}

// Monotone map of f32 onto u32 (a < b  <=>  key(a) < key(b)); -0 is folded onto +0 so
// equal logits get equal keys.
fn orderedKey(x: f32) -> u32 {
  let bits = bitcast<u32>(select(x, 0.0, x == 0.0));
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn pcgHash(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [0, 1) with 24 random bits, a pure function of (seed, counter): the same
// seeded draw whatever else is in the batch. Mirrored bit-exactly by sampleUniform().
fn uniform01(seedLo: u32, seedHi: u32, counter: u32) -> f32 {
  let key = pcgHash(seedLo ^ pcgHash(seedHi ^ 0x9e3779b9u));
  let h = pcgHash(pcgHash(counter ^ key) + key);
  return f32(h >> 8u) * (1.0 / 16777216.0);
}
