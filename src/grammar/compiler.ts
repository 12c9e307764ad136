// Compiles output constraints for one model, off the step loop, with a bounded LRU cache:
//
//   compile(c) ─► checkConstraint (bounds, JSON parse) ─► cache hit? ─► the same promise
//              └► queue (one compile at a time, each after a macrotask, so steps run between)
//                   ─► XGrammar instance (lazy: loaded, TokenizerInfo built from the model's
//                      vocabulary, on the first constrained request) ─► CompiledConstraint
//
// An XGrammar error aborts its wasm instance (xgrammar-load.ts): the message is taken from
// its stderr, and the instance is retired. New compiles get a fresh instance; matchers
// already created on the old one keep working (one abort leaks only its stack).
import type { CompiledGrammar, GrammarCompiler, TokenizerInfo } from '@mlc-ai/web-xgrammar';
import { MAX_PENDING_COMPILES, type CompiledConstraint, type GrammarService } from './backend';
import { checkConstraint, choiceGrammar, constraintParam, type OutputConstraint } from './constraint';
import { GrammarError } from './errors';
import { rewriteIntegerBounds } from './json-bounds';
import { repairJsonEbnf } from './json-ebnf';
import { SequenceMatcher } from './matcher';
import type { GrammarVocab } from './vocab';
import { loadXGrammar, type XGrammarInstance, type XGrammarLib } from './xgrammar-load';

/** Compiled constraints kept (a compile of a large schema on a 128K vocabulary takes ~0.1 s). */
export const DEFAULT_GRAMMAR_CACHE_SIZE = 64;
/**
 * JSON output: any whitespace between tokens (models like to indent), but at most this many
 * in a row, so a model cannot loop on whitespace until max_tokens.
 */
export const MAX_JSON_WHITESPACE = 16;

export type { CompiledConstraint } from './backend';

/** In-thread, a compiled constraint's matchers are SequenceMatchers (rollBack included). */
export interface LocalCompiledConstraint extends CompiledConstraint {
  createMatcher(extraStopTokenIds?: readonly number[]): Promise<SequenceMatcher>;
}

interface Instance {
  x: XGrammarInstance;
  tokenizerInfo: TokenizerInfo;
  compiler: GrammarCompiler;
}

export interface GrammarCompilerOptions {
  cacheSize?: number;
  /** Compiles queued or running before `grammar_queue_full` (default MAX_PENDING_COMPILES). */
  maxPendingCompiles?: number;
  /** Loads an XGrammar instance (tests count or break loads). */
  load?: () => Promise<XGrammarInstance>;
}

function nextMacrotask(): Promise<void> {
  return new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
}

export class GrammarCompilerService implements GrammarService {
  private vocab: GrammarVocab | undefined;
  private instance: Promise<Instance> | undefined;
  private readonly cache = new Map<string, Promise<LocalCompiledConstraint>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cacheSize: number;
  private readonly maxPendingCompiles: number;
  /** Compiles queued or running (cache hits do not count). */
  private numPending = 0;
  private readonly load: () => Promise<XGrammarInstance>;
  /** Instances loaded so far (a retired one is replaced by a fresh one). */
  numInstances = 0;
  numCompiles = 0;

  constructor(
    /** The model's vocabulary for the grammar engine, built on first use (it walks every token). */
    private readonly vocabSource: () => GrammarVocab,
    options: GrammarCompilerOptions = {},
  ) {
    this.cacheSize = Math.max(1, options.cacheSize ?? DEFAULT_GRAMMAR_CACHE_SIZE);
    this.maxPendingCompiles = Math.max(1, options.maxPendingCompiles ?? MAX_PENDING_COMPILES);
    this.load = options.load ?? loadXGrammar;
  }

  get grammarVocab(): GrammarVocab {
    this.vocab ??= this.vocabSource();
    return this.vocab;
  }

