// The in-memory store behind `previous_response_id`, `item_reference` and
// `GET`/`DELETE /v1/responses/{id}`: one per router, a least-recently-used map with a bound
// on the number of responses (default 100), so a long-running server never grows without
// limit. Each entry holds the response object and the whole conversation up to and
// including its answer, as chat messages, so a follow-up turn needs no chain walk (and an
// evicted ancestor cannot break it). A conversation's text is bounded by the model's
// context: only responses whose prompt and answer fitted are stored.

import type { ChatMessage } from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import type { OutputMessage, ResponseObject } from './responses-shapes';

export const DEFAULT_STORED_RESPONSES = 100;

export interface StoredResponse {
  response: ResponseObject;
  /** Instructions excluded: OpenAI does not carry them over to the next turn. */
  conversation: ChatMessage[];
}

export class ResponseStore {
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, StoredResponse>();

  constructor(readonly capacity = DEFAULT_STORED_RESPONSES) {
    // NaN would never evict: the store would grow without bound.
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new EngineError('invalid_request', `maxStoredResponses must be an integer >= 0, got ${capacity}.`, 'maxStoredResponses');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): StoredResponse | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry;
  }

  put(entry: StoredResponse): void {
    if (this.capacity <= 0) return;
    this.entries.delete(entry.response.id);
    this.entries.set(entry.response.id, entry);
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  /** The output message `id` of a stored response (an `item_reference`), or undefined. */
  findOutputMessage(id: string): OutputMessage | undefined {
    for (const { response } of this.entries.values()) {
      const found = response.output.find((item) => item.id === id);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/**
 * `resp_…`, `msg_…`: 128 random bits. A response id is the only key to a stored
 * conversation, so it must not be guessable by another client of the same server.
 * getRandomValues (unlike randomUUID) works in insecure browser contexts too.
 */
export function randomId(prefix: 'resp' | 'msg'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
