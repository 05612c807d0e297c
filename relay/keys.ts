/**
 * The relay's persistent libp2p identity: an Ed25519 key kept in `<dataDir>/peer-key` (libp2p's
 * protobuf key encoding, file mode 0600), so the relay's peer id — which pages and nodes have in
 * their bootstrap lists and circuit addresses — survives restarts.
 *
 * A key file that exists but does not parse is an error, never silently replaced: a new key
 * would change the peer id under everyone's feet.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the key inside the data directory. */
export const KEY_FILE = 'peer-key';

/**
 * Loads the relay key from `dataDir`, creating the directory and a fresh Ed25519 key on first run.
 * @example
 * ```ts
 * const privateKey = await loadOrCreateKey('.data/relay-main');
 * const node = await createLibp2p({ privateKey, ... });
 * ```
 */
export async function loadOrCreateKey(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, KEY_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (bytes) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (e) {
      throw new Error(`relay key ${file} is unreadable (${(e as Error).message}); move it away to start with a new peer id`, { cause: e });
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = await generateKeyPair('Ed25519');
  // Write then rename: a crash mid-write never leaves a truncated key behind.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' });
  await rename(tmp, file);
  return key;
}
