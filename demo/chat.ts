// The Chat tab: streaming chat (models with a chat template) or plain completion (models
// without one, like stories260K), with a stop button, sampling settings, and per-message
// token counts and speed. Requests go through the `openai` client at localhost:8000/v1,
// answered in this tab by the fetch shim — the same code a vLLM server would answer.
import type OpenAI from 'openai';
import type { EngineInfo } from '../src/openai/engine-api';
import type { DemoSession } from './session';
import { el, errorText, isAbort, numberInput, showError } from './ui';

interface Sampling {
  temperature: number;
  top_p: number;
  top_k: number;
  max_tokens: number;
  seed?: number;
}

interface MessageStats {
  promptTokens?: number;
  completionTokens: number;
  firstTokenMs?: number;
  decodeMs: number;
  finish: string;
}

function statsText(s: MessageStats): string {
  const tps = s.completionTokens > 1 && s.decodeMs > 0 ? ((s.completionTokens - 1) / (s.decodeMs / 1000)).toFixed(1) : '–';
  const ttft = s.firstTokenMs !== undefined ? `${s.firstTokenMs.toFixed(0)} ms to first token · ` : '';
  const prompt = s.promptTokens !== undefined ? `${s.promptTokens} prompt + ` : '';
  return `${prompt}${s.completionTokens} tokens · ${ttft}${tps} tok/s · ${s.finish}`;
}

