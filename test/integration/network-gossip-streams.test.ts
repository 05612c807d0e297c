/**
 * Gossip survives the loss of one of two connections to a peer. Tabs meet over a relayed
 * connection, then connect directly, and the relayed one closes (we drop it, or the relay cuts it
 * at its limits); gossipsub keeps ONE outbound stream per peer and opens a new one only when the
 * peer is identified again. Here two headless nodes hold a TCP and a WebSocket connection to each
 * other and the one carrying gossip is closed: transactions must still flow both ways.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection } from '@libp2p/interface';
import { afterAll, describe, expect, it } from 'vitest';
import { COIN, hashToHex, signTx, txid, type Transaction } from '../../src/chain/index.ts';
import { DEFAULT_FEE } from '../unit/helpers/chain-builder.ts';
import { startNetNode, waitUntil, type NetNode } from './helpers/net-nodes.ts';

const nodes: NetNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

function transfer(from: NetNode, to: NetNode): Transaction {
  const nonce = from.node.state.account(from.wallet.pub).nonce + 1 + from.node.mempool.size;
  return signTx({ chainId: from.node.params.chainId, from: from.wallet.pub, nonce, fee: DEFAULT_FEE, kind: 'transfer', to: to.wallet.pub, amount: COIN }, from.wallet.priv);
}

const gossipConnection = (conns: Connection[]) => conns.find((c) => c.status === 'open' && c.streams.some((s) => s.protocol?.startsWith('/meshsub/')));

describe('gossip streams', () => {
  it('a peer still connected after its gossip connection closed keeps receiving and sending gossip', async () => {
    const x = await startNetNode('gx');
    nodes.push(x);
    // y meets x over TCP, then opens a second connection over WebSockets.
    const tcp = x.net.multiaddrs().find((m) => !m.includes('/ws'))!;
    const ws = x.net.multiaddrs().find((m) => m.includes('/ws'))!;
    const y = await startNetNode('gy', { bootstrap: [tcp] });
    nodes.push(y);
    const xId = x.net.libp2p.peerId;
    await waitUntil(() => y.net.peers().some((p) => p.id === xId.toString()) && gossipConnection(y.net.libp2p.getConnections(xId)) !== undefined, 'gossip between x and y');
    // Both have coins to send.
    await x.node.miner.mineBlocks(2);
    await waitUntil(() => y.node.height === x.node.height, 'y at x’s height');
    y.node.setMinerPubKey(y.wallet.pub);
    await y.node.miner.mineBlocks(1 + x.node.params.coinbaseMaturity);
    await waitUntil(() => x.node.height === y.node.height, 'x at y’s height');

    await y.net.libp2p.dial(multiaddr(ws), { force: true });
    await waitUntil(() => y.net.libp2p.getConnections(xId).filter((c) => c.status === 'open').length === 2, 'two connections');
    const carrying = gossipConnection(y.net.libp2p.getConnections(xId))!;
    await carrying.close();
    await waitUntil(() => y.net.libp2p.getConnections(xId).filter((c) => c.status === 'open').length === 1, 'one connection left');

    // Both ends have an outbound gossip stream again, over the connection left.
    const outbound = (n: NetNode, other: NetNode) =>
      n.net.libp2p.getConnections(other.net.libp2p.peerId).some((c) => c.status === 'open' && c.streams.some((st) => st.protocol?.startsWith('/meshsub/') && st.direction === 'outbound'));
    await waitUntil(() => outbound(x, y) && outbound(y, x), 'gossip streams both ways again', 10_000);

    // Transactions travel only by gossip: each side's must reach the other over the connection left.
    const fromX = transfer(x, y);
    expect((await x.node.processTx(fromX, 'local')).status).toBe('accepted');
    await waitUntil(() => y.node.mempool.has(hashToHex(txid(fromX))), 'x’s transaction at y', 10_000);
    const fromY = transfer(y, x);
    expect((await y.node.processTx(fromY, 'local')).status).toBe('accepted');
    await waitUntil(() => x.node.mempool.has(hashToHex(txid(fromY))), 'y’s transaction at x', 10_000);
  });
});
