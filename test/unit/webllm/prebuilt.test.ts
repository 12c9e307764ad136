// The WebLLM prebuilt id → GGUF table, and how model ids resolve (model_list record first,
// then the table, else a ModelNotFoundError listing the mapped ids). WebLLM's own
// prebuiltAppConfig (the installed @mlc-ai/web-llm) is the oracle for which ids exist.
import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import {
  CreateMLCEngine, MLCEngine, modelLibURLPrefix, modelVersion, prebuiltAppConfig as ourAppConfig,
} from '../../../src/compat/webllm';
import { isGgufLocation, mappedPrebuiltIds, PREBUILT_GGUF, resolveWebLLMModel } from '../../../src/compat/webllm/prebuilt';
import { checkChatOptions } from '../../../src/compat/webllm/request';
import { modelIdForUrl, resolveModelUrl } from '../../../src/storage';

const webllmIds = new Set(prebuiltAppConfig.model_list.map((r) => r.model_id));

describe('prebuilt id table', () => {
  it('covers the common WebLLM chat models the issue names', () => {
    for (const id of [
      'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', 'Qwen2.5-1.5B-Instruct-q4f16_1-MLC', 'Llama-3.2-1B-Instruct-q4f16_1-MLC',
      'Llama-3.2-3B-Instruct-q4f16_1-MLC', 'Phi-3.5-mini-instruct-q4f16_1-MLC', 'SmolLM2-135M-Instruct-q0f16-MLC',
      'SmolLM2-360M-Instruct-q4f16_1-MLC', 'SmolLM2-1.7B-Instruct-q4f16_1-MLC',
    ]) {
      expect(PREBUILT_GGUF.has(id), id).toBe(true);
    }
  });

  it('maps Gemma-2, Gemma-3 1B and Phi-4-mini to their Q4_K_M GGUF builds (architectures tabllm now runs)', () => {
    const hf = (repo: string, file: string) => `https://huggingface.co/${repo}/resolve/main/${file}`;
    const expected: Record<string, string> = {
      'gemma-2-2b-it-q4f16_1-MLC': hf('bartowski/gemma-2-2b-it-GGUF', 'gemma-2-2b-it-Q4_K_M.gguf'),
      'gemma-2-2b-it-q4f32_1-MLC-1k': hf('bartowski/gemma-2-2b-it-GGUF', 'gemma-2-2b-it-Q4_K_M.gguf'),
      'gemma-2-9b-it-q4f16_1-MLC': hf('bartowski/gemma-2-9b-it-GGUF', 'gemma-2-9b-it-Q4_K_M.gguf'),
      'gemma3-1b-it-q4f16_1-MLC': hf('ggml-org/gemma-3-1b-it-GGUF', 'gemma-3-1b-it-Q4_K_M.gguf'),
      'Phi-4-mini-instruct-q4f16_1-MLC': hf('bartowski/microsoft_Phi-4-mini-instruct-GGUF', 'microsoft_Phi-4-mini-instruct-Q4_K_M.gguf'),
      'Phi-3.5-mini-instruct-q4f16_1-MLC': hf('bartowski/Phi-3.5-mini-instruct-GGUF', 'Phi-3.5-mini-instruct-Q4_K_M.gguf'),
    };
    for (const [id, url] of Object.entries(expected)) expect(PREBUILT_GGUF.get(id)?.url, id).toBe(url);
    // WebLLM ships gemma3-1b-it in q4f16_1 only: the q4f32_1 id the pattern would make is not offered.
    expect(PREBUILT_GGUF.has('gemma3-1b-it-q4f32_1-MLC')).toBe(false);
    expect(resolveWebLLMModel('gemma-2-2b-it-q4f16_1-MLC-1k', prebuiltAppConfig).chatOptions).toEqual({ context_window_size: 1024 });
  });

  it('every mapped id is a real WebLLM prebuilt id', () => {
    const unknown = mappedPrebuiltIds().filter((id) => !webllmIds.has(id));
    expect(unknown).toEqual([]);
  });

  it('every mapped id resolves to an https Hugging Face .gguf URL that the storage layer accepts unchanged', () => {
    for (const [id, m] of PREBUILT_GGUF) {
      expect(m.url, id).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+-GGUF\/resolve\/main\/[\w.-]+\.gguf$/);
      expect(resolveModelUrl(m.url), id).toBe(m.url);
      expect(modelIdForUrl(m.url), id).toMatch(/\.gguf-[0-9a-f]{8}$/);
      // 4-bit ids get a Q4_K_M file, unquantized ids a Q8_0 file.
      expect(m.url.toLowerCase(), id).toContain(/-q0f(16|32)-/.test(id) ? 'q8_0' : 'q4_k_m');
    }
  });

  it('every mapped id keeps the context window of WebLLM’s own record', () => {
    for (const [id, m] of PREBUILT_GGUF) {
      const theirs = prebuiltAppConfig.model_list.find((r) => r.model_id === id)!;
      expect(m.overrides.context_window_size, id).toBe(theirs.overrides?.context_window_size);
    }
  });

  it('-1k ids keep WebLLM’s 1024-token context, like its own records', () => {
    const oneK = mappedPrebuiltIds().filter((id) => id.endsWith('-1k'));
    expect(oneK.length).toBeGreaterThan(0);
    for (const id of oneK) {
      expect(PREBUILT_GGUF.get(id)!.overrides).toEqual({ context_window_size: 1024 });
      const theirs = prebuiltAppConfig.model_list.find((r) => r.model_id === id)!;
      expect(theirs.overrides?.context_window_size).toBe(1024);
    }
  });

  it('an app that passes WebLLM’s own prebuiltAppConfig still gets the GGUF build', () => {
    const r = resolveWebLLMModel('Qwen2.5-0.5B-Instruct-q4f16_1-MLC', prebuiltAppConfig);
    expect(r).toMatchObject({ via: 'prebuilt', source: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf' });
  });

  it('every mapped id also resolves when the app passes WebLLM’s prebuiltAppConfig, with options tabllm honours', () => {
    for (const [id, m] of PREBUILT_GGUF) {
      const r = resolveWebLLMModel(id, prebuiltAppConfig);
      expect(r.source, id).toBe(m.url);
      expect(() => checkChatOptions(r.chatOptions, id), id).not.toThrow();
    }
    expect(() => checkChatOptions({ conv_template: {} as never }, 'ChatOptions')).toThrow(expect.objectContaining({ name: 'UnsupportedFieldsError', fields: ['conv_template'] }));
  });

  it('a model_list record with a GGUF URL wins over the table, with its overrides and chat options merged', () => {
    const appConfig = {
      model_list: [{ model_id: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', model: 'https://example.com/m/own.gguf', model_lib: '', overrides: { temperature: 0.3, top_p: 0.9 } }],
    };
    const r = resolveWebLLMModel('Qwen2.5-0.5B-Instruct-q4f16_1-MLC', appConfig, { top_p: 0.5 });
    expect(r).toEqual({ modelId: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', source: 'https://example.com/m/own.gguf', chatOptions: { temperature: 0.3, top_p: 0.5 }, via: 'model_list' });
    expect(isGgufLocation('hf://org/repo/file.GGUF')).toBe(true);
    expect(isGgufLocation('https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC')).toBe(false);
  });

  it('an unmapped id is a ModelNotFoundError that lists the mapped ids', async () => {
    let caught: unknown;
    try {
      resolveWebLLMModel('Phi-3.5-vision-instruct-q4f16_1-MLC', prebuiltAppConfig);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'ModelNotFoundError', code: 'model_not_found' });
    const message = (caught as Error).message;
    expect(message).toContain('Phi-3.5-vision-instruct-q4f16_1-MLC');
    for (const id of mappedPrebuiltIds()) expect(message).toContain(id);

    // Through the public entry points too, and before anything is loaded or downloaded.
    await expect(CreateMLCEngine('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
    await expect(new MLCEngine().reload(['No-Such-Model-MLC'])).rejects.toThrow(/Qwen2\.5-0\.5B-Instruct-q4f16_1-MLC/);
  });
});

describe('prebuiltAppConfig (tabllm’s)', () => {
  const records = ourAppConfig.model_list;

  it('lists every mapped id once, each record pointing at its GGUF build', () => {
    expect(records.map((r) => r.model_id)).toEqual(mappedPrebuiltIds());
    for (const r of records) {
      const m = PREBUILT_GGUF.get(r.model_id)!;
      expect(r.model, r.model_id).toBe(m.url);
      expect(isGgufLocation(r.model), r.model_id).toBe(true);
      expect(r.model_lib, r.model_id).toBe('');
      expect(r.overrides, r.model_id).toEqual(m.overrides);
    }
  });

  it('gives each record a VRAM estimate (weights plus the KV cache of its context) and a low-resource flag', () => {
    const vram = (id: string) => records.find((r) => r.model_id === id)!.vram_required_MB!;
    for (const r of records) {
      expect(r.vram_required_MB, r.model_id).toBeGreaterThan(0);
      expect(r.low_resource_required, r.model_id).toBe(r.vram_required_MB! <= 3072);
    }
    // A shorter context needs less memory for the same file; a larger model needs more.
    expect(vram('Phi-3.5-mini-instruct-q4f16_1-MLC-1k')).toBeLessThan(vram('Phi-3.5-mini-instruct-q4f16_1-MLC'));
    expect(vram('Qwen2.5-0.5B-Instruct-q4f16_1-MLC')).toBeLessThan(vram('Qwen2.5-1.5B-Instruct-q4f16_1-MLC'));
    expect(vram('Qwen2.5-0.5B-Instruct-q4f16_1-MLC')).toBeLessThan(vram('Qwen2.5-0.5B-Instruct-q0f16-MLC'));
    // As in WebLLM's list: full-context Phi-3.5-mini and gemma-2-9b are not low-resource among these.
    expect(records.filter((r) => !r.low_resource_required).map((r) => r.model_id).sort())
      .toEqual(['Phi-3.5-mini-instruct-q4f16_1-MLC', 'Phi-3.5-mini-instruct-q4f32_1-MLC', 'gemma-2-9b-it-q4f16_1-MLC', 'gemma-2-9b-it-q4f32_1-MLC']);
  });

  it('loads exactly what the bare id loads, so passing it (or its records) changes nothing', () => {
    for (const id of mappedPrebuiltIds()) {
      const bare = resolveWebLLMModel(id, undefined);
      const viaConfig = resolveWebLLMModel(id, ourAppConfig);
      expect(viaConfig.source, id).toBe(bare.source);
      expect(viaConfig.chatOptions, id).toEqual(bare.chatOptions);
      expect(() => checkChatOptions(viaConfig.chatOptions, id), id).not.toThrow();
    }
  });

  it('is not shared mutable state with the id table', () => {
    const r = records[0]!;
    r.overrides!.context_window_size = 7;
    expect(PREBUILT_GGUF.get(r.model_id)!.overrides.context_window_size).not.toBe(7);
    r.overrides!.context_window_size = PREBUILT_GGUF.get(r.model_id)!.overrides.context_window_size;
  });

  it('modelVersion and modelLibURLPrefix exist for records built the WebLLM way; model_lib is ignored', () => {
    const appConfig = { model_list: [{ model_id: 'own', model: 'https://example.com/own.gguf', model_lib: modelLibURLPrefix + modelVersion + '/own-webgpu.wasm' }] };
    expect(resolveWebLLMModel('own', appConfig)).toMatchObject({ source: 'https://example.com/own.gguf', via: 'model_list' });
  });
});
