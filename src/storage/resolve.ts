// Model source names → download URLs and cache ids. Accepts http(s) URLs (relative ones
// resolve against the page), Hugging Face `org/repo:path/file.gguf` and
// `hf://org/repo/path/file.gguf`; anything else is a coded `bad_source`.
import { StorageError } from './errors';

const HF_BASE = 'https://huggingface.co';

/** `org/repo:file` (file may contain `/`); org and repo names as Hugging Face allows them. */
const HF_SHORTHAND = /^([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*):(.+)$/;

function hfUrl(org: string, repo: string, file: string): string {
  const path = file.split('/').filter((p) => p.length > 0);
  if (path.length === 0 || path.some((p) => p === '..' || p === '.')) {
    throw new StorageError('bad_source', `bad Hugging Face file path '${file}'`);
  }
  return `${HF_BASE}/${org}/${repo}/resolve/main/${path.map(encodeURIComponent).join('/')}`;
}

/** The absolute http(s) URL a model source names. */
export function resolveModelUrl(source: string | URL, base?: string): string {
  const text = (source instanceof URL ? source.href : source).trim();
  if (text.length === 0) throw new StorageError('bad_source', 'empty model source');
  if (/^hf:\/\//i.test(text)) {
    const parts = text.slice('hf://'.length).split('/');
    if (parts.length < 3 || !parts[0] || !parts[1]) {
      throw new StorageError('bad_source', `expected hf://org/repo/file, got '${text}'`);
    }
    return hfUrl(parts[0], parts[1], parts.slice(2).join('/'));
  }
  const shorthand = HF_SHORTHAND.exec(text);
  if (shorthand && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return hfUrl(shorthand[1], shorthand[2], shorthand[3]);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new StorageError('bad_source', `unsupported URL scheme '${scheme}:' in '${text}' (use http(s), hf:// or org/repo:file)`);
  }
  const pageBase = base ?? (typeof location !== 'undefined' ? location.href : undefined);
  let url: URL;
  try {
    url = pageBase === undefined ? new URL(text) : new URL(text, pageBase);
  } catch {
    throw new StorageError('bad_source', `'${text}' is not a URL, hf://org/repo/file, or org/repo:file`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageError('bad_source', `unsupported URL scheme '${url.protocol}' in '${text}'`);
  }
  url.hash = '';
  return url.href;
}

/** 32-bit FNV-1a of a string, as 8 hex digits: short, stable, collision-unlikely among a user's few models. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** A readable id that is also a safe file/directory name: `<file name>-<hash of the URL>`. */
export function modelIdForUrl(url: string): string {
  const path = new URL(url).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || 'model';
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${safe}-${fnv1a(url)}`;
}
