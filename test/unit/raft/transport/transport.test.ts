import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, NodeId } from '../../../../src/raft/core/types.js';
import { MessageType } from '../../../../src/raft/core/types.js';
import { RaftTransport } from '../../../../src/raft/transport/transport.js';

interface Got { group: number; message: Message; fromNode: NodeId }

function msg(from: NodeId, to: NodeId, index: number, type: MessageType = MessageType.App): Message {
  return {
    type, from, to, term: 1, logTerm: 1, index, commit: 0, reject: false, rejectHint: 0,
    entries: [{ term: 1, index: index + 1, type: 0, data: new Uint8Array([index & 0xff]) }],
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function node(id: NodeId, port = 0, peers = new Map<NodeId, string>(), limits = {}) {
  const got: Got[] = [];
  const t = await RaftTransport.start({
    nodeId: id, host: '127.0.0.1', port, peers, limits,
    onMessage: (group, message, fromNode) => got.push({ group, message, fromNode }),
  });
  return { t, got };
}

describe('RaftTransport over loopback gRPC', () => {
  test('two nodes exchange many groups’ messages, in order, batched per turn', async () => {
    const a = await node(1);
    const b = await node(2, 0, new Map([[1, `127.0.0.1:${a.t.port}`]]));
    a.t.addPeer(2, `127.0.0.1:${b.t.port}`);
    try {
      await until(() => a.t.isConnected(2) && b.t.isConnected(1), 'connections');
      const groups = [1, 2, 3, 70_000];
      for (let i = 0; i < 50; i++) {
        for (const g of groups) {
          a.t.send(g, [msg(1, 2, i)]);
          b.t.send(g, [msg(2, 1, i, MessageType.Heartbeat)]);
        }
      }
      a.t.send(5, [msg(1, 99, 0)]); // unknown peer: ignored
      await until(() => a.got.length === 200 && b.got.length === 200, 'delivery');
      for (const g of groups) {
        assert.deepEqual(b.got.filter((x) => x.group === g).map((x) => x.message.index), [...Array(50).keys()]);
        assert.ok(a.got.filter((x) => x.group === g).every((x) => x.message.type === MessageType.Heartbeat && x.fromNode === 2));
      }
      // 200 messages queued in one turn towards one peer travel in one RaftBatch.
      assert.equal(b.t.stats().receivedBatches, 1);
      // and 200 heartbeat-typed messages (with entries: not coalescible) of four groups travel in one RaftBatch too
      assert.equal(a.t.stats().receivedBatches, 1);
      assert.equal(a.t.stats().peers[2]!.sentBatches, 1);
    } finally {
      await a.t.close();
      await b.t.close();
    }
  });

  test('a stream dialled to the wrong address: the receiving node drops batches addressed to another node', async () => {
    const wrong = await node(3);
    // Node 1 believes node 2 listens where node 3 does.
    const a = await node(1, 0, new Map([[2, `127.0.0.1:${wrong.t.port}`]]));
    try {
      await until(() => a.t.isConnected(2), 'connection');
      a.t.send(1, [msg(1, 2, 0)]);
      await until(() => wrong.t.stats().misroutedBatches === 1, 'the misrouted batch');
      assert.equal(wrong.got.length, 0, 'nothing reached node 3\'s groups');
    } finally {
      await a.t.close();
      await wrong.t.close();
    }
  });

  test('reconnects after the peer restarts', async () => {
    let b = await node(2);
    const port = b.t.port;
    const a = await node(1, 0, new Map([[2, `127.0.0.1:${port}`]]), { backoffMinMs: 20, backoffMaxMs: 200 });
    try {
      await until(() => a.t.isConnected(2), 'first connection');
      a.t.send(1, [msg(1, 2, 1)]);
      await until(() => b.got.length === 1, 'first message');
      await b.t.close();
      await until(() => !a.t.isConnected(2), 'disconnect noticed');
      b = await node(2, port);
      await until(() => a.t.isConnected(2), 'reconnection');
      a.t.send(1, [msg(1, 2, 2)]);
      await until(() => b.got.length === 1, 'message after restart');
      assert.equal(b.got[0]!.message.index, 2);
      assert.ok(a.t.stats().peers[2]!.connects >= 2);
    } finally {
      await a.t.close();
      await b.t.close();
    }
  });

  test('the per-peer queue bound holds while the peer is down, and excess is dropped and counted', async () => {
    const gone = await node(9);
    const deadPort = gone.t.port;
    await gone.t.close();
    const a = await node(1, 0, new Map([[2, `127.0.0.1:${deadPort}`]]), {
      maxQueueMessages: 100, maxQueueBytes: 1 << 20, backoffMinMs: 20, backoffMaxMs: 100,
    });
    try {
      for (let i = 0; i < 1000; i++) a.t.send(1, [msg(1, 2, i)]);
      await new Promise((r) => setTimeout(r, 300)); // a few failed reconnects
      const s = a.t.stats().peers[2]!;
      assert.equal(s.queuedMessages, 100);
      assert.equal(s.droppedMessages, 900);
      assert.equal(s.sentMessages, 0);
      assert.ok(s.connects >= 2, `connects=${s.connects}`);
      // the byte bound too
      const big: Message = { ...msg(1, 2, 0), entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array(600_000) }] };
      const b2 = await node(3, 0, new Map([[2, `127.0.0.1:${deadPort}`]]), { maxQueueBytes: 1 << 20 });
      b2.t.send(1, [big, big, big]);
      assert.equal(b2.t.stats().peers[2]!.queuedMessages, 1);
      assert.equal(b2.t.stats().peers[2]!.droppedMessages, 2);
      await b2.t.close();
    } finally {
      await a.t.close();
    }
  });
});
