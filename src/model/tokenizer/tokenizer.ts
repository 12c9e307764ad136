// The public tokenizer: built from GGUF metadata (or a GGUF source), encodes text to ids the
// way llama.cpp does (special-token split, then SentencePiece or byte-level BPE, BOS/EOS as
// the metadata says) and decodes ids back to text.
import { readGGUF, type ReadGGUFOptions } from '../gguf/reader';
import type { SourceInput } from '../gguf/source';
import type { GGUFMetadata } from '../gguf/types';
import { BpeModel } from './bpe';
import { byteLevelToBytes } from './byte-level';
import { TokenizerError } from './errors';
import { partitionSpecial, specialTokensOf, type SpecialToken } from './special';
import { SpmModel } from './spm';
import { TokenAttr, vocabFromMetadata, type Vocab, type VocabModel } from './vocab';
import { WordPieceModel } from './wordpiece';

export interface EncodeOptions {
  /** Add BOS / EOS as the model's metadata asks (`add_bos_token` / `add_eos_token`). Default true. */
  addSpecial?: boolean;
  /** Turn control-token texts in `text` (e.g. "<|im_start|>") into their ids. Default false. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave out control and unknown tokens (BOS, EOS, "<|eot_id|>", …). Default false. */
  skipSpecial?: boolean;
}

// In a /u regex a surrogate class matches only unpaired halves.
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
const SPACE = / /g;
const utf8Encoder = new TextEncoder();
// ignoreBOM: keep U+FEFF (a token of its own in some vocabularies) wherever it falls.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

export class Tokenizer {
  readonly vocabSize: number;
  /** BOS id, or -1 when the model has none. */
  readonly bos: number;
  /** EOS id, or -1 when the model has none. */
  readonly eos: number;
  /** End-of-turn id (e.g. "<|eot_id|>", "<|im_end|>"), or -1. */
  readonly eot: number;
  /** Unknown-token id, or -1. */
  readonly unk: number;
  /** Every id that ends generation (EOS, EOT, EOM, "<|im_end|>", "<end_of_turn>", …), ascending. */
  readonly eogIds: readonly number[];
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** "llama" (SentencePiece-style), "gpt2" (byte-level BPE) or "bert" (WordPiece). */
  readonly model: VocabModel;
  /** `tokenizer.ggml.pre` as given ("" when absent). */
  readonly preTokenizer: string;

  private readonly vocab: Vocab;
  private readonly spm: SpmModel | undefined;
  private readonly bpe: BpeModel | undefined;
  private readonly wpm: WordPieceModel | undefined;
  private readonly specials: SpecialToken[];
  private readonly eogSet: Set<number>;
  /** Lazily filled: [vocabSize] rendered bytes of each token (control tokens as their text). */
  private readonly pieceBytesCache: (Uint8Array | undefined)[];
  /** Lazily filled: [vocabSize] the piece as a string when its bytes are complete UTF-8, else null. */
  private readonly pieceStringCache: (string | null | undefined)[];

  private constructor(vocab: Vocab, merges: readonly string[] | undefined) {
    this.vocab = vocab;
    this.vocabSize = vocab.tokens.length;
    this.bos = vocab.bos;
    this.eos = vocab.eos;
    this.eot = vocab.eot;
    this.unk = vocab.unk;
    this.eogIds = vocab.eogIds;
    this.eogSet = new Set(vocab.eogIds);
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    this.model = vocab.model;
    this.preTokenizer = vocab.preName;
    this.spm = vocab.model === 'llama' ? new SpmModel(vocab) : undefined;
    this.bpe = vocab.model === 'gpt2' ? new BpeModel(vocab, merges!) : undefined;
    this.wpm = vocab.model === 'bert' ? new WordPieceModel(vocab, vocab.normalizer) : undefined;
    this.specials = specialTokensOf(vocab);
    this.pieceBytesCache = new Array(this.vocabSize);
    this.pieceStringCache = new Array(this.vocabSize);
  }

  /** Builds the tokenizer from a GGUF metadata record (`readGGUF(...).metadata`). */
  static fromMetadata(metadata: GGUFMetadata): Tokenizer {
    const vocab = vocabFromMetadata(metadata);
    let merges: string[] | undefined;
    if (vocab.model === 'gpt2') {
      const raw = metadata['tokenizer.ggml.merges'];
      if (!Array.isArray(raw) || !raw.every((m) => typeof m === 'string')) {
        throw new TokenizerError('missing_merges', 'a "gpt2" tokenizer needs tokenizer.ggml.merges (an array of strings)');
      }
      merges = raw as string[];
    }
    return new Tokenizer(vocab, merges);
  }

