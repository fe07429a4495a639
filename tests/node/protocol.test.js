// Conformance tests for schemas/protocol.md (wire protocol v1), driven by the third-party
// `ws` client against a real server binary.
//
//   cd tests/node && npm ci && MTOWN_BIN=/path/to/mtown node --test
//
// The server is spawned once for the file (`serve --port 0 --database none --log-format
// json` in a fresh temp dir) and killed by PID in the `after` hook. Every server message
// every client receives is checked for seq continuity and against its server schema (see
// client.js); every wait is bounded.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import { Client, closeAll, HOST, mtownBinary, startServer, stopServer, SUBPROTOCOL, TIMEOUT_MS } from './client.js';

mtownBinary(); // fails the file at once, with a clear message, when MTOWN_BIN is unset

const TEST_TIMEOUT = { timeout: 60000 };
const CODE_RE = /^[A-HJ-NP-Z2-9]{4}$/;

let server = null;
const knownCodes = new Set(); // every room code this server handed out

before(async () => {
  server = await startServer();
});

after(async () => {
  const exit = await stopServer(server);
  if (exit && exit.code !== 0) {
    console.log(`# mtown exited with ${JSON.stringify(exit)}; stderr tail:\n${server.stderr.slice(-20).join('\n')}`);
  }
});

function connect(label, opts = {}) {
  return Client.connect(server.port, { label, ...opts });
}

// Checks a Room object: players (in join order) are exactly `players` ({id, name}),
// the host is `hostId`, every flag is as documented.
function checkRoom(room, { code, game = 'party', maxPlayers = 8, isPublic = true, players, hostId, away = [] }) {
  if (code !== undefined) assert.equal(room.code, code, 'room.code');
  assert.match(room.code, CODE_RE);
  assert.equal(room.game, game, 'room.game');
  assert.equal(room.max_players, maxPlayers, 'room.max_players');
  assert.equal(room.public, isPublic, 'room.public');
  assert.equal(room.status, 'waiting', 'room.status');
  assert.equal(room.host, hostId, 'room.host');
  assert.deepEqual(room.players.map((p) => p.id), players.map((p) => p.id), 'room.players in join order');
  for (const [i, p] of room.players.entries()) {
    assert.deepEqual(p, { id: players[i].id, name: players[i].name, is_host: p.id === hostId,
      connected: !away.includes(p.id), ai: false },
      `room.players[${i}]`);
  }
  assert.ok(room.expires_at_ms > room.created_at_ms, 'expires_at_ms after created_at_ms');
}

function someUnknownCode() {
  for (const c of ['ZZZZ', 'YYYY', 'XXXX', 'WWWW']) if (!knownCodes.has(c)) return c;
  throw new Error('unreachable');
}

// ---------------------------------------------------------------------------------------

