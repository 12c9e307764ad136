// logit_bias and penalties, applied in place to the listed (row, token) pairs only.
// The packer merges duplicates, so each logit is written by at most one invocation.
// Per token: l += bias; if in prompt ∪ output: l = l > 0 ? l / rep : l * rep (HF);
// then l -= count * frequency + (count > 0 ? presence : 0) (OpenAI, output counts).

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;  // [numRows, vocabSize] f32
@group(0) @binding(1) var<storage, read> rows: array<u32>;          // [numRows, ROW_WORDS]
@group(0) @binding(2) var<storage, read> entries: array<u32>;       // [numEntries, 4]: row, tokenId, bias f32, count | inSet << 31
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= dims.numEntries) { return; }
  let row = entries[e * 4u];
  let tokenId = entries[e * 4u + 1u];
  let bias = bitcast<f32>(entries[e * 4u + 2u]);
  let countFlags = entries[e * 4u + 3u];
  let count = countFlags & 0x7fffffffu;
  let p = row * ROW_WORDS;
  let repetition = bitcast<f32>(rows[p + 9u]);
  let presence = bitcast<f32>(rows[p + 10u]);
  let frequency = bitcast<f32>(rows[p + 11u]);
  let at = row * dims.vocabSize + tokenId;
  var l = logits[at] + bias;
  if ((countFlags & 0x80000000u) != 0u) {
    l = select(l * repetition, l / repetition, l > 0.0);
  }
  l -= f32(count) * frequency + select(0.0, presence, count > 0u);
  logits[at] = l;
}
