/**
 * What a tab can honestly say about its network (`status().connection`), from a few facts: the
 * node's own `synced` flag is true whenever no peer claims more work — which is also the case
 * before any peer has been heard from — so the page needs to know whether anyone has answered.
 *
 * "Connecting" lasts until a chain peer has answered a status request (and is still connected),
 * or until the tab can tell that nobody will for now: the tab is isolated, the browser is offline,
 * the network could not start, or the relay was reached (or not) long enough ago for discovery to
 * have found someone.
 * @module
 */
import type { ApiConnection } from '../api.ts';

/**
 * After the relay is reached, the time in which another tab on it is found, dialled and answers:
 * one discovery period (the browser network announces every 5 s, and at once on reservation) plus
 * a WebRTC dial (≤ 1 s when it works).
 */
export const ALONE_AFTER_RELAY_MS = 6_000;
/** With no relay for this network, the time in which a tab of this browser answers over the mesh (hello at start). */
export const ALONE_WITHOUT_RELAY_MS = 3_000;
/** A relay named by the bootstrap that is still unreached after this long is taken as unreachable for now. */
export const RELAY_UNREACHED_MS = 10_000;

/** The facts {@link connectionOf} decides from. */
export interface ConnectionFacts {
  /** navigator.onLine. */
  browserOnline: boolean;
  /** The isolate switch is on. */
  isolated: boolean;
  /** A chain peer (libp2p or a tab of this browser) has answered a status request and is still connected. */
  answered: boolean;
  /** The network could not start (the tab runs offline for good). */
  failed: boolean;
  /** ms since the network started; null while it is starting. */
  sinceStart: number | null;
  /** ms since the first connection opened (the relay, normally); null if none has. */
  sinceReached: number | null;
  /** The bootstrap document named no relay for this network. */
  noRelay: boolean;
}

/**
 * @example connectionOf({ browserOnline: true, isolated: false, answered: false, failed: false, sinceStart: 500, sinceReached: null, noRelay: false }) // 'connecting'
 */
export function connectionOf(f: ConnectionFacts): ApiConnection {
  if (f.isolated) return 'alone';
  // Tabs of this browser answer over the mesh with the network gone, so an answer counts first.
  if (f.answered) return 'connected';
  if (!f.browserOnline || f.failed) return 'alone';
  if (f.sinceReached !== null && f.sinceReached >= ALONE_AFTER_RELAY_MS) return 'alone';
  if (f.sinceStart !== null && f.noRelay && f.sinceStart >= ALONE_WITHOUT_RELAY_MS) return 'alone';
  if (f.sinceStart !== null && f.sinceReached === null && f.sinceStart >= RELAY_UNREACHED_MS) return 'alone';
  return 'connecting';
}
