// The float64 reference for models too big to hold dequantized (the full-size shapes:
// 0.5–1.2 billion weights would be 4–10 GB as float64). Same math as RefModel (the ops
// are imported from ref-model.ts), but every matmul streams its weight from the file in
// chunks of rows, dequantized to float64 one chunk at a time, and applies each chunk to
// all positions of the sequence at once (teacher forcing: the ids are given, so one pass
// over the weights serves every position).
//
// Architectures: llama and qwen2 (q/k/v biases), separate q/k/v and gate/up, no soft-caps
// or windows — what the full-size shapes need.
import { modelConfigFromGGUF, type ModelConfig } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource } from '../../src/model/gguf/source';
import type { ByteSource, GGUFTensorInfo } from '../../src/model/gguf/types';
import { tensorToFloat64 } from './dequant';
import { rmsnorm, rope, silu, softmax } from './ref-model';

const CHUNK_BYTES = 16 << 20;

export class StreamRefModel {
  private constructor(
    readonly config: ModelConfig,
    private readonly source: ByteSource,
    private readonly infos: Map<string, GGUFTensorInfo>,
  ) {}

  static async open(path: string): Promise<StreamRefModel> {
    const source = await openSource(path);
    const file = await readGGUF(source);
    const config = modelConfigFromGGUF(file);
    if (config.arch !== 'llama' && config.arch !== 'qwen2') throw new Error(`StreamRefModel: arch ${config.arch} not supported`);
    return new StreamRefModel(config, source, new Map(file.tensors.map((t) => [t.name, t])));
  }

  close(): Promise<void> | void {
    return this.source.close?.();
  }

  private info(name: string): GGUFTensorInfo {
    const info = this.infos.get(name);
    if (!info) throw new Error(`StreamRefModel: tensor ${name} is missing`);
    return info;
  }

  private async vector(name: string): Promise<Float64Array> {
    const info = this.info(name);
    return tensorToFloat64(info.type, await this.source.read(info.offset, info.byteLength), info.shape[0]);
  }

  /** Calls `each(rowStart, rows [n, inDim] float64)` over the weight's rows, chunk by chunk. */
  private async forRows(name: string, each: (rowStart: number, rows: Float64Array, n: number) => void): Promise<void> {
    const info = this.info(name);
    const inDim = info.shape[0];
    const outDim = info.shape[1];
    const rowBytes = info.byteLength / outDim;
    const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    for (let r = 0; r < outDim; r += chunkRows) {
      const n = Math.min(chunkRows, outDim - r);
      const bytes = await this.source.read(info.offset + r * rowBytes, n * rowBytes);
      each(r, tensorToFloat64(info.type, bytes, n * inDim), n);
    }
  }

  /** ys[t] = W xs[t] for every position t; W [outDim, inDim] streamed once. */
  private async matmul(name: string, xs: Float64Array[]): Promise<Float64Array[]> {
    const info = this.info(name);
    const inDim = info.shape[0];
    const ys = xs.map(() => new Float64Array(info.shape[1]));
    await this.forRows(name, (r0, rows, n) => {
      for (let i = 0; i < n; i++) {
        const off = i * inDim;
        for (let t = 0; t < xs.length; t++) {
          const x = xs[t];
          let sum = 0;
          for (let j = 0; j < inDim; j++) sum += rows[off + j] * x[j];
          ys[t][r0 + i] = sum;
        }
      }
    });
    return ys;
  }

  /**
   * Runs `ids` at positions 0, 1, … and returns the logits of the positions in `logitPositions`
   * (each [vocab] float64), in that order.
   */
  async logits(ids: readonly number[], logitPositions: readonly number[]): Promise<Float64Array[]> {
    const c = this.config;
    const dim = c.dim;
    const hd = c.headDim;
    const headsPerKv = c.numHeads / c.numKvHeads;
    const T = ids.length;

    // x[t] = token_embd[ids[t]]
    const emb = this.info('token_embd.weight');
    const embRowBytes = emb.byteLength / emb.shape[1];
    const x: Float64Array[] = [];
    for (const id of ids) x.push(tensorToFloat64(emb.type, await this.source.read(emb.offset + id * embRowBytes, embRowBytes), dim));

    const norm = (name: string, vs: Float64Array[]) =>
      this.vector(name).then((w) => vs.map((v) => {
        const o = new Float64Array(v.length);
        rmsnorm(o, v, w, c.rmsEps);
        return o;
      }));
    const addBias = async (name: string, vs: Float64Array[]) => {
      if (!this.infos.has(name)) return;
      const b = await this.vector(name);
      for (const v of vs) for (let i = 0; i < v.length; i++) v[i] += b[i];
    };

    for (let l = 0; l < c.numLayers; l++) {
      const p = `blk.${l}.`;
      // ---- attention ----
      const xb = await norm(`${p}attn_norm.weight`, x); // T × [dim]
      const q = await this.matmul(`${p}attn_q.weight`, xb); // T × [qDim]
      const k = await this.matmul(`${p}attn_k.weight`, xb); // T × [kvDim]
      const v = await this.matmul(`${p}attn_v.weight`, xb); // T × [kvDim]
      await addBias(`${p}attn_q.bias`, q);
      await addBias(`${p}attn_k.bias`, k);
      await addBias(`${p}attn_v.bias`, v);
      for (let t = 0; t < T; t++) {
        rope(q[t], c.numHeads, hd, c.ropeDim, t, c.ropeTheta, c.ropeStyle);
        rope(k[t], c.numKvHeads, hd, c.ropeDim, t, c.ropeTheta, c.ropeStyle);
      }
      const scale = c.attnScale ?? 1 / Math.sqrt(hd);
      const attnOut = q.map(() => new Float64Array(c.numHeads * hd)); // T × [qDim]
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < c.numHeads; h++) {
          const kvh = Math.floor(h / headsPerKv);
          const att = new Float64Array(t + 1);
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += q[t][h * hd + i] * k[s][kvh * hd + i];
            att[s] = dot * scale;
          }
          softmax(att);
          for (let s = 0; s <= t; s++) {
            for (let i = 0; i < hd; i++) attnOut[t][h * hd + i] += att[s] * v[s][kvh * hd + i];
          }
        }
      }
      const proj = await this.matmul(`${p}attn_output.weight`, attnOut); // T × [dim]
      for (let t = 0; t < T; t++) for (let i = 0; i < dim; i++) x[t][i] += proj[t][i];

      // ---- feed-forward (SwiGLU) ----
      const xf = await norm(`${p}ffn_norm.weight`, x);
      const gate = await this.matmul(`${p}ffn_gate.weight`, xf); // T × [ffnDim]
      const up = await this.matmul(`${p}ffn_up.weight`, xf);
      const hb = gate.map((g, t) => g.map((gi, i) => silu(gi) * up[t][i]));
      const down = await this.matmul(`${p}ffn_down.weight`, hb); // T × [dim]
      for (let t = 0; t < T; t++) for (let i = 0; i < dim; i++) x[t][i] += down[t][i];
    }

    const h = await norm('output_norm.weight', logitPositions.map((t) => x[t]));
    return this.matmul(this.infos.has('output.weight') ? 'output.weight' : 'token_embd.weight', h); // S × [vocab]
  }
}
