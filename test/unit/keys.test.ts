import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32, bech32m } from '@scure/base';
import {
  addressOf,
  decodeAddress,
  encodeAddress,
  generatePrivateKey,
  isAddress,
  publicKeyOf,
  signMessage,
  verifySignature,
} from '../../src/chain/keys.ts';
import { RuleError } from '../../src/chain/errors.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/chain/bytes.ts';
import { arbHash } from './arbitraries.ts';

// node:crypto takes raw ed25519 keys wrapped in PKCS#8 / SPKI DER (RFC 8410).
const nodePriv = (seed: Uint8Array) => createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const nodePub = (pub: Uint8Array) => createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });

const expectCode = (f: () => unknown, code: string) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    expect((e as RuleError).code).toBe(code);
    return;
  }
  expect.fail(`expected RuleError ${code}`);
};

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

describe('ed25519 keys and signatures', () => {
  it('matches RFC 8032 §7.1 test 1', () => {
    const priv = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    expect(bytesToHex(publicKeyOf(priv))).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = signMessage(new Uint8Array(), priv);
    expect(bytesToHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(verifySignature(sig, new Uint8Array(), publicKeyOf(priv))).toBe(true);
  });

  it('agrees with node:crypto on keys and signatures', () => {
    fc.assert(
      fc.property(arbHash, fc.uint8Array({ maxLength: 100 }), (seed, msg) => {
        const pub = publicKeyOf(seed);
        const nodeSpki = nodePub(pub).export({ format: 'der', type: 'spki' });
        expect(Buffer.from(createPublicKey(nodePriv(seed)).export({ format: 'der', type: 'spki' }))).toEqual(Buffer.from(nodeSpki));
        const sig = signMessage(msg, seed);
        expect(Buffer.from(nodeSign(null, msg, nodePriv(seed)))).toEqual(Buffer.from(sig));
        expect(nodeVerify(null, msg, nodePub(pub), sig)).toBe(true);
        expect(verifySignature(sig, msg, pub)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects a signature for another message, another key, or with any bit flipped', () => {
    const priv = generatePrivateKey();
    const pub = publicKeyOf(priv);
    const msg = new TextEncoder().encode('pay 5 TAB');
    const sig = signMessage(msg, priv);
    expect(verifySignature(sig, msg, pub)).toBe(true);
    expect(verifySignature(sig, new TextEncoder().encode('pay 6 TAB'), pub)).toBe(false);
    expect(verifySignature(sig, msg, publicKeyOf(generatePrivateKey()))).toBe(false);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 * 8 - 1 }), (bit) => {
        const bad = Uint8Array.from(sig);
        bad[bit >> 3] ^= 1 << (bit & 7);
        expect(verifySignature(bad, msg, pub)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('never throws on malformed input', () => {
    const pub = publicKeyOf(generatePrivateKey());
    expect(verifySignature(new Uint8Array(63), new Uint8Array(), pub)).toBe(false);
    expect(verifySignature(new Uint8Array(64), new Uint8Array(), new Uint8Array(31))).toBe(false);
    // y = 2^255 − 1 is not a canonical field element: not a valid public key
    expect(verifySignature(new Uint8Array(64), new Uint8Array(), new Uint8Array(32).fill(0xff))).toBe(false);
  });

  it('refuses small-order public keys that would let anyone forge (strict RFC 8032, not ZIP-215)', () => {
    // A = identity (y = 1), R = identity, S = 0 satisfies the cofactored equation for ANY message.
    const identity = concatBytes(Uint8Array.of(1), new Uint8Array(31));
    const forged = concatBytes(identity, new Uint8Array(32));
    const msg = new TextEncoder().encode('steal everything');
    expect(ed25519.verify(forged, msg, identity, { zip215: true })).toBe(true); // the permissive rule accepts it
    expect(verifySignature(forged, msg, identity)).toBe(false);
  });

  it('refuses a non-canonical S (S + L), so signatures are not third-party malleable', () => {
    const priv = generatePrivateKey();
    const msg = new Uint8Array([1, 2, 3]);
    const sig = signMessage(msg, priv);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
    const s2 = s + L;
    const bad = Uint8Array.from(sig);
    for (let i = 0; i < 32; i++) bad[32 + i] = Number((s2 >> BigInt(8 * i)) & 0xffn);
    expect(verifySignature(bad, msg, publicKeyOf(priv))).toBe(false);
  });

  it('generates distinct 32-byte secret keys', () => {
    const a = generatePrivateKey();
    const b = generatePrivateKey();
    expect(a.length).toBe(32);
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
  });
});

describe('bech32m addresses', () => {
  it('round-trip any key with each network prefix', () => {
    fc.assert(
      fc.property(arbHash, fc.constantFrom('tab', 'tabdev', 'tabtest'), (pub, prefix) => {
        const addr = encodeAddress(pub, prefix);
        expect(addr.startsWith(prefix + '1')).toBe(true);
        expect(addr).toBe(addr.toLowerCase());
        expect(decodeAddress(addr, prefix)).toEqual(pub);
        expect(decodeAddress(addr.toUpperCase(), prefix)).toEqual(pub);
        expect(isAddress(addr, prefix)).toBe(true);
        expect(addressOf(pub, { addressPrefix: prefix })).toBe(addr);
      }),
      { numRuns: 200 },
    );
  });

  it('is a BIP 350 bech32m string (checks with the reference decoder)', () => {
    const pub = publicKeyOf(hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
    const addr = encodeAddress(pub, 'tab');
    const { prefix, words } = bech32m.decode(addr as `${string}1${string}`);
    expect(prefix).toBe('tab');
    expect(bech32m.fromWords(words)).toEqual(pub);
    expect(addr.length).toBe(3 + 1 + 52 + 6);
  });

  it('catches every single-character substitution (exhaustive for one address)', () => {
    const addr = encodeAddress(publicKeyOf(generatePrivateKey()), 'tab');
    let tried = 0;
    for (let i = 0; i < addr.length; i++) {
      const pool = i < 3 ? 'abcdefghijklmnopqrstuvwxyz' : i === 3 ? '02' : CHARSET;
      for (const c of pool) {
        if (c === addr[i]) continue;
        const typo = addr.slice(0, i) + c + addr.slice(i + 1);
        expectCode(() => decodeAddress(typo, 'tab'), 'BAD_ADDRESS');
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(1800);
  });

  it('catches a swap of two adjacent different characters', () => {
    fc.assert(
      fc.property(arbHash, fc.integer({ min: 4, max: 60 }), (pub, i) => {
        const addr = encodeAddress(pub, 'tab');
        fc.pre(addr[i] !== addr[i + 1]);
        const typo = addr.slice(0, i) + addr[i + 1] + addr[i] + addr.slice(i + 2);
        expect(isAddress(typo, 'tab')).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects another network’s prefix', () => {
    const pub = publicKeyOf(generatePrivateKey());
    expectCode(() => decodeAddress(encodeAddress(pub, 'tabdev'), 'tab'), 'BAD_ADDRESS');
    expectCode(() => decodeAddress(encodeAddress(pub, 'tab'), 'tabdev'), 'BAD_ADDRESS');
    expect(isAddress(encodeAddress(pub, 'tab'), 'tabtest')).toBe(false);
  });

  it('rejects mixed case, bech32 (non-m) checksums, wrong lengths and junk', () => {
    const pub = publicKeyOf(generatePrivateKey());
    const addr = encodeAddress(pub, 'tab');
    const j = [...addr].findLastIndex((c) => /[a-z]/.test(c));
    const mixed = addr.slice(0, j) + addr[j].toUpperCase() + addr.slice(j + 1);
    expect(mixed).not.toBe(addr);
    expectCode(() => decodeAddress(mixed, 'tab'), 'BAD_ADDRESS');
    expectCode(() => decodeAddress(bech32.encode('tab', bech32.toWords(pub)), 'tab'), 'BAD_ADDRESS');
    expectCode(() => decodeAddress(bech32m.encode('tab', bech32m.toWords(pub.subarray(0, 31))), 'tab'), 'BAD_ADDRESS');
    expectCode(() => decodeAddress(bech32m.encode('tab', bech32m.toWords(concatBytes(pub, Uint8Array.of(0)))), 'tab'), 'BAD_ADDRESS');
    for (const junk of ['', 'tab1', 'tab', 'hello world', addr.replace(/.$/, 'b'), addr + 'q', ' ' + addr]) {
      expectCode(() => decodeAddress(junk, 'tab'), 'BAD_ADDRESS');
    }
    expectCode(() => decodeAddress(42 as unknown as string, 'tab'), 'BAD_ADDRESS');
  });

  it('refuses to encode a key that is not 32 bytes', () => {
    expect(() => encodeAddress(new Uint8Array(31), 'tab')).toThrow(TypeError);
    expect(() => encodeAddress(new Uint8Array(32), 'Tab')).toThrow(TypeError);
  });
});
