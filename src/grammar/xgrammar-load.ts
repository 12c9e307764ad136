// The one place that loads XGrammar (@mlc-ai/web-xgrammar: a UMD bundle with its wasm inlined).
//
// The package says `"type": "module"` but is not ESM: imported as a module in Node it needs
// `require` and `__filename`, and a bundler may evaluate it as ESM (it then exports nothing and
// writes `globalThis.xgrammar`). So its text is imported (`?raw`: Vite, vitest and the worker
// bundles inline it as a string in a lazily loaded chunk; scripts/raw-loader.mjs does the same
// for tsx) and evaluated here as the CommonJS module it is, with its own `console`:
//
//   - a grammar error inside the wasm is a C++ check that prints "[FATAL] <why>" and calls
//     abort(): the message only reaches stderr, and the aborted instance leaks its stack, so a
//     few dozen bad grammars corrupt its memory. Evaluating the text again is the only way to a
//     fresh wasm instance (an ESM import is cached, and the wasm binding is a singleton inside it),
//     and the captured console is how the error gets its message back.
//   - in browsers this needs a CSP that allows `unsafe-eval` (and `wasm-unsafe-eval`, which any
//     wasm needs); constrained decoding is refused with `grammar_unavailable` where it is not.
//
// One addition is made to the text before it is evaluated (FILL_PATCH): a twin of the library's
// GrammarMatcher.getNextTokenBitmask that copies the mask out of the wasm heap into a buffer
// the caller keeps, instead of a fresh 16 KB Int32Array per call on a 128K vocabulary (whose
// allocations, one per constrained row per step, cost V8 frequent GCs). Where the text does not
// have the line the patch goes before (another version), the library's own method is used.
//
// Nothing here runs until a constrained request arrives.
import type * as XGrammar from '@mlc-ai/web-xgrammar';
import type { GrammarMatcher } from '@mlc-ai/web-xgrammar';
import { GrammarError } from './errors';

export type XGrammarLib = typeof XGrammar;

/** One evaluated copy of the library: its own wasm instance and its own captured stderr. */
export interface XGrammarInstance {
  readonly lib: XGrammarLib;
  /** Lines the wasm printed since the last call (its FATAL messages), then cleared. */
  takeMessages(): string[];
}

let sourceText: Promise<string> | undefined;

/** Where the patch goes: the library's export list, inside its closure (where `binding`, its wasm module, is in scope). */
const FILL_PATCH_BEFORE = 'var index = { Grammar,';
const FILL_EXPORT = '__tabllmFillNextTokenBitmask';
/** getNextTokenBitmask (0.1.27) with the mask copied into `out` (Int32Array, ceil(vocab / 32) words) instead of `.slice()`. */
const FILL_PATCH = `exports.${FILL_EXPORT} = (matcher, out) => {
    const maskIntVector = matcher.handle.GetNextTokenBitmask(matcher.vocab_size);
    try { out.set(binding.vecIntToView(maskIntVector)); } finally { maskIntVector.delete(); }
  };
  `;

/** Fills `out` ([ceil(vocabSize / 32)] i32 view) with the matcher's next-token bitmask. */
export type FillNextTokenBitmask = (matcher: GrammarMatcher, out: Int32Array) => void;

/** The patched fill of this library copy, or null (an unpatched text: use getNextTokenBitmask). */
export function fillNextTokenBitmask(lib: XGrammarLib): FillNextTokenBitmask | null {
  const fill = (lib as unknown as Record<string, unknown>)[FILL_EXPORT];
  return typeof fill === 'function' ? (fill as FillNextTokenBitmask) : null;
}

async function librarySource(): Promise<string> {
  sourceText ??= import('@mlc-ai/web-xgrammar/lib/index.js?raw').then((m: { default: string }) => m.default);
  return sourceText;
}

/**
 * The one `require` the library makes outside its Node branch: 'url', for its own file URL
 * (where there is no `document` or `location`). Its wasm is a data: URI, so nothing is read.
 */
function urlOnlyRequire(id: string): unknown {
  if (id === 'url') return { pathToFileURL: (path: string) => new URL(`file://${path}`) };
  throw new Error(`the grammar engine asked for '${id}'`);
}

/** Evaluates a fresh copy of XGrammar (its wasm starts on the first call into it). */
export async function loadXGrammar(): Promise<XGrammarInstance> {
  let source: string;
  try {
    source = await librarySource();
  } catch (err) {
    sourceText = undefined;
    throw new GrammarError('grammar_unavailable', `the grammar engine could not be loaded: ${(err as Error).message}`);
  }
  const lines: string[] = [];
  const capture = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  const quietConsole = { ...console, log: capture, error: capture, warn: capture, info: capture, debug: capture };
  const module = { exports: {} as Record<string, unknown> };
  try {
    // The CommonJS wrapper Node itself would use, plus two shadowed globals: `console`, to catch
    // the wasm's stderr, and `process`, so the library takes the same (web) path in Node as in
    // browsers: its Node branch would `import('module')`, which code evaluated from text cannot
    // do inside vitest's module runner.
    const patched = source.replace(FILL_PATCH_BEFORE, FILL_PATCH + FILL_PATCH_BEFORE);
    const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', 'console', 'process', patched);
    evaluate(module.exports, urlOnlyRequire, module, '/xgrammar/index.js', '/xgrammar', quietConsole, undefined);
  } catch (err) {
    throw new GrammarError('grammar_unavailable', `the grammar engine could not be started (a Content-Security-Policy without 'unsafe-eval'?): ${(err as Error).message}`);
  }
  const lib = module.exports as unknown as XGrammarLib;
  if (typeof lib.GrammarCompiler?.createGrammarCompiler !== 'function') {
    throw new GrammarError('grammar_unavailable', 'the grammar engine loaded without its API');
  }
  return { lib, takeMessages: () => lines.splice(0, lines.length) };
}
