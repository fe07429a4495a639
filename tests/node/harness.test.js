// Self-test of the checking client in client.js against a fake server on 127.0.0.1: a
// message with a seq gap, one failing its schema, or one of an unknown type must fail the
// test that reads it. Needs no mtown binary.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { WebSocketServer } from 'ws';

import { Client, ProtocolViolation, SUBPROTOCOL } from './client.js';

const welcome = {
  seq: 1, type: 'welcome', session_id: 's_1', player_id: 'p_1', resume_token: `r_${'0'.repeat(32)}`,
  server: 'fake', protocol: SUBPROTOCOL,
  limits: { max_frame_bytes: 65536, chat_max_chars: 200, name_max_chars: 32 },
  session: { resume_buffer_messages: 100, resume_buffer_ms: 5000, seat_grace_s: 300, heartbeat_interval_ms: 30000,
    heartbeat_timeout_ms: 60000 },
};

describe('checking client', () => {
  let wss = null;
  let port = 0;
  const scripts = []; // per connection: the messages the fake server sends after welcome

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws', handleProtocols: () => SUBPROTOCOL });
    await new Promise((resolve) => wss.once('listening', resolve));
    port = wss.address().port;
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify(welcome));
      for (const m of scripts.shift() ?? []) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    });
  });

  after(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  async function firstRecv(script) {
    scripts.push(script);
    const c = await Client.connect(port, { label: 'self-test', timeoutMs: 500 });
    try {
      return await c.recv();
    } finally {
      c.ws.terminate();
    }
  }

  it('accepts a valid message with the next seq', async () => {
    const pong = await firstRecv([{ seq: 2, type: 'pong', server_time_ms: 1 }]);
    assert.equal(pong.type, 'pong');
  });

  it('rejects a seq gap', async () => {
    await assert.rejects(firstRecv([{ seq: 3, type: 'pong', server_time_ms: 1 }]), ProtocolViolation);
  });

  it('rejects a repeated seq', async () => {
    await assert.rejects(firstRecv([{ seq: 1, type: 'pong', server_time_ms: 1 }]), ProtocolViolation);
  });

  it('rejects a message failing its schema', async () => {
    await assert.rejects(firstRecv([{ seq: 2, type: 'pong', server_time_ms: 1, extra: true }]), /additional properties/);
  });

  it('rejects an unknown type', async () => {
    await assert.rejects(firstRecv([{ seq: 2, type: 'surprise' }]), /unknown server message type/);
  });

  it('rejects a message that is not JSON', async () => {
    await assert.rejects(firstRecv(['{nope']), ProtocolViolation);
  });

  it('times out instead of waiting forever', async () => {
    await assert.rejects(firstRecv([]), /no message within 500 ms/);
  });
});
