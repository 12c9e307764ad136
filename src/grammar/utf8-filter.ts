// Keeps constrained outputs valid UTF-8. XGrammar matches tokens byte by byte and lets a
// character class accept any lead byte followed by any continuation bytes (overlong forms,
// surrogates, code points past U+10FFFF: "F6 B6 8E 97" inside a JSON string), which a real
// model rarely emits but nothing forbids. So every matcher also tracks where the output
// stands in UTF-8's byte grammar, and its mask is ANDed with the tokens that may follow there:
//
//   state  S0 (between characters)  S1 (1 more 80–BF)  S2 (2 more)  S3 (3 more)
//          E0: next A0–BF   ED: next 80–9F   F0: next 90–BF   F4: next 80–8F   (RFC 3629)
//
// Tokens with no bytes (stop tokens, specials) are allowed only in S0: an output never ends
// inside a character. The per-state masks and end states are built once per vocabulary.
//
// restrict() runs once per constrained row per step, so it touches only the words that can
// change: in S0 nearly every word allows all 32 of its tokens (on Llama 3's 128,256 tokens,
// 3,802 of 4,008 words; the rest hold byte tokens and pieces of multi-byte characters), so it
// ANDs just the others; in S1–S3 nearly every word allows none, so it keeps the few that
// allow some and zeroes the rest with one fill.

const enum S {
  Start = 0,
  Cont1,
  Cont2,
  Cont2E0,
  Cont2ED,
  Cont3,
  Cont3F0,
  Cont3F4,
}
const NUM_STATES = 8;
const REJECT = -1;

/** One byte of UTF-8's grammar: the next state, or REJECT. */
function next(state: number, b: number): number {
  switch (state) {
    case S.Start:
      if (b < 0x80) return S.Start;
      if (b >= 0xc2 && b <= 0xdf) return S.Cont1;
      if (b === 0xe0) return S.Cont2E0;
      if (b === 0xed) return S.Cont2ED;
      if (b >= 0xe1 && b <= 0xef) return S.Cont2;
      if (b === 0xf0) return S.Cont3F0;
      if (b === 0xf4) return S.Cont3F4;
      if (b >= 0xf1 && b <= 0xf3) return S.Cont3;
      return REJECT;
    case S.Cont1: return b >= 0x80 && b <= 0xbf ? S.Start : REJECT;
    case S.Cont2: return b >= 0x80 && b <= 0xbf ? S.Cont1 : REJECT;
    case S.Cont2E0: return b >= 0xa0 && b <= 0xbf ? S.Cont1 : REJECT;
    case S.Cont2ED: return b >= 0x80 && b <= 0x9f ? S.Cont1 : REJECT;
    case S.Cont3: return b >= 0x80 && b <= 0xbf ? S.Cont2 : REJECT;
    case S.Cont3F0: return b >= 0x90 && b <= 0xbf ? S.Cont2 : REJECT;
    case S.Cont3F4: return b >= 0x80 && b <= 0x8f ? S.Cont2 : REJECT;
    default: return REJECT;
  }
}

/** How restrict() applies one state's mask: only the words where ANDing changes something. */
interface StateWords {
  /** The mask has more all-ones words than all-zero words: AND `words`, leave the rest. */
  keepRest: boolean;
  /** keepRest: the words not all ones; else the words not all zeros (the rest are zeroed). */
  words: Uint32Array;
  /** [words.length] the state's mask at those words. */
  bits: Uint32Array;
  /** [words.length] scratch for the words kept (restrict is synchronous, so one per state suffices). */
  kept: Uint32Array;
}

export class Utf8Filter {
  /** [NUM_STATES][ceil(vocabSize / 32)] u32: tokens that may follow in each state. */
  private readonly masks: Uint32Array[];
  /** [NUM_STATES] each state's mask as the words restrict() must touch. */
  private readonly stateWords: StateWords[];
  /** [NUM_STATES * vocabSize] the state after each token from each state (REJECT where not allowed). */
  private readonly after: Int8Array;
  readonly vocabSize: number;

  /** `tokenBytes(id)`: the bytes the detokenizer streams for token id (empty for stop and special tokens). */
  constructor(vocabSize: number, tokenBytes: (id: number) => Uint8Array, numTokens = vocabSize) {
    this.vocabSize = vocabSize;
    const words = Math.ceil(vocabSize / 32);
    this.masks = Array.from({ length: NUM_STATES }, () => new Uint32Array(words));
    this.after = new Int8Array(NUM_STATES * vocabSize).fill(REJECT);
    for (let id = 0; id < vocabSize; id++) {
      const bytes = id < numTokens ? tokenBytes(id) : new Uint8Array(0);
      for (let s0 = 0; s0 < NUM_STATES; s0++) {
        if (bytes.length === 0 && s0 !== S.Start) continue;
        let s = s0;
        for (let i = 0; i < bytes.length && s !== REJECT; i++) s = next(s, bytes[i]);
        if (s === REJECT) continue;
        this.after[s0 * vocabSize + id] = s;
        this.masks[s0][id >>> 5] |= 1 << (id & 31);
      }
    }
    this.stateWords = this.masks.map(sparseWords);
  }

  static readonly START = S.Start as number;

  /** ANDs `mask` in place with the tokens allowed in `state` ([ceil(vocabSize / 32)] u32). */
  restrict(mask: Uint32Array, state: number): void {
    const { keepRest, words, bits, kept } = this.stateWords[state];
    if (keepRest) {
      for (let i = 0; i < words.length; i++) mask[words[i]] &= bits[i];
      return;
    }
    // Few words survive: AND them aside, zero the mask, put them back.
    for (let i = 0; i < words.length; i++) kept[i] = mask[words[i]] & bits[i];
    mask.fill(0);
    for (let i = 0; i < words.length; i++) mask[words[i]] = kept[i];
  }

  /** [ceil(vocabSize / 32)] u32, read-only: every token allowed in `state` (what restrict ANDs, word by word). */
  allowedIn(state: number): Uint32Array {
    return this.masks[state];
  }

  /** The state after `tokenId`, or -1 when it would break UTF-8 there. */
  advance(state: number, tokenId: number): number {
    return this.after[state * this.vocabSize + tokenId];
  }
}

/** One state's mask as the few words restrict() has to touch (see the header). */
function sparseWords(mask: Uint32Array): StateWords {
  let numOnes = 0;
  let numZeros = 0;
  for (const w of mask) {
    if (w === 0xffffffff) numOnes++;
    else if (w === 0) numZeros++;
  }
  const keepRest = numOnes >= numZeros;
  const words: number[] = [];
  for (let w = 0; w < mask.length; w++) if (keepRest ? mask[w] !== 0xffffffff : mask[w] !== 0) words.push(w);
  return { keepRest, words: Uint32Array.from(words), bits: Uint32Array.from(words, (w) => mask[w]), kept: new Uint32Array(words.length) };
}