describe('transport and welcome', () => {
  it('(1) welcome carries session_id, player_id, protocol; subprotocol is mtown.v1.json', TEST_TIMEOUT, async () => {
    const a = await connect('a');
    const b = await connect('b');
    try {
      assert.equal(a.subprotocol, SUBPROTOCOL, 'negotiated subprotocol');
      const w = a.welcome;
      assert.equal(w.seq, 1);
      assert.equal(w.protocol, SUBPROTOCOL);
      assert.equal(typeof w.session_id, 'string');
      assert.ok(w.session_id.length > 0);
      assert.equal(typeof w.player_id, 'string');
      assert.ok(w.player_id.length > 0);
      assert.ok(w.server.length > 0);
      assert.ok(w.limits.max_frame_bytes > 0 && w.limits.chat_max_chars > 0 && w.limits.name_max_chars > 0);
      // Two connections are two sessions and two players.
      assert.notEqual(a.welcome.session_id, b.welcome.session_id);
      assert.notEqual(a.welcome.player_id, b.welcome.player_id);
      await a.ping('p1');
      await a.ping(42);
    } finally {
      await closeAll([a, b]);
    }
  });

  it('a client offering no subprotocol gets mtown.v1.json (no header echoed, per RFC 6455)', TEST_TIMEOUT, async () => {
    const c = await connect('no-subprotocol', { protocols: [] });
    try {
      assert.equal(c.subprotocol, '', 'no Sec-WebSocket-Protocol answered to a client that offered none');
      assert.equal(c.welcome.protocol, SUBPROTOCOL);
      await c.ping();
    } finally {
      await closeAll([c]);
    }
  });

  it('a client offering several subprotocols gets mtown.v1.json', TEST_TIMEOUT, async () => {
    const c = await connect('mixed-subprotocols', { protocols: ['chat.v9', SUBPROTOCOL] });
    try {
      assert.equal(c.subprotocol, SUBPROTOCOL);
      await c.ping();
    } finally {
      await closeAll([c]);
    }
  });

  it('a message over limits.max_frame_bytes closes the connection with 1009', TEST_TIMEOUT, async () => {
    const c = await connect('oversize');
    try {
      c.send({ type: 'chat', text: 'x'.repeat(c.welcome.limits.max_frame_bytes + 1) });
      await assert.rejects(c.recv(), /connection closed/);
      assert.equal(c.closed.code, 1009);
    } finally {
      await closeAll([c]);
    }
  });

  it('a client offering only unknown subprotocols is refused with HTTP 400 UNSUPPORTED_SUBPROTOCOL', TEST_TIMEOUT, async () => {
    const { status, body } = await new Promise((resolve, reject) => {
      const req = http.request({
        host: HOST, port: server.port, path: '/ws', method: 'GET', timeout: TIMEOUT_MS,
        headers: {
          Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'chat.v9, other',
        },
      });
      req.on('timeout', () => req.destroy(new Error(`no handshake answer within ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.on('upgrade', (res, socket) => { socket.destroy(); reject(new Error(`upgraded with HTTP ${res.statusCode}`)); });
      req.on('response', (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { data += d; });
        res.on('end', () => resolve({ status: res.statusCode, body: data }));
      });
      req.end();
    });
    assert.equal(status, 400);
    assert.equal(JSON.parse(body).code, 'UNSUPPORTED_SUBPROTOCOL');
  });
});

// ---------------------------------------------------------------------------------------

describe('room lifecycle (8 players)', () => {
  const clients = []; // index = join order; P0 is the creator
  const names = ['Ada', 'Bo', 'Cy', 'Dee', 'Eli', 'Fay', 'Gus', 'Hal'];
  let code = null;
  let members = []; // { id, name, client } currently in the room, join order

  after(async () => { await closeAll(clients); });

  it('(2) create a party room, 7 join by code, each sees room_joined/player_joined/room_state; a 9th gets ROOM_FULL', TEST_TIMEOUT, async () => {
    const host = await connect('P0');
    clients.push(host);
    host.send({ type: 'create_room', game: 'party', name: names[0], rid: 'c1' });
    const joined = await host.expect('room_joined');
    assert.equal(joined.rid, 'c1', 'rid echoed');
    assert.equal(joined.you, host.playerId, 'you = welcome.player_id');
    code = joined.room.code;
    knownCodes.add(code);
    members = [{ id: host.playerId, name: names[0], client: host }];
    checkRoom(joined.room, { code, players: members, hostId: host.playerId });
    const state0 = await host.expect('room_state');
    assert.deepEqual(state0.room, joined.room, 'room_state after create equals the joined room');

    for (let i = 1; i < 8; i++) {
      const c = await connect(`P${i}`);
      clients.push(c);
      // Mix the request forms: lower-case code, integer rid, no rid.
      const req = { type: 'join_room', code: i === 3 ? code.toLowerCase() : code, name: names[i] };
      const rid = i % 3 === 0 ? undefined : (i % 3 === 1 ? i : `j${i}`);
      if (rid !== undefined) req.rid = rid;
      c.send(req);
      const before = members.slice();
      members.push({ id: c.playerId, name: names[i], client: c });

      const rj = await c.expect('room_joined');
      if (rid === undefined) assert.ok(!('rid' in rj), 'no rid in the reply to a request without one');
      else assert.equal(rj.rid, rid, 'rid echoed unchanged');
      assert.equal(rj.you, c.playerId);
      checkRoom(rj.room, { code, players: members, hostId: host.playerId });
      const rs = await c.expect('room_state');
      checkRoom(rs.room, { code, players: members, hostId: host.playerId });

      await Promise.all(before.map(async (m) => {
        const pj = await m.client.expect('player_joined');
        assert.equal(pj.code, code);
        assert.deepEqual(pj.player, { id: c.playerId, name: names[i], is_host: false, connected: true, ai: false });
        const s = await m.client.expect('room_state');
        checkRoom(s.room, { code, players: members, hostId: host.playerId });
      }));
    }

    const ninth = await connect('P8');
    clients.push(ninth);
    ninth.send({ type: 'join_room', code, name: 'Ivy', rid: 'j9' });
    const err = await ninth.expect('error');
    assert.equal(err.code, 'ROOM_FULL');
    assert.equal(err.rid, 'j9');
    await ninth.ping();
    // Nobody in the room saw anything of the refused join.
    await Promise.all(members.map((m) => m.client.ping()));
  });

  it('(3) chat from one member reaches all 8 with identical text and from', TEST_TIMEOUT, async () => {
    assert.equal(members.length, 8, 'precondition: the 8-player room from (2)');
    const sender = members[2];
    sender.client.send({ type: 'chat', text: 'hello, room!' });
    const got = await Promise.all(members.map((m) => m.client.expect('chat')));
    for (const msg of got) {
      assert.equal(msg.code, code);
      assert.equal(msg.from, sender.id);
      assert.equal(msg.name, sender.name);
      assert.equal(msg.text, 'hello, room!');
    }
    assert.equal(new Set(got.map((m) => m.ts_ms)).size, 1, 'one ts_ms for one chat');

    // Cleaning: control characters removed, surrounding white space trimmed.
    members[5].client.send({ type: 'chat', text: '  hi\u0007 there\u0001 \n', rid: 'chat2' });
    const cleaned = await Promise.all(members.map((m) => m.client.expect('chat')));
    for (const msg of cleaned) {
      assert.equal(msg.text, 'hi there');
      assert.equal(msg.from, members[5].id);
    }

    // Too long before cleaning -> BAD_MESSAGE; long but allowed -> capped at chat_max_chars.
    const max = members[0].client.welcome.limits.chat_max_chars;
    members[1].client.send({ type: 'chat', text: 'y'.repeat(501), rid: 'long' });
    const tooLong = await members[1].client.expect('error');
    assert.deepEqual([tooLong.code, tooLong.field, tooLong.rid], ['BAD_MESSAGE', '/text', 'long']);
    members[1].client.send({ type: 'chat', text: 'z'.repeat(max + 50) });
    const capped = await Promise.all(members.map((m) => m.client.expect('chat')));
    for (const msg of capped) assert.equal(msg.text, 'z'.repeat(max));
    await Promise.all(members.map((m) => m.client.ping()));
  });

  it('(4) a member leaves: room_left to it, player_left + room_state to the others', TEST_TIMEOUT, async () => {
    assert.equal(members.length, 8, 'precondition: the 8-player room from (2)');
    const leaver = members[5];
    leaver.client.send({ type: 'leave_room', rid: 'l1' });
    const rl = await leaver.client.expect('room_left');
    assert.equal(rl.code, code);
    assert.equal(rl.rid, 'l1');
    members = members.filter((m) => m !== leaver);
    await Promise.all(members.map(async (m) => {
      const pl = await m.client.expect('player_left');
      assert.deepEqual({ code: pl.code, player_id: pl.player_id, reason: pl.reason }, { code, player_id: leaver.id, reason: 'left' });
      const rs = await m.client.expect('room_state');
      checkRoom(rs.room, { code, players: members, hostId: members[0].id });
    }));
    // The leaver gets nothing more from the room.
    await leaver.client.ping();
    members[1].client.send({ type: 'chat', text: 'still here' });
    await Promise.all(members.map((m) => m.client.expect('chat')));
    await leaver.client.ping();
  });

  it('(5) the host leaves: host_changed to the earliest-joined remaining player', TEST_TIMEOUT, async () => {
    assert.equal(members.length, 7, 'precondition: the 7-player room from (4)');
    const oldHost = members[0];
    oldHost.client.send({ type: 'leave_room' });
    const rl = await oldHost.client.expect('room_left');
    assert.equal(rl.code, code);
    assert.ok(!('rid' in rl), 'no rid in the reply to a request without one');
    members = members.slice(1);
    const newHost = members[0];
    assert.equal(newHost.name, 'Bo', 'earliest-joined remaining player');
    await Promise.all(members.map(async (m) => {
      const msgs = await m.client.recvN(3);
      const types = msgs.map((x) => x.type);
      assert.deepEqual([...types].sort(), ['host_changed', 'player_left', 'room_state'],
        `${m.client.label} got ${JSON.stringify(types)}`);
      assert.equal(types[2], 'room_state', 'room_state comes after the change it describes');
      const pl = msgs.find((x) => x.type === 'player_left');
      assert.deepEqual({ code: pl.code, player_id: pl.player_id, reason: pl.reason }, { code, player_id: oldHost.id, reason: 'left' });
      const hc = msgs.find((x) => x.type === 'host_changed');
      assert.deepEqual({ code: hc.code, host: hc.host }, { code, host: newHost.id });
      checkRoom(msgs[2].room, { code, players: members, hostId: newHost.id });
    }));
    await Promise.all([...members, oldHost].map((m) => m.client.ping()));
  });

  it('a member whose connection closes keeps the seat, shown disconnected, and resumes it', TEST_TIMEOUT, async () => {
    assert.equal(members.length, 6, 'precondition: the 6-player room from (5)');
    const gone = members[members.length - 1];
    const others = members.slice(0, -1);
    const { resume_token: token } = gone.client.welcome;
    assert.match(token, /^r_[0-9a-f]{32}$/);
    const lastSeq = gone.client.lastSeq;
    await gone.client.close();
    await Promise.all(others.map(async (m) => {
      const pd = await m.client.expect('player_disconnected');
      assert.deepEqual({ code: pd.code, player_id: pd.player_id }, { code, player_id: gone.id });
      const rs = await m.client.expect('room_state');
      checkRoom(rs.room, { code, players: members, hostId: members[0].id, away: [gone.id] });
    }));
    gone.client = await connect(gone.client.label, { resume: { token, lastSeq } });
    const resumed = await gone.client.expect('resumed');
    assert.deepEqual({ seq: resumed.seq, replayed: resumed.replayed, snapshot: resumed.snapshot, code: resumed.code },
      { seq: lastSeq + 1, replayed: 0, snapshot: false, code });
    assert.equal(resumed.player_id, gone.id);
    await Promise.all(others.map(async (m) => {
      const pr = await m.client.expect('player_reconnected');
      assert.deepEqual({ code: pr.code, player_id: pr.player_id }, { code, player_id: gone.id });
      checkRoom((await m.client.expect('room_state')).room, { code, players: members, hostId: members[0].id });
    }));
    checkRoom((await gone.client.expect('room_state')).room, { code, players: members, hostId: members[0].id });
  });
});

// ---------------------------------------------------------------------------------------

describe('errors keep the connection open', () => {
  let c = null;
  let other = null;
  before(async () => { c = await connect('errors'); });
  after(async () => { await closeAll([c, other]); });

  async function expectError(code, { rid, field } = {}) {
    const err = await c.expect('error');
    assert.equal(err.code, code, `error code (message: ${err.message})`);
    if (rid === undefined) assert.ok(!('rid' in err), `no rid expected, got ${JSON.stringify(err.rid)}`);
    else assert.equal(err.rid, rid, 'rid echoed unchanged');
    if (field !== undefined) assert.equal(err.field, field, 'field');
    await c.ping(); // still answers, and nothing else was queued
    return err;
  }

  it('(6a) invalid JSON -> BAD_JSON', TEST_TIMEOUT, async () => {
    c.sendText('{"type": "ping",');
    await expectError('BAD_JSON');
  });

  it('(6a\') a JSON value that is not an object -> BAD_JSON', TEST_TIMEOUT, async () => {
    c.sendText('[1,2,3]');
    await expectError('BAD_JSON');
  });

  it('(6a\'\') a text frame that is not valid UTF-8 closes the connection with 1007 (RFC 6455)', TEST_TIMEOUT, async () => {
    const u = await connect('bad-utf8');
    try {
      u.sendText(Buffer.from([0x7b, 0xff, 0x7d])); // "{", an invalid byte, "}"
      await assert.rejects(u.recv(), /connection closed/);
      assert.equal(u.closed.code, 1007);
    } finally {
      await closeAll([u]);
    }
  });

  it('(6b) unknown type -> UNKNOWN_TYPE with rid echoed', TEST_TIMEOUT, async () => {
    c.send({ type: 'dance', rid: 'u1' });
    await expectError('UNKNOWN_TYPE', { rid: 'u1' });
    c.send({ type: 'dance', rid: 77 });
    await expectError('UNKNOWN_TYPE', { rid: 77 });
  });

  it('(6c) missing field -> BAD_MESSAGE with field', TEST_TIMEOUT, async () => {
    c.send({ type: 'create_room', game: 'party', rid: 'm1' });
    await expectError('BAD_MESSAGE', { rid: 'm1', field: '/name' });
    c.send({ type: 'join_room', name: 'Zed', rid: 'm2' });
    await expectError('BAD_MESSAGE', { rid: 'm2', field: '/code' });
  });

  it('(6c\') unknown top-level field -> BAD_MESSAGE with field', TEST_TIMEOUT, async () => {
    c.send({ type: 'ping', rid: 'x1', colour: 'blue' });
    await expectError('BAD_MESSAGE', { rid: 'x1', field: '/colour' });
  });

  it('(6d) unknown room -> ROOM_NOT_FOUND', TEST_TIMEOUT, async () => {
    c.send({ type: 'join_room', code: someUnknownCode(), name: 'Zed', rid: 'r1' });
    await expectError('ROOM_NOT_FOUND', { rid: 'r1' });
  });

  it('(6e) unknown game -> UNKNOWN_GAME', TEST_TIMEOUT, async () => {
    c.send({ type: 'create_room', game: 'chess', name: 'Zed', rid: 'g1' });
    await expectError('UNKNOWN_GAME', { rid: 'g1' });
  });

  it('(6f) binary frame -> UNSUPPORTED_FRAME', TEST_TIMEOUT, async () => {
    c.sendBinary(Buffer.from(JSON.stringify({ type: 'ping', rid: 'b1' })));
    await expectError('UNSUPPORTED_FRAME');
  });

  it('NOT_IN_ROOM and ALREADY_IN_ROOM', TEST_TIMEOUT, async () => {
    c.send({ type: 'leave_room', rid: 'n1' });
    await expectError('NOT_IN_ROOM', { rid: 'n1' });
    c.send({ type: 'chat', text: 'anyone?', rid: 'n2' });
    await expectError('NOT_IN_ROOM', { rid: 'n2' });

    other = await connect('other');
    other.send({ type: 'create_room', game: 'arena', name: 'Oz', max_players: 2, public: false });
    const { room } = await other.expect('room_joined');
    knownCodes.add(room.code);
    await other.expect('room_state');

    c.send({ type: 'create_room', game: 'party', name: 'Zed', rid: 'a1' });
    const mine = await c.expect('room_joined');
    knownCodes.add(mine.room.code);
    await c.expect('room_state');
    c.send({ type: 'join_room', code: room.code, name: 'Zed', rid: 'a2' });
    await expectError('ALREADY_IN_ROOM', { rid: 'a2' });
    c.send({ type: 'create_room', game: 'party', name: 'Zed', rid: 'a3' });
    await expectError('ALREADY_IN_ROOM', { rid: 'a3' });
    await other.ping();
  });
});

// ---------------------------------------------------------------------------------------

describe('list_rooms', () => {
  it('(7) lists a public room and not a private one', TEST_TIMEOUT, async () => {
    const pub = await connect('pub');
    const priv = await connect('priv');
    const lister = await connect('lister');
    try {
      pub.send({ type: 'create_room', game: 'arena', name: 'Pam', max_players: 4, public: true });
      const pubRoom = (await pub.expect('room_joined')).room;
      await pub.expect('room_state');
      knownCodes.add(pubRoom.code);
      checkRoom(pubRoom, { game: 'arena', maxPlayers: 4, isPublic: true, players: [{ id: pub.playerId, name: 'Pam' }], hostId: pub.playerId });

      priv.send({ type: 'create_room', game: 'arena', name: 'Pri', public: false });
      const privRoom = (await priv.expect('room_joined')).room;
      await priv.expect('room_state');
      knownCodes.add(privRoom.code);
      checkRoom(privRoom, { game: 'arena', isPublic: false, players: [{ id: priv.playerId, name: 'Pri' }], hostId: priv.playerId });

      lister.send({ type: 'list_rooms', rid: 'L1' });
      const list = await lister.expect('room_list');
      assert.equal(list.rid, 'L1');
      const codes = list.rooms.map((r) => r.code);
      assert.ok(codes.includes(pubRoom.code), `public room ${pubRoom.code} listed in ${JSON.stringify(codes)}`);
      assert.ok(!codes.includes(privRoom.code), `private room ${privRoom.code} not listed`);
      assert.deepEqual(list.rooms.find((r) => r.code === pubRoom.code), {
        code: pubRoom.code, game: 'arena', players: 1, max_players: 4, status: 'waiting', created_at_ms: pubRoom.created_at_ms,
      });

      lister.send({ type: 'list_rooms', game: 'party' });
      const partyOnly = await lister.expect('room_list');
      assert.ok(!('rid' in partyOnly));
      assert.ok(partyOnly.rooms.every((r) => r.game === 'party'), 'game filter');
      assert.ok(!partyOnly.rooms.some((r) => r.code === pubRoom.code), 'arena room filtered out');

      await lister.ping();
    } finally {
      await closeAll([pub, priv, lister]);
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('shutdown', () => {
  let own = null; // a second server, so that stopping it leaves the shared one alone
  after(async () => { await stopServer(own); });

  it('SIGTERM: members get room_closed (shutdown), then close 1001 "server shutting down"', TEST_TIMEOUT, async () => {
    own = await startServer();
    const a = await Client.connect(own.port, { label: 'shutdown-a' });
    const b = await Client.connect(own.port, { label: 'shutdown-b' });
    try {
      a.send({ type: 'create_room', game: 'party', name: 'Ann' });
      const { room } = await a.expect('room_joined');
      await a.expect('room_state');
      b.send({ type: 'join_room', code: room.code, name: 'Ben' });
      await b.expect('room_joined');
      await b.expect('room_state');
      await a.expect('player_joined');
      await a.expect('room_state');

      const stopped = stopServer(own);
      for (const c of [a, b]) {
        const rc = await c.expect('room_closed');
        assert.deepEqual({ code: rc.code, reason: rc.reason }, { code: room.code, reason: 'shutdown' });
        await assert.rejects(c.recv(), /connection closed/);
        assert.deepEqual(c.closed, { code: 1001, reason: 'server shutting down' });
      }
      assert.deepEqual(await stopped, { code: 0, signal: null }, 'clean exit on SIGTERM');
    } finally {
      await closeAll([a, b]);
    }
  });
});
