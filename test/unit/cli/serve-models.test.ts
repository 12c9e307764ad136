// `tabllm serve a.gguf b.gguf`: several models in one server, named by file stem or by the
// --name in their place; argument errors exit 2 before anything loads.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs, type ServeArgs } from '../../../src/cli/args';
import { serveCommand, type EngineFactory } from '../../../src/cli/commands';
import { createEngine } from '../../../src/create-engine';
import { fakeEmbedEngine, STORIES_GGUF } from '../../helpers/fake-embed-engine';

const quiet = () => {
  const err: string[] = [];
  return { err, io: { stdout: () => {}, stderr: (t: string) => void err.push(t) } };
};

describe('tabllm serve with several models: arguments', () => {
  it('takes several models and a --name per model, in order', () => {
    const a = parseCliArgs(['serve', 'chat.gguf', 'bge.gguf', '--name', 'chat', '--name', 'bge']) as ServeArgs;
    expect(a).toMatchObject({ model: 'chat.gguf', models: ['chat.gguf', 'bge.gguf'], name: 'chat', names: ['chat', 'bge'] });
    const one = parseCliArgs(['serve', 'm.gguf', '--name', 'x']) as ServeArgs;
    expect(one).toMatchObject({ model: 'm.gguf', name: 'x' });
    expect(one.models).toBeUndefined();
  });

  it('refuses more names than models, an empty name, and several models for run', () => {
    expect(() => parseCliArgs(['serve', 'a.gguf', '--name', 'x', '--name', 'y'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['serve', 'a.gguf', '--name', ' '])).toThrow(/--name/);
    expect(() => parseCliArgs(['run', 'a.gguf', 'b.gguf'])).toThrow(/unexpected argument 'b.gguf'/);
  });
});

describe('tabllm serve with several models: serving', () => {
  it('serves a chat model and an embedding model named by stem and --name', async () => {
    // Two files with their own stems: 'stories260K' (chat) and 'embed-small' (embeddings).
    const dir = mkdtempSync(join(tmpdir(), 'tabllm-serve-'));
    const embedFile = join(dir, 'embed-small.gguf');
    copyFileSync(STORIES_GGUF, embedFile);
    const { createRunner, engine: helper } = await fakeEmbedEngine({ embedOnly: true });
    await helper.destroy();
    const factory: EngineFactory = (options) => createEngine({ ...options, createRunner });
    const c = quiet();
    const server = await serveCommand(parseCliArgs(['serve', STORIES_GGUF, embedFile, '--port', '0']) as ServeArgs, factory, c.io);
    try {
      const list = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(list.data.map((m) => m.id)).toEqual(['stories260K', 'embed-small']);
      const tags = (await (await fetch(`${server.url}/api/tags`)).json()) as { models: { name: string }[] };
      expect(tags.models.map((m) => m.name)).toEqual(['stories260K:latest', 'embed-small:latest']);
      const r = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'embed-small', input: 'hello' }) });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: { embedding: number[] }[] }).data[0]!.embedding).toHaveLength(32);
      const c2 = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'stories260K', prompt: 'Once', max_tokens: 2 }) });
      expect(c2.status).toBe(200);
      expect(c.err.join('')).toMatch(/serving 'stories260K' \(llama, F32\), 'embed-small' \(llama, F32, embeddings\)/);
    } finally {
      await server.close(0);
    }
  });

  it('two models with one stem and no --name: the load fails with a clear error, the port closes', async () => {
    const { createRunner, engine: helper } = await fakeEmbedEngine({ embedOnly: true });
    await helper.destroy();
    const factory: EngineFactory = (options) => createEngine({ ...options, createRunner });
    const err = await serveCommand(parseCliArgs(['serve', STORIES_GGUF, STORIES_GGUF, '--port', '0']) as ServeArgs, factory, quiet().io).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_request' });
    expect((err as Error).message).toContain("two models are named 'stories260K'");
  });
});
