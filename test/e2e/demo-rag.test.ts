// The demo's RAG flow (Flow tab) in Chromium, ?fake=1: the embedding model is loaded beside
// the chat model in the page's one engine worker, the corpus and question are embedded
// through the openai client and the fetch shim, the closest passages retrieved, and the chat
// model answers. Checked against the same two fake models built in Node: the page must show
// the same retrieved passages (same order, same scores) and exactly the same answer.
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { FakeRunner } from '../../src/testing/fake-runner';
import { DEFAULT_CORPUS, DEFAULT_QUESTION, EMBED_MODEL_ID, topK } from '../../demo/rag';
import { openTestBrowser, PROJECT_ROOT, SHARED_DIR, type TestBrowser } from '../helpers/browser';

const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');

/** What demo/engine.worker.ts's fake runners give for the default corpus and question. */
async function expected(): Promise<{ hits: { index: number; score: number }[]; answer: string }> {
  const engine = await createEngine({
    models: [STORIES, { model: STORIES, modelId: EMBED_MODEL_ID }],
    createRunner: async ({ config, modelId }) =>
      modelId?.startsWith('embed')
        ? new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 2, embeddingDim: 64 })
        : new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 512 }),
  });
  try {
    const passages = DEFAULT_CORPUS.split('\n');
    const corpus = await engine.embeddings.create({ model: EMBED_MODEL_ID, input: passages });
    const asked = await engine.embeddings.create({ model: EMBED_MODEL_ID, input: DEFAULT_QUESTION });
    const hits = topK(asked.data[0]!.embedding as number[], corpus.data.map((d) => d.embedding as number[]), 2);
    const prompt = `Answer the question from these passages.\n${hits.map((h) => `- ${passages[h.index]}`).join('\n')}\nQuestion: ${DEFAULT_QUESTION}\nAnswer:`;
    const r = await engine.completions.create({ model: 'stories260K', prompt, max_tokens: 24, temperature: 0 });
    return { hits, answer: r.choices[0]!.text };
  } finally {
    await engine.destroy();
  }
}

describe('demo RAG flow, ?fake=1 (Chromium, fake runners)', () => {
  let session: TestBrowser;
  let page: Page;
  let errors: string[] = [];

  beforeAll(async () => {
    session = await openTestBrowser({ configFile: resolve(PROJECT_ROOT, 'demo/vite.config.ts') });
    const t = await session.open('/?fake=1', { readySelector: 'body[data-model-ready]' });
    page = t.page;
    errors = t.errors;
  });

  afterAll(async () => {
    await session?.close();
  });

  it('embeds the corpus, retrieves the same passages as Node, and answers with the chat model', async () => {
    const want = await expected();
    await page.click('nav.tabs [data-tab=flow]');
    expect(await page.textContent('#tab-flow .rag .fake-label')).toMatch(/Fake runner/);
    await page.click('#tab-flow .run-rag');
    await page.waitForSelector('#tab-flow .rag[data-done]', { timeout: 60_000 });
    expect(await page.textContent('#tab-flow .embed-status')).toMatch(/^embedder · llama · 64-dim vectors · fake embedding runner$/);
    const hits = await page.$$eval('#tab-flow .rag-hits li', (lis) => lis.map((li) => [Number(li.getAttribute('data-index')), li.querySelector('.score')!.textContent]));
    expect(hits).toEqual(want.hits.map((h) => [h.index, `(${h.score.toFixed(3)})`]));
    expect(await page.textContent('#tab-flow .rag-answer')).toBe(want.answer);
    expect(want.answer.length).toBeGreaterThan(0);
    expect(await page.textContent('#tab-flow .rag-summary')).toMatch(/^6 passages embedded \(\d+ tokens\), top 2 retrieved, answered by stories260K in [\d.]+ s$/);
    // The page's engine now serves both models.
    const ids = await page.evaluate(async () => ((await (await fetch('http://localhost:8000/v1/models')).json()) as { data: { id: string }[] }).data.map((m) => m.id));
    expect(ids).toEqual(['stories260K', 'embedder']);
    expect(errors).toEqual([]);
  });
});
