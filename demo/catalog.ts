// Real GGUF models the demo offers, as Hugging Face `org/repo:file` names (resolved by
// `resolveModelUrl`). Sizes are approximate (file sizes as listed on the Hub, rounded).

export interface CatalogModel {
  name: string;
  source: string;
  quant: string;
  approxBytes: number;
  note: string;
}

export const CATALOG: CatalogModel[] = [
  { name: 'stories260K', source: 'ggml-org/models:tinyllamas/stories260K.gguf', quant: 'F32', approxBytes: 1.2e6, note: 'tiny TinyStories model, no chat template' },
  { name: 'SmolLM2-135M-Instruct', source: 'bartowski/SmolLM2-135M-Instruct-GGUF:SmolLM2-135M-Instruct-Q8_0.gguf', quant: 'Q8_0', approxBytes: 145e6, note: 'llama arch, chat' },
  { name: 'SmolLM2-360M-Instruct', source: 'ngxson/SmolLM2-360M-Instruct-Q8_0-GGUF:smollm2-360m-instruct-q8_0.gguf', quant: 'Q8_0', approxBytes: 386e6, note: 'llama arch, chat' },
  { name: 'Qwen2.5-0.5B-Instruct', source: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf', quant: 'Q4_K_M', approxBytes: 491e6, note: 'qwen2 arch, chat' },
  { name: 'Qwen2.5-1.5B-Instruct', source: 'Qwen/Qwen2.5-1.5B-Instruct-GGUF:qwen2.5-1.5b-instruct-q4_k_m.gguf', quant: 'Q4_K_M', approxBytes: 1.12e9, note: 'qwen2 arch, chat' },
  { name: 'Llama-3.2-1B-Instruct', source: 'bartowski/Llama-3.2-1B-Instruct-GGUF:Llama-3.2-1B-Instruct-Q4_K_M.gguf', quant: 'Q4_K_M', approxBytes: 808e6, note: 'llama arch, chat' },
  { name: 'Phi-3.5-mini-instruct', source: 'bartowski/Phi-3.5-mini-instruct-GGUF:Phi-3.5-mini-instruct-Q4_K_M.gguf', quant: 'Q4_K_M', approxBytes: 2.39e9, note: 'phi3 arch, chat; needs a large GPU' },
];
