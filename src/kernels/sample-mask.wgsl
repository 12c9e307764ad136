// Grammar masks (constrained decoding, #16): every token a row's mask leaves out gets the
// lowest finite logit, in place, before sampling and logprobs read the row. Only the rows
// listed in maskRows are touched; a step without constrained rows records no dispatch.
// One invocation per (masked row, mask word): it reads one u32 of bits (coalesced across
// invocations) and writes the up-to-32 logits it covers.
// Prepended: sample-common.wgsl (LOWEST_F32).

override WG: u32 = 64;

struct MaskDims {
  numMasked: u32,
  vocabSize: u32,
  words: u32,       // ceil(vocabSize / 32)
}

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;  // [numRows, vocabSize] f32
@group(0) @binding(1) var<storage, read> masks: array<u32>;         // [numMasked, words] bit t%32 of word t/32 = token t allowed
@group(0) @binding(2) var<storage, read> maskRows: array<u32>;      // [numMasked] the logits row of each mask
@group(0) @binding(3) var<uniform> md: MaskDims;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= md.numMasked * md.words) { return; }
  let m = i / md.words;
  let w = i % md.words;
  let bits = masks[i];
  if (bits == 0xffffffffu) { return; }
  let base = maskRows[m] * md.vocabSize;
  let first = w * 32u;
  let count = min(32u, md.vocabSize - first);
  for (var b = 0u; b < count; b++) {
    if (((bits >> b) & 1u) == 0u) { logits[base + first + b] = LOWEST_F32; }
  }
}
