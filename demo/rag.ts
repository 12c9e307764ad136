// The Flow tab's RAG flow: a chat model and an embedding model in one engine in this tab.
// Embed a small corpus, embed the question, retrieve the closest passages by cosine
// similarity (the engine answers unit vectors, so a dot product), and answer with the chat
// model given them — all through the `openai` client at http://localhost:8000/v1, as an app
// would against vLLM or Ollama serving the two models. In ?fake=1 mode both models are the
// fake runner (the embedding one hashes token ids: retrieval then matches on wording, not
// meaning), and the page says so.
import type { DemoSession } from './session';
import { el, errorText, showError } from './ui';

export const EMBED_MODEL_ID = 'embedder';

export const DEFAULT_CORPUS = [
  'Lily has a red ball that she plays with in the garden.',
  'Tom likes to read books about big ships and the sea.',
  'The little cat sleeps on the warm mat by the door.',
  'Sue bakes bread with her mom every Sunday morning.',
  'Ben found a shiny key under the old tree.',
  'Mia flies a blue kite when the wind is strong.',
].join('\n');
export const DEFAULT_QUESTION = 'What did Ben find under the tree?';

/** Cosine similarity of unit vectors: their dot product. */
export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Indices of the `k` passages most similar to `query`, best first, with their scores. */
export function topK(query: readonly number[], passages: readonly (readonly number[])[], k: number): { index: number; score: number }[] {
  return passages.map((p, index) => ({ index, score: dot(query, p) })).sort((a, b) => b.score - a.score).slice(0, k);
}

export function mountRag(root: HTMLElement, session: DemoSession, fake: boolean, defaultEmbedSource: string): void {
  const card = el('div', { class: 'card rag' });
  card.innerHTML = `
    <h2>RAG flow: retrieve, then answer</h2>
    <p class="muted small">Two models in one engine: an embedding model embeds the corpus and the question, the closest passages (cosine similarity) go into the chat model's prompt.${fake ? ' <strong class="fake-label">Fake runner: the embedding model hashes token ids (no meaning), the chat model writes fake text.</strong>' : ''}</p>
    <div class="row wrap">
      <label>Embedding model (GGUF URL: bge, nomic-embed, …)<input class="embed-source" type="text" spellcheck="false" /></label>
      <button type="button" class="load-embed">Load embedding model</button>
    </div>
    <p class="embed-status small muted" aria-live="polite"></p>
    <label>Corpus (one passage per line)<textarea class="corpus" rows="6" spellcheck="false"></textarea></label>
    <label>Question<input class="question" type="text" spellcheck="false" /></label>
    <div class="row wrap">
      <label>Passages retrieved <input class="rag-k" type="number" min="1" max="8" value="2" /></label>
      <label>Max tokens <input class="rag-max-tokens" type="number" min="1" max="512" value="24" /></label>
      <button type="button" class="run-rag">Retrieve and answer</button>
    </div>
    <div class="error rag-error" role="alert" hidden></div>
    <ol class="rag-hits"></ol>
    <p class="rag-answer"></p>
    <p class="rag-summary small muted" aria-live="polite"></p>`;
  root.append(card);
  const q = <T extends HTMLElement>(sel: string) => card.querySelector<T>(sel)!;
  const source = q<HTMLInputElement>('.embed-source');
  const status = q('.embed-status');
  const errorBox = q('.rag-error');
  source.value = defaultEmbedSource;
  q<HTMLTextAreaElement>('.corpus').value = DEFAULT_CORPUS;
  q<HTMLInputElement>('.question').value = DEFAULT_QUESTION;

  const loadEmbedding = async (): Promise<boolean> => {
    if (!session.engine) {
      showError(errorBox, 'engine_not_loaded: load a chat model first (Models tab)');
      return false;
    }
    if (session.embedInfo) return true;
    if (!source.value.trim()) {
      showError(errorBox, 'no embedding model: give a GGUF URL of an embedding model (bge-small, nomic-embed-text, …)');
      return false;
    }
    status.textContent = 'loading the embedding model…';
    try {
      const info = await session.loadEmbedding(source.value.trim(), EMBED_MODEL_ID);
      status.textContent = `${info.id} · ${info.arch} · ${info.embeddingDim}-dim vectors${fake ? ' · fake embedding runner' : ''}`;
      card.dataset.embedReady = '';
      return true;
    } catch (err) {
      status.textContent = '';
      showError(errorBox, err);
      return false;
    }
  };
  q('.load-embed').addEventListener('click', () => {
    showError(errorBox);
    void loadEmbedding();
  });

  q('.run-rag').addEventListener('click', async () => {
    showError(errorBox);
    const button = q<HTMLButtonElement>('.run-rag');
    const chat = session.info;
    if (!(await loadEmbedding()) || !chat) return;
    const passages = q<HTMLTextAreaElement>('.corpus').value.split('\n').map((s) => s.trim()).filter(Boolean);
    const question = q<HTMLInputElement>('.question').value.trim();
    if (passages.length === 0 || !question) return showError(errorBox, 'invalid_request: give a corpus and a question');
    const k = Math.max(1, Math.min(8, Math.round(Number(q<HTMLInputElement>('.rag-k').value) || 2)));
    const maxTokens = Math.max(1, Math.min(512, Math.round(Number(q<HTMLInputElement>('.rag-max-tokens').value) || 24)));
    button.disabled = true;
    delete card.dataset.done;
    const started = performance.now();
    try {
      // One request for the corpus (batched in the engine), one for the question.
      const corpus = await session.client.embeddings.create({ model: EMBED_MODEL_ID, input: passages, encoding_format: 'float' });
      const asked = await session.client.embeddings.create({ model: EMBED_MODEL_ID, input: question, encoding_format: 'float' });
      const hits = topK(asked.data[0]!.embedding, corpus.data.map((d) => d.embedding), k);
      q('.rag-hits').replaceChildren(...hits.map((h) => el('li', { 'data-index': h.index }, `${passages[h.index]} `, el('span', { class: 'muted small score' }, `(${h.score.toFixed(3)})`))));
      const context = hits.map((h) => `- ${passages[h.index]}`).join('\n');
      const prompt = `Answer the question from these passages.\n${context}\nQuestion: ${question}\nAnswer:`;
      let answer: string;
      if (chat.hasChatTemplate) {
        const r = await session.client.chat.completions.create({ model: chat.id, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature: 0 });
        answer = r.choices[0]?.message.content ?? '';
      } else {
        const r = await session.client.completions.create({ model: chat.id, prompt, max_tokens: maxTokens, temperature: 0 });
        answer = r.choices[0]?.text ?? '';
      }
      q('.rag-answer').textContent = answer;
      q('.rag-summary').textContent = `${passages.length} passages embedded (${corpus.usage.prompt_tokens} tokens), top ${hits.length} retrieved, answered by ${chat.id} in ${((performance.now() - started) / 1000).toFixed(2)} s`;
      card.dataset.done = '';
    } catch (err) {
      showError(errorBox, errorText(err));
    } finally {
      button.disabled = false;
    }
  });
}
