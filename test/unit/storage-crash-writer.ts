/**
 * Child process of storage-level.test.ts: connects blocks into a LevelStore as fast as it can and
 * prints each committed height, until the parent kills it with SIGKILL.
 * Each block h sets 'counter' to h and adds 200 keys 'b:<h>:<i>', so a consistent store has
 * counter == tip height and exactly 200 × (tip height + 1) 'b:' keys.
 */
import type { StateChange } from '../../src/chain/types.ts';
import { LevelStore } from '../../src/storage/level-store.ts';

const dir = process.argv[2];
const store = new LevelStore({ network: 'dev', dir });
const { meta } = await store.open();
let counter = meta.tipHeight;
for (let h = meta.tipHeight + 1; ; h++) {
  const hash = new Uint8Array(32);
  new DataView(hash.buffer).setUint32(0, h);
  const changes: StateChange[] = [
    {
      key: 'counter',
      before: counter < 0 ? null : { type: 'holding', value: BigInt(counter) },
      after: { type: 'holding', value: BigInt(h) },
    },
  ];
  for (let i = 0; i < 200; i++) changes.push({ key: `b:${h}:${i}`, before: null, after: { type: 'holding', value: BigInt(i + 1) } });
  await store.connectBlock({ hash, height: h, body: new Uint8Array(2000).fill(h & 0xff), undo: { hash, height: h, changes } });
  counter = h;
  process.stdout.write(`${h}\n`);
}
