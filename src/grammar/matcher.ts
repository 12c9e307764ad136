// One sequence's grammar state: XGrammar's GrammarMatcher over a compiled constraint, plus
// the tokens it accepted (so it can be forked: a copy replays them; XGrammar has no copy).
//
// Per sampled token:   mask = await nextMask()   (before the step: allowed ids as bits)
//                      accept(sampledId)          (after the step)
//                      isTerminated               (a stop token was accepted: the output is complete)
import type { CompiledGrammar, GrammarMatcher } from '@mlc-ai/web-xgrammar';
import { Utf8Filter } from './utf8-filter';
import { fillNextTokenBitmask, type FillNextTokenBitmask, type XGrammarLib } from './xgrammar-load';

export class SequenceMatcher {
  /** Output tokens accepted so far, in order. */
  private readonly accepted: number[] = [];
  private disposed = false;
  /** nextMask calls in flight: a dispose during one waits for it (the wasm object must outlive the call). */
  private busy = 0;
  /** Where the output stands in UTF-8's byte grammar (utf8-filter.ts). */
  private utf8State = Utf8Filter.START;

  private constructor(
    private readonly lib: XGrammarLib,
    private readonly compiled: CompiledGrammar,
    private readonly matcher: GrammarMatcher,
    private readonly stopTokenIds: readonly number[],
    private readonly utf8: Utf8Filter,
    /** XGrammar's mask copied into our buffer (xgrammar-load.ts), or null: its getNextTokenBitmask. */
    private readonly fill: FillNextTokenBitmask | null,
  ) {}

  /** A matcher at the grammar's start; `stopTokenIds` end the output where the grammar may end. */
  static async create(lib: XGrammarLib, compiled: CompiledGrammar, stopTokenIds: readonly number[], utf8: Utf8Filter): Promise<SequenceMatcher> {
    const m = await lib.GrammarMatcher.createGrammarMatcher(compiled, [...stopTokenIds], false);
    return new SequenceMatcher(lib, compiled, m, stopTokenIds, utf8, fillNextTokenBitmask(lib));
  }

  get numAccepted(): number {
    return this.accepted.length;
  }

  /** A stop token was accepted: nothing more may follow. */
  get isTerminated(): boolean {
    return this.matcher.isTerminated();
  }

  /**
   * [ceil(vocabSize / 32)] u32: bit `t % 32` of word `t >> 5` set = token t may come next.
   * Stop tokens are set only where the grammar can end. Written into `into` when given (a
   * buffer the caller reuses step after step, so a mask allocates nothing), else a new array.
   */
  async nextMask(into?: Uint32Array): Promise<Uint32Array> {
    if (this.disposed) throw new Error('grammar matcher used after dispose');
    const numWords = Math.ceil(this.utf8.vocabSize / 32);
    if (into !== undefined && into.length !== numWords) throw new RangeError(`a token mask has ${numWords} words, not ${into.length}`);
    this.busy++;
    try {
      let mask: Uint32Array;
      if (this.fill !== null) {
        mask = into ?? new Uint32Array(numWords);
        this.fill(this.matcher, new Int32Array(mask.buffer, mask.byteOffset, numWords));
      } else {
        const bits = await this.matcher.getNextTokenBitmask();
        mask = new Uint32Array(bits.buffer, bits.byteOffset, bits.length);
        if (into !== undefined) mask = (into.set(mask), into);
      }
      this.utf8.restrict(mask, this.utf8State);
      return mask;
    } finally {
      if (--this.busy === 0 && this.disposed) this.matcher.dispose();
    }
  }

  /** Advances by one token; false (state unchanged) when the grammar does not allow it. */
  accept(tokenId: number): boolean {
    const utf8State = this.utf8.advance(this.utf8State, tokenId);
    if (utf8State < 0 || !this.matcher.acceptToken(tokenId)) return false;
    this.utf8State = utf8State;
    this.accepted.push(tokenId);
    return true;
  }

  /** Undoes the last `numTokens` accepted tokens. */
  rollBack(numTokens: number): void {
    if (!(Number.isInteger(numTokens) && numTokens >= 0 && numTokens <= this.accepted.length)) {
      throw new RangeError(`cannot roll back ${numTokens} of ${this.accepted.length} accepted tokens`);
    }
    if (numTokens === 0) return;
    this.matcher.rollBack(numTokens);
    this.accepted.length -= numTokens;
    this.utf8State = Utf8Filter.START;
    for (const id of this.accepted) this.utf8State = this.utf8.advance(this.utf8State, id);
  }

  /** An independent matcher in the same state (its own future). */
  async fork(): Promise<SequenceMatcher> {
    const copy = await SequenceMatcher.create(this.lib, this.compiled, this.stopTokenIds, this.utf8);
    for (const id of this.accepted) {
      if (!copy.accept(id)) throw new Error(`grammar fork: token ${id} was accepted once and refused on replay`);
    }
    return copy;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.busy === 0) this.matcher.dispose();
  }
}
