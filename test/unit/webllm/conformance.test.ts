// Conformance with WebLLM's engine interface. The type-level half is checked by the
// compiler: here against tabllm's own MLCEngineInterface, and in webllm-types.ts (run by
// types.test.ts) against @mlc-ai/web-llm's. The runtime half checks that what apps call
// exists and that what tabllm cannot do throws a named error instead of doing nothing.
import type { MLCEngine as WebLLMEngine, MLCEngineInterface as WebLLMInterface } from '@mlc-ai/web-llm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  MLCEngine, WebWorkerMLCEngine, CreateMLCEngine, CreateWebWorkerMLCEngine, CreateServiceWorkerMLCEngine, ServiceWorkerMLCEngine,
  ServiceWorkerMLCEngineHandler, type MLCEngineInterface,
} from '../../../src/compat/webllm';

// Assignability, both as a value and as types.
const asInterface: MLCEngineInterface = new MLCEngine();
const workerAsInterface = (w: WebWorkerMLCEngine): MLCEngineInterface => w;
expectTypeOf<MLCEngine>().toExtend<MLCEngineInterface>();
expectTypeOf<WebWorkerMLCEngine>().toExtend<MLCEngineInterface>();
// The factories take WebLLM's arguments in WebLLM's order.
expectTypeOf(CreateMLCEngine).parameters.toExtend<[string | string[], ...unknown[]]>();
expectTypeOf(CreateWebWorkerMLCEngine).parameter(0).toExtend<{ postMessage: (m: never) => void }>();
// Every public method of WebLLM's MLCEngine that is part of its interface exists here.
type InterfaceKeys = keyof WebLLMInterface & keyof WebLLMEngine;
expectTypeOf<InterfaceKeys>().toExtend<keyof MLCEngine>();

const METHODS: (keyof MLCEngineInterface)[] = [
  'setInitProgressCallback', 'getInitProgressCallback', 'setAppConfig', 'reload', 'chatCompletion', 'completion', 'embedding',
  'listResumableSessions', 'resumeChatCompletion', 'deleteResumableSession', 'runtimeStatsText', 'interruptGenerate', 'unload',
  'resetChat', 'getMessage', 'getMaxStorageBufferBindingSize', 'getGPUVendor', 'forwardTokensAndSample', 'setLogLevel',
];

describe('MLCEngine conformance', () => {
  it('has every MLCEngineInterface method and the chat/completions/embeddings namespaces', () => {
    for (const m of METHODS) expect(typeof asInterface[m], m).toBe('function');
    expect(typeof asInterface.chat.completions.create).toBe('function');
    expect(typeof asInterface.completions.create).toBe('function');
    expect(typeof asInterface.embeddings.create).toBe('function');
    expect(workerAsInterface).toBeTypeOf('function');
  });

  it('what tabllm cannot honour throws named errors', async () => {
    const engine = new MLCEngine();
    await expect(engine.forwardTokensAndSample([1, 2], true)).rejects.toMatchObject({ name: 'UnsupportedFeatureError', code: 'unsupported', feature: 'forwardTokensAndSample' });
    await expect(engine.resumeChatCompletion('s1')).rejects.toMatchObject({ name: 'UnsupportedFeatureError', feature: 'resumeChatCompletion' });
    await expect(engine.deleteResumableSession('s1')).rejects.toMatchObject({ name: 'UnsupportedFeatureError', feature: 'deleteResumableSession' });
    // As WebLLM: no model loaded is ModelNotLoadedError (a chat model: webllm/embedding.test.ts).
    await expect(engine.embeddings.create({ input: 'hi' })).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    expect(await engine.listResumableSessions()).toEqual([]);
    expect(() => new MLCEngine({ logitProcessorRegistry: new Map([['m', { processLogits: (l: Float32Array) => l, processSampledToken: () => {}, resetState: () => {} }]]) }))
      .toThrow(expect.objectContaining({ name: 'UnsupportedFieldsError', fields: ['logitProcessorRegistry'] }));
  });

  it('before a model is loaded, requests fail with ModelNotLoadedError; WebGPU queries fail without WebGPU', async () => {
    const engine = new MLCEngine();
    await expect(engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await expect(engine.completions.create({ prompt: 'hi' })).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await expect(engine.getMessage()).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await expect(engine.resetChat()).resolves.toBeUndefined();
    const noGpu = new MLCEngine({ gpu: { requestAdapter: async () => null } as unknown as GPU });
    await expect(noGpu.getGPUVendor()).rejects.toMatchObject({ name: 'WebGPUNotAvailableError' });
    await expect(noGpu.getMaxStorageBufferBindingSize()).rejects.toMatchObject({ name: 'WebGPUNotAvailableError' });
  });

  it('the service-worker engine names throw UnsupportedFeatureError naming what to use instead', async () => {
    const expected = { name: 'UnsupportedFeatureError', code: 'unsupported', message: expect.stringContaining('CreateWebWorkerMLCEngine') };
    await expect(CreateServiceWorkerMLCEngine('Qwen2.5-0.5B-Instruct-q4f16_1-MLC', { initProgressCallback: () => {} })).rejects.toMatchObject({ ...expected, feature: 'CreateServiceWorkerMLCEngine' });
    expect(() => new ServiceWorkerMLCEngineHandler()).toThrow(expect.objectContaining({ ...expected, feature: 'ServiceWorkerMLCEngineHandler' }));
    expect(() => new ServiceWorkerMLCEngine()).toThrow(expect.objectContaining({ ...expected, feature: 'ServiceWorkerMLCEngine' }));
  });

  it('takes WebLLM’s engine config fields: logLevel is kept, an empty logitProcessorRegistry is accepted', () => {
    const engine = new MLCEngine({ logLevel: 'INFO', logitProcessorRegistry: new Map(), initProgressCallback: () => {}, appConfig: { model_list: [] } });
    expect(engine.getLogLevel()).toBe('INFO');
    expect(engine.getInitProgressCallback()).toBeTypeOf('function');
  });

  it('reload argument errors are WebLLM’s', async () => {
    const engine = new MLCEngine();
    await expect(engine.reload(['a', 'b'], [{}])).rejects.toMatchObject({ name: 'ReloadArgumentSizeUnmatchedError' });
    await expect(engine.reload(['a', 'a'])).rejects.toMatchObject({ name: 'ReloadModelIdNotUniqueError' });
  });
});
