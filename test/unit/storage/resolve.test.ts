import { describe, expect, it } from 'vitest';
import { StorageError } from '../../../src/storage/errors';
import { modelIdForUrl, resolveModelUrl } from '../../../src/storage/resolve';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return (err as StorageError).code;
  }
  return undefined;
}

describe('resolveModelUrl', () => {
  it('expands Hugging Face shorthands', () => {
    expect(resolveModelUrl('Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf')).toBe(
      'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf',
    );
    expect(resolveModelUrl('hf://ggml-org/models/tinyllamas/stories260K.gguf')).toBe(
      'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf',
    );
    expect(resolveModelUrl('org/repo:dir/a b.gguf')).toBe('https://huggingface.co/org/repo/resolve/main/dir/a%20b.gguf');
  });

  it('keeps http(s) URLs, resolves relative ones against a base, drops the fragment', () => {
    expect(resolveModelUrl('https://example.com/m.gguf#x')).toBe('https://example.com/m.gguf');
    expect(resolveModelUrl(new URL('http://127.0.0.1:9/a/m.gguf'))).toBe('http://127.0.0.1:9/a/m.gguf');
    expect(resolveModelUrl('/models/m.gguf', 'http://127.0.0.1:5173/page.html')).toBe('http://127.0.0.1:5173/models/m.gguf');
  });

  it('rejects other schemes and malformed names with bad_source', () => {
    expect(codeOf(() => resolveModelUrl('ftp://example.com/m.gguf'))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl('file:///tmp/m.gguf'))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl('javascript:alert(1)'))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl('hf://org/repo'))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl('org/repo:../x.gguf'))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl(''))).toBe('bad_source');
    expect(codeOf(() => resolveModelUrl('not a url'))).toBe('bad_source');
  });
});

describe('modelIdForUrl', () => {
  it('is the file name plus a stable URL hash, safe as a file name', () => {
    const id = modelIdForUrl('https://huggingface.co/o/r/resolve/main/My%20Model.gguf');
    expect(id).toMatch(/^My_Model\.gguf-[0-9a-f]{8}$/);
    expect(modelIdForUrl('https://huggingface.co/o/r/resolve/main/My%20Model.gguf')).toBe(id);
    expect(modelIdForUrl('https://huggingface.co/o/r2/resolve/main/My%20Model.gguf')).not.toBe(id);
  });
});
