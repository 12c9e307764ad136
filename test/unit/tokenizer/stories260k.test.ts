// stories260K.gguf (a real 512-token SentencePiece vocabulary with byte fallback): prompts
// must encode exactly as llama2.c's run.c encoded them for the reference greedy outputs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../src/model/tokenizer';
import { FIXTURES } from './fixtures';

const STORIES = resolve(FIXTURES, 'stories260K');

/** The "run.c encode() of further strings" table of reference-greedy.txt: [text, ids with BOS]. */
function referenceEncodings(): [string, number[]][] {
  const txt = readFileSync(resolve(STORIES, 'reference-greedy.txt'), 'utf8');
  const rows: [string, number[]][] = [];
  for (const line of txt.split('\n')) {
    const m = /^ {2}('(?:[^'\\]|\\.)*')\s+-> ([\d ]+)$/.exec(line);
    if (m) rows.push([m[1].slice(1, -1).replace(/\\'/g, "'"), m[2].trim().split(' ').map(Number)]);
  }
  return rows;
}

describe('stories260K tokenizer', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await Tokenizer.fromGGUF(resolve(STORIES, 'stories260K.gguf'));
  }, 60_000);

  it('encodes "Once upon a time" with BOS as 1 403 407 261 378', () => {
    expect(tok.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
  });

  it('matches all seven run.c encodings', () => {
    const rows = referenceEncodings();
    expect(rows.length).toBe(7);
    for (const [text, ids] of rows) expect({ text, ids: tok.encode(text) }).toEqual({ text, ids });
    // Byte fallback is exercised: "☕" is <0xE2><0x98><0x95> (ids 229 155 152).
    expect(rows.find(([t]) => t.includes('☕'))![1]).toEqual(expect.arrayContaining([229, 155, 152]));
  });

  it('decodes the 256 greedy ids of case 1 to the text run.c printed', () => {
    const txt = readFileSync(resolve(STORIES, 'reference-greedy.txt'), 'utf8');
    const ids = txt.split('Case 1 sampled token ids (256 ids; the token fed at position 0 is BOS=1):\n')[1].split('\n')[0].trim().split(' ').map(Number);
    const printed = txt.split('Case 1 stdout (the final newline is printed by run.c; \'achieved tok/s\' goes to stderr):\n-----8<-----\n')[1].split('\n-----8<-----')[0];
    expect(ids.length).toBe(256);
    // run.c prints the pieces after BOS; its final newline is its own.
    expect(tok.decode([1, ...ids], { skipSpecial: true })).toBe(printed.replace(/\n$/, ''));
  });

  it('has llama.cpp defaults: BOS 1, EOS 2, unknown 0, add BOS, and ignores out-of-range ids', () => {
    // The file sets seperator/padding ids to 0xFFFFFFFF ("none").
    expect([tok.bos, tok.eos, tok.unk, tok.addBos, tok.addEos]).toEqual([1, 2, 0, true, false]);
    expect(tok.eogIds).toEqual([2]);
  });
});