export function mountChat(root: HTMLElement, session: DemoSession): void {
  root.innerHTML = `
    <div class="chat-layout">
      <div class="card chat-main">
        <div class="row mode-row">
          <h2 class="grow">Chat</h2>
          <label>Mode <select class="mode"><option value="completion">Completion</option><option value="chat">Chat</option></select></label>
        </div>
        <p class="muted mode-note"></p>
        <div class="messages" aria-live="polite"></div>
        <form class="row composer">
          <textarea class="grow prompt" rows="3" placeholder="Once upon a time"></textarea>
          <div class="col">
            <button type="submit" class="send">Generate</button>
            <button type="button" class="stop secondary" disabled>Stop</button>
          </div>
        </form>
        <div class="error chat-error" role="alert" hidden></div>
      </div>
      <details class="card settings" open>
        <summary>Sampling</summary>
        <label>Temperature <input class="temperature" type="number" min="0" max="2" step="0.1" value="0.7" /></label>
        <label>Top-p <input class="top-p" type="number" min="0" max="1" step="0.05" value="0.95" /></label>
        <label>Top-k <input class="top-k" type="number" min="0" max="1000" step="1" value="40" /></label>
        <label>Max tokens <input class="max-tokens" type="number" min="1" max="4096" step="1" value="128" /></label>
        <label>Seed <input class="seed" type="number" step="1" placeholder="random" /></label>
        <p class="muted small">Temperature 0 is greedy: the same text every time.</p>
      </details>
    </div>`;
  const q = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
  const mode = q<HTMLSelectElement>('.mode');
  const note = q('.mode-note');
  const messages = q('.messages');
  const prompt = q<HTMLTextAreaElement>('.prompt');
  const send = q<HTMLButtonElement>('.send');
  const stop = q<HTMLButtonElement>('.stop');
  const errorBox = q('.chat-error');
  let history: { role: 'user' | 'assistant'; content: string }[] = [];
  let controller: AbortController | undefined;
  let info: EngineInfo | undefined;

  const sampling = (): Sampling => {
    const seedText = q<HTMLInputElement>('.seed').value.trim();
    return {
      temperature: numberInput(q('.temperature'), 0, 2, 0.7),
      top_p: numberInput(q('.top-p'), 0, 1, 1),
      top_k: Math.round(numberInput(q('.top-k'), 0, 1000, 0)),
      max_tokens: Math.round(numberInput(q('.max-tokens'), 1, 4096, 128)),
      seed: seedText === '' ? undefined : Math.round(Number(seedText)),
    };
  };

  const setMode = (m: 'chat' | 'completion') => {
    mode.value = m;
    history = [];
    messages.replaceChildren();
    send.textContent = m === 'chat' ? 'Send' : 'Generate';
    prompt.placeholder = m === 'chat' ? 'Ask something…' : 'Once upon a time (empty: start from the beginning-of-text token)';
    note.textContent = m === 'chat'
      ? 'Messages are rendered with the model\'s own chat template and sent to /v1/chat/completions.'
      : info && !info.hasChatTemplate
        ? `${info.id} has no chat template: plain text completion through /v1/completions.`
        : 'Plain text completion through /v1/completions.';
  };
  mode.addEventListener('change', () => setMode(mode.value as 'chat' | 'completion'));
  setMode('completion');
  session.listen({
    onLoaded: (loaded) => {
      info = loaded;
      (mode.querySelector('option[value=chat]') as HTMLOptionElement).disabled = !loaded.hasChatTemplate;
      setMode(loaded.hasChatTemplate ? 'chat' : 'completion');
    },
  });

  const bubble = (role: string, text: string) => {
    const body = el('div', { class: 'text' }, text);
    const meta = el('div', { class: 'meta muted small' });
    const node = el('div', { class: `message ${role}` }, el('div', { class: 'role small' }, role), body, meta);
    messages.append(node);
    return { node, body, meta };
  };

  async function run(): Promise<void> {
    showError(errorBox);
    if (!session.engine || !info) return showError(errorBox, 'engine_not_loaded: load a model first (Models tab)');
    const s = sampling();
    const text = prompt.value;
    const isChat = mode.value === 'chat';
    if (isChat && text.trim() === '') return;
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    const started = performance.now();
    let out: ReturnType<typeof bubble>;
    if (isChat) {
      bubble('user', text);
      history.push({ role: 'user', content: text });
      prompt.value = '';
      out = bubble('assistant', '');
    } else {
      messages.replaceChildren();
      out = bubble('completion', '');
      out.body.append(el('span', { class: 'prompt-echo' }, text));
    }
    const generated = el('span', { class: 'generated' });
    out.body.append(generated);
    out.node.classList.add('streaming');
    const stats: MessageStats = { completionTokens: 0, decodeMs: 0, finish: 'streaming' };
    let firstAt: number | undefined;
    let reply = '';
    const onDelta = (delta: string) => {
      const now = performance.now();
      if (firstAt === undefined && delta !== '') {
        firstAt = now;
        stats.firstTokenMs = now - started;
      }
      // Until the final usage chunk arrives, each non-empty delta counts as one token.
      if (delta !== '') stats.completionTokens++;
      reply += delta;
      generated.textContent = reply;
      out.meta.textContent = `${reply.length} chars…`;
      messages.scrollTop = messages.scrollHeight;
    };
    // vLLM's extra sampling fields (top_k) travel in the body as they do to a vLLM server.
    const extra = { top_k: s.top_k, stream_options: { include_usage: true } };
    try {
      if (isChat) {
        const stream = await session.client.chat.completions.create(
          { model: info.id, messages: history, stream: true, temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens, seed: s.seed, ...extra } as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          onDelta(chunk.choices[0]?.delta.content ?? '');
          if (chunk.choices[0]?.finish_reason) stats.finish = chunk.choices[0].finish_reason;
          if (chunk.usage) Object.assign(stats, { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens });
        }
        history.push({ role: 'assistant', content: reply });
      } else {
        const stream = await session.client.completions.create(
          { model: info.id, prompt: text, stream: true, temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens, seed: s.seed, ...extra } as OpenAI.CompletionCreateParamsStreaming,
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          onDelta(chunk.choices[0]?.text ?? '');
          if (chunk.choices[0]?.finish_reason) stats.finish = chunk.choices[0].finish_reason;
          if (chunk.usage) Object.assign(stats, { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens });
        }
      }
      // The openai client ends an aborted stream quietly (no throw): tell it apart here.
      if (controller.signal.aborted) stats.finish = 'stopped';
      else if (stats.finish === 'streaming') stats.finish = 'ended without finish_reason';
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) stats.finish = 'stopped';
      else {
        stats.finish = 'error';
        showError(errorBox, errorText(err));
      }
    } finally {
      stats.decodeMs = firstAt !== undefined ? performance.now() - firstAt : 0;
      out.node.classList.remove('streaming');
      out.node.dataset.finish = stats.finish;
      out.meta.textContent = statsText(stats);
      send.disabled = false;
      stop.disabled = true;
      controller = undefined;
    }
  }

  q<HTMLFormElement>('.composer').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  });
  stop.addEventListener('click', () => controller?.abort());
}