  /**
   * The compiled constraint (cached by its key). Rejects with GrammarError `invalid_grammar`
   * (the message names what XGrammar refused) or `grammar_unavailable`. Throws synchronously
   * for a constraint that breaks the bounds of checkConstraint, and `grammar_queue_full` when
   * maxPendingCompiles compiles wait already (a queue that only grows would hold requests forever).
   */
  compile(constraint: OutputConstraint): Promise<LocalCompiledConstraint> {
    const key = checkConstraint(constraint);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    if (this.numPending >= this.maxPendingCompiles) {
      throw new GrammarError('grammar_queue_full', `${this.numPending} grammars are being compiled already; try again later`, constraintParam(constraint));
    }
    this.numPending++;
    const compiled = this.enqueue(() => this.compileNow(constraint, key));
    void compiled.then(() => this.numPending--, () => this.numPending--);
    this.cache.set(key, compiled);
    // A failed compile is not cached: the same text will fail the same way, but cheaply in checkConstraint or not at all after a fix.
    compiled.catch(() => {
      if (this.cache.get(key) === compiled) this.cache.delete(key);
    });
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return compiled;
  }

  get cachedKeys(): string[] {
    return [...this.cache.keys()];
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await nextMacrotask();
      return task();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private getInstance(): Promise<Instance> {
    this.instance ??= (async () => {
      const x = await this.load();
      this.numInstances++;
      const v = this.grammarVocab;
      const tokenizerInfo = await x.lib.TokenizerInfo.createTokenizerInfo(v.encodedVocab, v.vocabType, false, v.vocabSize, v.stopTokenIds);
      const compiler = await x.lib.GrammarCompiler.createGrammarCompiler(tokenizerInfo, false);
      return { x, tokenizerInfo, compiler };
    })();
    this.instance.catch(() => (this.instance = undefined));
    return this.instance;
  }

  private async compileNow(c: OutputConstraint, key: string): Promise<LocalCompiledConstraint> {
    const inst = await this.getInstance();
    inst.x.takeMessages();
    let grammar: CompiledGrammar;
    try {
      grammar = await compileWith(inst.x.lib, inst.compiler, c);
      this.numCompiles++;
    } catch (err) {
      // The instance aborted: retire it (its live matchers keep their reference).
      this.instance = undefined;
      throw new GrammarError('invalid_grammar', describeFailure(c, inst.x.takeMessages(), err), constraintParam(c));
    }
    const lib: XGrammarLib = inst.x.lib;
    const { stopTokenIds, utf8 } = this.grammarVocab;
    return {
      key,
      createMatcher: (extra = []) => SequenceMatcher.create(lib, grammar, [...new Set([...stopTokenIds, ...extra])], utf8),
    };
  }
}

async function compileWith(lib: XGrammarLib, compiler: GrammarCompiler, c: OutputConstraint): Promise<CompiledGrammar> {
  switch (c.kind) {
    case 'json_object':
    case 'json_schema': {
      const schema = c.kind === 'json_object' ? '{"type": "object"}' : c.schema;
      // strict: false lets objects carry properties the schema does not name (JSON Schema's default).
      const strict = c.kind === 'json_schema' ? (c.strict ?? true) : false;
      const bounds = rewriteIntegerBounds(schema);
      const ebnf = await lib.Testings._jsonSchemaToEBNF(bounds.schema, true, undefined, undefined, strict, MAX_JSON_WHITESPACE);
      return compiler.compileGrammar(bounds.restore(repairJsonEbnf(ebnf)), 'root');
    }
    case 'regex':
      return compiler.compileStructuralTag({ type: 'structural_tag', format: { type: 'regex', pattern: c.pattern } });
    case 'choice':
      return compiler.compileGrammar(choiceGrammar(c.choices), 'root');
    case 'grammar':
      return compiler.compileGrammar(c.ebnf, 'root');
    case 'structural_tag':
      return compiler.compileStructuralTag(c.tag);
  }
}

const WHAT: Record<OutputConstraint['kind'], string> = {
  json_object: 'the JSON object grammar',
  json_schema: 'the JSON schema',
  regex: 'the regex',
  choice: 'the choice list',
  grammar: 'the grammar',
  structural_tag: 'the structural tag',
};

/** XGrammar's own reason ("[FATAL] file.cc:902: Unsupported type \"wat\"" → 'Unsupported type "wat"'). */
function describeFailure(c: OutputConstraint, lines: string[], err: unknown): string {
  const fatal = lines.find((l) => l.includes('[FATAL]'));
  let reason = fatal?.replace(/^.*\[FATAL\][^:]*:\d+:\s*/, '').replace(/^Check failed: \(.*?\) is false:\s*/, '').trim();
  if (!reason) reason = err instanceof Error ? err.message : String(err);
  return `${WHAT[c.kind]} cannot be used for constrained decoding: ${reason}`;
}
