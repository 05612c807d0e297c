/**
 * The profile's libp2p identity: its key, kept in the profile's store, and the peer id it gives.
 * A module of its own so that the page can learn its peer id before `ready` resolves (main.ts
 * loads it while the node starts) without waiting for the rest of the network code: the peer id
 * is the profile's, not the network's, and `status().peerId` was '' after `ready` in a browser
 * whose network took longer to start (Firefox).
 * @module
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { ChainStore } from '../../storage/chain-store.ts';

/** Meta key of the profile's libp2p identity. */
export const PEER_KEY_META = 'p2p.privateKey';

/**
 * The profile's libp2p identity (Ed25519), created and stored on first use, so a profile keeps
 * its peer id across restarts (peers' address books and bans stay meaningful).
 * @example const privateKey = await loadOrCreatePeerKey(store)
 */
export async function loadOrCreatePeerKey(store: Pick<ChainStore, 'getMeta' | 'setMeta'>): Promise<PrivateKey> {
  const stored = await store.getMeta(PEER_KEY_META);
  if (stored instanceof Uint8Array) {
    try {
      return privateKeyFromProtobuf(stored);
    } catch {
      // unreadable: replace it below
    }
  }
  const key = await generateKeyPair('Ed25519');
  await store.setMeta(PEER_KEY_META, privateKeyToProtobuf(key));
  return key;
}

/** The profile's key and the peer id the network will have. */
export interface PeerIdentity {
  privateKey: PrivateKey;
  peerId: string;
}

/**
 * The profile's identity (created on first use): give `privateKey` to the network, show `peerId`
 * before the network runs.
 * @example const { privateKey, peerId } = await loadPeerIdentity(store)
 */
export async function loadPeerIdentity(store: Pick<ChainStore, 'getMeta' | 'setMeta'>): Promise<PeerIdentity> {
  const privateKey = await loadOrCreatePeerKey(store);
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}
