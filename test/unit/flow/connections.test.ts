// Where an llm node's request goes: local base URLs (vLLM's, Ollama's, or named by the run),
// connections with no URL, and every connection under engineServes 'all' reach the engine's
// router; the rest reach the network fetch with their key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlow, type FlowConnection } from '../../../src/flow';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { CHATML, fakeLocalEngine } from '../../helpers/fake-local-engine';
import { readFixture, recordingEngine } from '../../helpers/flow-fixtures';

let engine: MultiEngine;
beforeAll(async () => {
  ({ engine } = await fakeLocalEngine({ chatTemplate: CHATML, contextLength: 4096, numKvBlocks: 256 }));
});
afterAll(() => engine.destroy());

/** Runs chat-basic with `open_ai_connection` set to `conn`; says who answered. */
async function whoAnswers(conn: FlowConnection | undefined, extra: object = {}): Promise<{ engine: number; network: string[] }> {
  const rec = recordingEngine(engine);
  const network: string[] = [];
  const fetch = async (url: RequestInfo | URL) => {
    network.push(String(url));
    return Response.json({ choices: [{ message: { role: 'assistant', content: 'remote' } }] });
  };
  const folder = await readFixture('flows/chat-basic');
  await runFlow(folder.files, {}, { engine: rec.engine, fetch, connections: conn ? { open_ai_connection: conn } : {}, ...extra });
  return { engine: rec.chats.length, network };
}

describe('connections', () => {
  it.each([
    ['vLLM on localhost:8000', { type: 'open_ai', api_base: 'http://localhost:8000/v1' }],
    ['Ollama on 127.0.0.1:11434', { type: 'open_ai', api_base: 'http://127.0.0.1:11434/v1' }],
    ['no URL at all', { type: 'open_ai' }],
  ])('%s → the engine', async (_name, conn) => {
    expect(await whoAnswers(conn)).toEqual({ engine: 1, network: [] });
  });

  it('an undefined connection → the engine', async () => {
    expect(await whoAnswers(undefined)).toEqual({ engine: 1, network: [] });
  });

  it('a remote URL → the network, unless the run names it local or says all', async () => {
    const conn = { type: 'open_ai', api_base: 'http://gpu-box:9000/v1' };
    expect(await whoAnswers(conn)).toEqual({ engine: 0, network: ['http://gpu-box:9000/v1/chat/completions'] });
    expect(await whoAnswers(conn, { localBaseUrls: ['http://gpu-box:9000'] })).toEqual({ engine: 1, network: [] });
    expect(await whoAnswers(conn, { engineServes: 'all' })).toEqual({ engine: 1, network: [] });
  });

  it('${env:NAME} in a prompty configuration resolves from the run env', async () => {
    const files = {
      'a.prompty': '---\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_endpoint: ${env:AZURE_OPENAI_ENDPOINT}\n    azure_deployment: gpt-4o\n---\nuser:\nhi\n',
    };
    const urls: string[] = [];
    const fetch = async (url: RequestInfo | URL) => {
      urls.push(String(url));
      return Response.json({ choices: [{ message: { role: 'assistant', content: 'x' } }] });
    };
    expect((await runFlow(files, {}, { engine, fetch, env: { AZURE_OPENAI_ENDPOINT: 'https://e.example.com' } })).outputs).toBe('x');
    expect(urls).toEqual(['https://e.example.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-01']);
    // Unset: no URL, so the engine answers.
    const rec = recordingEngine(engine);
    await runFlow(files, {}, { engine: rec.engine, fetch });
    expect(rec.chats).toHaveLength(1);
  });

  it('a remote error answer becomes llm_request_failed with the status and code', async () => {
    const fetch = async () => Response.json({ error: { message: 'bad key', code: 'invalid_api_key' } }, { status: 401 });
    const folder = await readFixture('flows/chat-basic');
    await expect(runFlow(folder.files, {}, { fetch, connections: { open_ai_connection: { api_base: 'https://api.example.com/v1' } } })).rejects.toMatchObject({
      code: 'llm_request_failed',
      node: 'chat',
      message: expect.stringContaining('401: bad key [invalid_api_key]'),
    });
  });
});
