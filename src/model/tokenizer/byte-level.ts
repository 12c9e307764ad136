// GPT-2 byte-level alphabet: every byte 0..255 maps to one printable Unicode char, so a
// byte-level BPE vocabulary can spell any byte string. Printable Latin-1 bytes map to
// themselves; the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) map to U+0100 upwards,
// in byte order. This is the table from OpenAI's GPT-2 `bytes_to_unicode`.

/** byte -> the char that stands for it in byte-level token strings. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** char code -> byte, or -1 for chars outside the byte-level alphabet. */
export const CHAR_TO_BYTE: Int16Array = buildCharToByte();

function isPrintableLatin1(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

function buildByteToChar(): string[] {
  const out: string[] = new Array(256);
  let nextExtra = 0;
  for (let byte = 0; byte < 256; byte++) {
    out[byte] = isPrintableLatin1(byte) ? String.fromCharCode(byte) : String.fromCharCode(256 + nextExtra++);
  }
  return out;
}

function buildCharToByte(): Int16Array {
  // The alphabet's largest char is U+0143 (256 + 67).
  const table = new Int16Array(0x144).fill(-1);
  for (let byte = 0; byte < 256; byte++) table[BYTE_TO_CHAR[byte].charCodeAt(0)] = byte;
  return table;
}

/** Byte-level string of raw bytes, e.g. [0x20, 0x68, 0x69] -> "Ġhi". */
export function bytesToByteLevel(bytes: ArrayLike<number>, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/**
 * Raw bytes of a byte-level token string. Chars outside the alphabet (only in malformed
 * vocabularies) are kept as their own UTF-8 bytes; `unmapped` counts them.
 */
export function byteLevelToBytes(text: string): { bytes: Uint8Array; unmapped: number } {
  const out: number[] = [];
  let unmapped = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const byte = code < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[code] : -1;
    if (byte >= 0) out.push(byte);
    else {
      unmapped++;
      for (const b of utf8Encoder.encode(ch)) out.push(b);
    }
  }
  return { bytes: Uint8Array.from(out), unmapped };
}

const utf8Encoder = new TextEncoder();
