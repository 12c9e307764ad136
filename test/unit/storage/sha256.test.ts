import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../../src/storage/sha256';

const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Sha256 (incremental)', () => {
  it('matches FIPS 180-2 vectors', () => {
    expect(new Sha256().update(new Uint8Array(0)).hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(new Sha256().update(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).hex()).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('equals node:crypto for every length 0..200 and for ragged update splits', () => {
    const data = randomBytes(2000);
    for (let n = 0; n <= 200; n++) expect(new Sha256().update(data.subarray(0, n)).hex()).toBe(nodeSha(data.subarray(0, n)));
    for (const splits of [[1, 63, 64, 65, 7], [55, 1, 8], [127, 129, 1000]]) {
      const hasher = new Sha256();
      let at = 0;
      for (const s of splits) hasher.update(data.subarray(at, (at += s)));
      expect(hasher.hex()).toBe(nodeSha(data.subarray(0, at)));
    }
  });

  it('refuses use after digest', () => {
    const h = new Sha256();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});
