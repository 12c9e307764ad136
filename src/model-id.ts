// The id a loaded model is served under (the `model` field of requests, /v1/models,
// /api/tags): the caller's `modelId`, else the file's stem — what a user typed or sees
// (`stories260K` for …/stories260K.gguf, a URL's last path segment, a File's name) —
// else the GGUF's `general.name` (often just the architecture, e.g. 'llama'), else 'model'.
import type { SourceInput } from './model/gguf';

/** `stories260K.gguf` → `stories260K`; '' when the source has no name. */
export function sourceStem(src: SourceInput): string {
  let name = '';
  if (typeof src === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) {
      try {
        name = new URL(src).pathname;
      } catch {
        name = src;
      }
    } else name = src;
  } else if (src instanceof URL) name = src.pathname;
  else if (typeof File !== 'undefined' && src instanceof File) name = src.name;
  let base = name.split(/[\\/]/).pop() ?? '';
  try {
    base = decodeURIComponent(base);
  } catch {
    // A stray % in a file name: keep it as written.
  }
  return base.replace(/\.gguf$/i, '').trim();
}

export function modelIdFor(options: { modelId?: string; model: SourceInput }, generalName: unknown): string {
  if (options.modelId) return options.modelId;
  const stem = sourceStem(options.model);
  if (stem) return stem;
  if (typeof generalName === 'string' && generalName.trim()) return generalName.trim();
  return 'model';
}
