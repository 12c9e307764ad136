// The Responses API store on its own: LRU order and bound, capacity 0, a bad capacity as a
// coded error, item lookup, and ids that are random (they are the key to a conversation).
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { outputMessage, responseObject, type ResponseObject } from '../../../src/api/responses-shapes';
import { randomId, ResponseStore } from '../../../src/api/responses-store';
import { EngineError } from '../../../src/engine/errors';
import { FakeEngine } from '../../helpers/fake-engine';

function response(id: string, text = id): ResponseObject {
  const head = { id, createdAt: 0, model: 'm', params: { input: 'x' }, store: true };
  return responseObject(head, 'completed', [outputMessage(`msg_${id}`, 'completed', text)], null);
}

const put = (store: ResponseStore, id: string) => store.put({ response: response(id), conversation: [{ role: 'user', content: id }] });

describe('ResponseStore', () => {
  it('evicts the least recently used entry past its capacity; get() refreshes recency', () => {
    const store = new ResponseStore(3);
    for (const id of ['a', 'b', 'c']) put(store, id);
    expect(store.get('a')?.conversation).toEqual([{ role: 'user', content: 'a' }]);
    put(store, 'd');
    expect(store.size).toBe(3);
    expect(store.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => store.get(id)?.response.id)).toEqual(['a', 'c', 'd']);
  });

  it('capacity 0 stores nothing; delete reports whether it removed something', () => {
    const none = new ResponseStore(0);
    put(none, 'a');
    expect(none.size).toBe(0);
    const store = new ResponseStore();
    expect(store.capacity).toBe(100);
    put(store, 'a');
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
  });

  it('finds an output message of a stored response by its id', () => {
    const store = new ResponseStore();
    put(store, 'a');
    put(store, 'b');
    expect(store.findOutputMessage('msg_b')?.content[0].text).toBe('b');
    expect(store.findOutputMessage('msg_z')).toBeUndefined();
  });

  it('a capacity that is not an integer >= 0 is a coded error (NaN would never evict)', () => {
    for (const bad of [Number.NaN, -1, 1.5, Infinity]) {
      expect(() => new ResponseStore(bad)).toThrow(EngineError);
      expect(() => createRouter(new FakeEngine(), { maxStoredResponses: bad })).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'maxStoredResponses' }));
    }
  });

  it('ids carry 128 random bits in hex', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId('resp')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(randomId('msg')).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
