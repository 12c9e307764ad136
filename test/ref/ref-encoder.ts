// The float64 reference encoder (bert, nomic-bert): the oracle for the GPU encoder path
// (src/gpu/encoder-forward.ts) and for pooling. Written like ref-model.ts: whole sequences,
// one operation per line, shape comments; shares no code with the GPU path (only the GGUF
// reader, the config parser and the float64 dequantizer feed it).
//
//   x[p] = tok[id_p] + types[0] (+ pos[p]: bert);  h[p] = LN(x[p]) · embedNorm
//   per layer:  q, k, v = h · W + b;  (nomic-bert: neox RoPE on q, k)
//               a[p] = softmax_j(q[p]·k[j] / sqrt(headDim)) v over ALL j of the sequence
//               f = LN(h + a · Wo + bo);  h = LN(f + ffn(f))
//   pooled = mean / first / last row of h
import type { ModelConfig } from '../../src/model/config';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF, readTensorBytes } from '../../src/model/gguf/reader';
import type { GGUFTensorInfo } from '../../src/model/gguf/types';
import { tensorToFloat64 } from './dequant';
import { geluTanh, matmul, rope, silu, softmax } from './ref-model';

type T64 = Float64Array;

/** o = (x - mean) / sqrt(var + eps) · w + b, two-pass, as ggml_norm. */
export function layerNorm(x: T64, w: T64, b: T64, eps: number): T64 {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - mean) ** 2;
  const inv = 1 / Math.sqrt(v / n + eps);
  return x.map((xi, i) => (xi - mean) * inv * w[i] + b[i]);
}

const add = (a: T64, b: T64 | undefined): T64 => (b ? a.map((v, i) => v + b[i]) : a);

export class RefEncoder {
  private constructor(
    readonly config: ModelConfig,
    private readonly t: Map<string, T64>,
  ) {}

  static async fromGGUF(bytes: Uint8Array): Promise<RefEncoder> {
    const file = await readGGUF(bytes);
    const config = modelConfigFromGGUF(file);
    if (!config.encoder) throw new Error(`${config.arch} is not an encoder`);
    const t = new Map<string, T64>();
    for (const info of file.tensors as GGUFTensorInfo[]) {
      t.set(info.name, tensorToFloat64(info.type, await readTensorBytes(bytes, info), info.shape.reduce((a, b) => a * b, 1)));
    }
    return new RefEncoder(config, t);
  }

  private w(name: string): T64 {
    const v = this.t.get(name);
    if (!v) throw new Error(`reference encoder: tensor ${name} is missing`);
    return v;
  }

  /** Final hidden rows [len][dim] of one sequence. */
  hidden(ids: readonly number[]): T64[] {
    const c = this.config;
    const e = c.encoder!;
    const { dim, headDim, numHeads, numKvHeads, ffnDim } = c;
    const qDim = numHeads * headDim;
    const kvDim = numKvHeads * headDim;
    const row = (m: T64, r: number) => m.subarray(r * dim, (r + 1) * dim);
    const types = this.t.get('token_types.weight');
    let h: T64[] = ids.map((id, p) => {
      let x: T64 = Float64Array.from(row(this.w('token_embd.weight'), id)); // [dim]
      if (types) x = add(x, types.subarray(0, dim));
      if (e.positions === 'learned') x = add(x, row(this.w('position_embd.weight'), p));
      return layerNorm(x, this.w('token_embd_norm.weight'), this.w('token_embd_norm.bias'), c.rmsEps);
    });
    for (let l = 0; l < c.numLayers; l++) {
      const p = `blk.${l}.`;
      const opt = (n: string) => this.t.get(p + n);
      const qs: T64[] = [], ks: T64[] = [], vs: T64[] = [];
      h.forEach((x, pos) => {
        let q: T64, k: T64, v: T64;
        if (c.fusedQkv) {
          const qkv = add(matmul(this.w(`${p}attn_qkv.weight`), x, qDim + 2 * kvDim, dim), opt('attn_qkv.bias'));
          q = qkv.slice(0, qDim); k = qkv.slice(qDim, qDim + kvDim); v = qkv.slice(qDim + kvDim);
        } else {
          q = add(matmul(this.w(`${p}attn_q.weight`), x, qDim, dim), opt('attn_q.bias'));
          k = add(matmul(this.w(`${p}attn_k.weight`), x, kvDim, dim), opt('attn_k.bias'));
          v = add(matmul(this.w(`${p}attn_v.weight`), x, kvDim, dim), opt('attn_v.bias'));
        }
        if (e.positions === 'rope') {
          rope(q, numHeads, headDim, c.ropeDim, pos, c.ropeTheta, c.ropeStyle, undefined, c.ropeScaling);
          rope(k, numKvHeads, headDim, c.ropeDim, pos, c.ropeTheta, c.ropeStyle, undefined, c.ropeScaling);
        }
        qs.push(q); ks.push(k); vs.push(v);
      });
      h = h.map((x, pos) => {
        const att = new Float64Array(qDim); // [numHeads * headDim]
        for (let hd = 0; hd < numHeads; hd++) {
          const kvh = Math.floor(hd / (numHeads / numKvHeads));
          const scores = Float64Array.from(ks, (k) => {
            let s = 0;
            for (let i = 0; i < headDim; i++) s += qs[pos][hd * headDim + i] * k[kvh * headDim + i];
            return s / Math.sqrt(headDim);
          }); // [len]: every position, both directions
          softmax(scores);
          for (let j = 0; j < vs.length; j++) for (let i = 0; i < headDim; i++) att[hd * headDim + i] += scores[j] * vs[j][kvh * headDim + i];
        }
        const attnOut = add(matmul(this.w(`${p}attn_output.weight`), att, dim, qDim), opt('attn_output.bias'));
        const f = layerNorm(add(attnOut, x), this.w(`${p}attn_output_norm.weight`), this.w(`${p}attn_output_norm.bias`), c.rmsEps);
        let act: T64;
        if (e.ffn === 'swiglu') {
          const gate = matmul(this.w(`${p}ffn_gate.weight`), f, ffnDim, dim);
          const up = matmul(this.w(`${p}ffn_up.weight`), f, ffnDim, dim);
          act = gate.map((g, i) => silu(g) * up[i]);
        } else {
          act = add(matmul(this.w(`${p}ffn_up.weight`), f, ffnDim, dim), opt('ffn_up.bias')).map(geluTanh);
        }
        let down = matmul(this.w(`${p}ffn_down.weight`), act, dim, ffnDim);
        if (e.ffn === 'gelu') down = add(down, opt('ffn_down.bias'));
        return layerNorm(add(down, f), this.w(`${p}layer_output_norm.weight`), this.w(`${p}layer_output_norm.bias`), c.rmsEps);
      });
    }
    return h;
  }

  /** The pooled vector (config.pooling) of one sequence, unnormalised. */
  embed(ids: readonly number[]): T64 {
    const h = this.hidden(ids);
    if (this.config.pooling === 'cls') return h[0];
    if (this.config.pooling === 'last') return h[h.length - 1];
    const out = new Float64Array(this.config.dim);
    for (const r of h) for (let i = 0; i < out.length; i++) out[i] += r[i] / h.length;
    return out;
  }
}
