// Small DOM helpers shared by the demo's tabs.

type Attrs = Record<string, string | number | boolean | undefined>;

/** `el('button', { class: 'x', disabled: true }, 'Go')` */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`demo page is missing #${id}`);
  return node as T;
}

/** A readable one-line message for any thrown value, with its code when it has one. */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; name?: unknown; error?: { code?: unknown; message?: unknown } };
    const code = typeof e.code === 'string' ? e.code : typeof e.error?.code === 'string' ? e.error.code : undefined;
    const message = typeof e.message === 'string' ? e.message : String(err);
    // Some errors (StorageError) already start their message with the code.
    return code && !message.startsWith(`${code}:`) ? `${code}: ${message}` : message;
  }
  return String(err);
}

export function isAbort(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'aborted' || (e as { constructor?: { name?: string } }).constructor?.name === 'APIUserAbortError');
}

/** Shows `err` in an element (class 'error'); an empty call clears it. */
export function showError(target: HTMLElement, err?: unknown): void {
  target.textContent = err === undefined ? '' : errorText(err);
  target.hidden = err === undefined;
}

export function numberInput(input: HTMLInputElement, min: number, max: number, fallback: number): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v)) return fallback;
  return Math.min(max, Math.max(min, v));
}