  /** Reads the GGUF header (path, URL, bytes, Blob or ByteSource) and builds the tokenizer. */
  static async fromGGUF(source: SourceInput, options?: ReadGGUFOptions): Promise<Tokenizer> {
    const file = await readGGUF(source, options);
    return Tokenizer.fromMetadata(file.metadata);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecial ?? true;
    const parseSpecial = options.parseSpecial ?? false;
    const vocab = this.vocab;
    if (typeof text !== 'string') throw new TokenizerError('invalid_input', `encode() takes a string, not ${describe(text)}`);
    const wellFormed = text.replace(LONE_SURROGATES, '\uFFFD');
    const fragments = partitionSpecial(wellFormed, this.specials, parseSpecial);
    const out: number[] = [];
    if (addSpecial && vocab.addBos) out.push(vocab.bos);
    if (this.spm) {
      // SentencePiece's dummy prefix: a space before the text and after every special token.
      let prevIsSpecial = true;
      for (const fragment of fragments) {
        if (typeof fragment === 'number') {
          out.push(fragment);
          prevIsSpecial = true;
          continue;
        }
        const withPrefix = vocab.addSpacePrefix && prevIsSpecial ? ' ' + fragment : fragment;
        this.spm.encode(withPrefix.replace(SPACE, '\u2581'), out);
        prevIsSpecial = false;
      }
    } else {
      const model = this.bpe ?? this.wpm!;
      for (const fragment of fragments) {
        if (typeof fragment === 'number') out.push(fragment);
        else model.encode(fragment, out);
      }
    }
    if (addSpecial && vocab.addEos) out.push(vocab.eos);
    if (addSpecial && vocab.sep >= 0) out.push(vocab.sep); // bert: [CLS] text [SEP]
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecial ?? false;
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new TokenizerError('invalid_input', `decode() takes an array of token ids, not ${describe(ids)}`);
    }
    let buffer = new Uint8Array(Math.max(16, ids.length * 4));
    let length = 0;
    let stripLeadingSpace = this.stripsLeadingSpace;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id);
      const special = this.isControlLike(id);
      if (special && skipSpecial) continue;
      let piece = this.pieceBytes(id);
      if (!special && stripLeadingSpace) {
        stripLeadingSpace = false;
        if (piece[0] === 0x20) piece = piece.subarray(1);
      }
      if (length + piece.length > buffer.length) {
        const grown = new Uint8Array(Math.max(buffer.length * 2, length + piece.length));
        grown.set(buffer.subarray(0, length));
        buffer = grown;
      }
      buffer.set(piece, length);
      length += piece.length;
    }
    return utf8Decoder.decode(buffer.subarray(0, length));
  }

  /** The text one token renders to (control tokens as their text); partial UTF-8 shows as U+FFFD. */
  tokenToPiece(id: number): string {
    this.checkId(id);
    return utf8Decoder.decode(this.pieceBytes(id));
  }

  /** The token's string as stored in the vocabulary (e.g. "▁Hello", "Ġworld", "<0x0A>"). */
  tokenText(id: number): string {
    this.checkId(id);
    return this.vocab.tokens[id];
  }

  /** The bytes one token renders to. The array is shared: do not modify it. */
  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    return this.pieceBytes(id);
  }

  /** The id of an exact token text, or undefined. */
  tokenId(text: string): number | undefined {
    const id = this.vocab.tokenToId.get(text);
    return id >= 0 ? id : undefined;
  }

  isEog(id: number): boolean {
    return this.eogSet.has(id);
  }

  /** Control or unknown token: rendered as its text, left out with `skipSpecial`. */
  isControlLike(id: number): boolean {
    return (this.vocab.attrs[id] & (TokenAttr.Control | TokenAttr.Unknown)) !== 0;
  }

  /** @internal SentencePiece with a dummy prefix: decoding drops the first text piece's leading space. */
  get stripsLeadingSpace(): boolean {
    return this.vocab.model === 'llama' && this.vocab.addSpacePrefix;
  }

  /** @internal */
  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError('id_out_of_range', `token id ${id} is not in [0, ${this.vocabSize})`);
    }
  }

  /** @internal Rendered bytes of an id already checked to be in range. */
  pieceBytes(id: number): Uint8Array {
    let bytes = this.pieceBytesCache[id];
    if (bytes === undefined) bytes = this.pieceBytesCache[id] = this.renderPiece(id);
    return bytes;
  }

  /** @internal The piece as a string when its bytes are complete UTF-8 on their own, else null. */
  pieceString(id: number): string | null {
    let s = this.pieceStringCache[id];
    if (s === undefined) {
      try {
        s = strictUtf8Decoder.decode(this.pieceBytes(id));
      } catch {
        s = null;
      }
      this.pieceStringCache[id] = s;
    }
    return s;
  }

  // llama.cpp token_to_piece(special = true).
  private renderPiece(id: number): Uint8Array {
    const attr = this.vocab.attrs[id];
    const text = this.vocab.tokens[id];
    if (attr & (TokenAttr.Control | TokenAttr.Unknown | TokenAttr.UserDefined)) return utf8Encoder.encode(text);
    if (attr & TokenAttr.Normal) {
      if (this.vocab.model !== 'gpt2') return utf8Encoder.encode(text.replaceAll('\u2581', ' '));
      return byteLevelToBytes(text).bytes;
    }
    if (attr & TokenAttr.Byte) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
      return m ? Uint8Array.of(parseInt(m[1], 16)) : utf8Encoder.encode(text);
    }
    // Unused and undefined tokens render as nothing, as in llama.cpp.
    return new Uint8Array(0);
  }
}

