// The served model id: the caller's name, else the file's stem, else general.name.
import { describe, expect, it } from 'vitest';
import { modelIdFor, sourceStem } from '../../src/model-id';
import { createEngine } from '../../src/create-engine';
import { FakeRunner } from '../../src/testing/fake-runner';
import { STORIES_GGUF } from '../helpers/stories-reference';

describe('sourceStem', () => {
  it.each([
    ['/models/stories260K.gguf', 'stories260K'],
    ['C:\\models\\Qwen2.5-0.5B.Q4_K_M.GGUF', 'Qwen2.5-0.5B.Q4_K_M'],
    ['https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf?download=true#x', 'stories260K'],
    ['https://host/m/my%20model.gguf', 'my model'],
    ['https://host/m/100%25.gguf', '100%'],
    ['relative/dir/model-file', 'model-file'],
    ['https://host/', ''],
  ])('%s → %s', (src, stem) => {
    expect(sourceStem(src)).toBe(stem);
  });

  it('a URL object and a File use their names; bytes have none', () => {
    expect(sourceStem(new URL('http://127.0.0.1:5173/stories260K.gguf'))).toBe('stories260K');
    expect(sourceStem(new File([new Uint8Array(4)], 'picked.gguf'))).toBe('picked');
    expect(sourceStem(new Uint8Array(4))).toBe('');
    expect(sourceStem(new Blob([new Uint8Array(4)]))).toBe('');
  });
});

describe('modelIdFor', () => {
  it('modelId, then the stem, then general.name, then "model"', () => {
    expect(modelIdFor({ modelId: 'mine', model: '/m/stories260K.gguf' }, 'llama')).toBe('mine');
    expect(modelIdFor({ model: '/m/stories260K.gguf' }, 'llama')).toBe('stories260K');
    expect(modelIdFor({ model: new Uint8Array(4) }, ' llama ')).toBe('llama');
    expect(modelIdFor({ model: new Uint8Array(4) }, undefined)).toBe('model');
  });

  it('createEngine serves stories260K.gguf (general.name "llama") as stories260K', async () => {
    const engine = await createEngine({
      model: STORIES_GGUF,
      createRunner: async ({ config }) => new FakeRunner({ vocabSize: config.vocabSize, contextLength: 64, numKvBlocks: 8 }),
    });
    try {
      expect((await engine.info()).id).toBe('stories260K');
      expect((await engine.models.list()).data.map((m) => m.id)).toEqual(['stories260K']);
    } finally {
      await engine.destroy();
    }
  });
});
