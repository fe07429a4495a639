// Test helpers for the mtown protocol tests: a WebSocket client on the third-party `ws`
// package that checks every server message against schemas/protocol.md, and a spawner for
// the real server binary.
//
// Every server message is checked as it arrives:
//   - it must be a JSON object whose `seq` is exactly the previous seq + 1 (1 for the first);
//   - it must validate against schemas/protocol/v1/server/<type>.json (ajv, draft 2020-12);
//     an unknown `type` is a violation too.
// A violation is sticky: the pending and every later recv()/expect() rejects with it, and
// close() throws it, so a test can never pass over a bad message.
//
// Every wait is bounded by a timeout (default 5 s).

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import WebSocket from 'ws';

export const SUBPROTOCOL = 'mtown.v1.json';
export const TIMEOUT_MS = 5000;
export const HOST = '127.0.0.1';

const here = dirname(fileURLToPath(import.meta.url));
export const SERVER_SCHEMA_DIR = join(here, '..', '..', 'schemas', 'protocol', 'v1', 'server');

// ---------------------------------------------------------------------------------------
// Server schemas

function loadValidators() {
  // allowUnionTypes: the schemas use `"type": ["string", "integer"]` for rid.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const validators = new Map();
  const files = readdirSync(SERVER_SCHEMA_DIR).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no server schemas found in ${SERVER_SCHEMA_DIR}`);
  for (const file of files) {
    const schema = JSON.parse(readFileSync(join(SERVER_SCHEMA_DIR, file), 'utf8'));
    const type = schema?.properties?.type?.const;
    if (typeof type !== 'string' || `${type}.json` !== file) {
      throw new Error(`${file}: properties.type.const must be the file's base name, found ${JSON.stringify(type)}`);
    }
    validators.set(type, ajv.compile(schema));
  }
  return validators;
}

export const serverValidators = loadValidators();

// Returns null when `msg` is a valid server message, otherwise a description of the problem.
export function schemaProblem(msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return 'not a JSON object';
  if (typeof msg.type !== 'string') return 'no string "type"';
  const validate = serverValidators.get(msg.type);
  if (!validate) return `unknown server message type ${JSON.stringify(msg.type)}`;
  if (validate(msg)) return null;
  return `fails schemas/protocol/v1/server/${msg.type}.json: ` +
    validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
      (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '')).join('; ');
}

// ---------------------------------------------------------------------------------------
// Client

export class ProtocolViolation extends Error {}

export class Client {
  // Opens ws://127.0.0.1:PORT/ws offering `protocols` (default: the mtown subprotocol) and
  // waits for the welcome message (seq 1) unless expectWelcome is false. `resume`
  // ({ token, lastSeq }) resumes a session: no welcome, and seq goes on from lastSeq.
  static async connect(port, { label = 'client', protocols = [SUBPROTOCOL], expectWelcome = true,
    timeoutMs = TIMEOUT_MS, resume = null } = {}) {
    const path = resume ? `/ws?resume=${encodeURIComponent(resume.token)}&last_seq=${resume.lastSeq}` : '/ws';
    const c = new Client(port, label, protocols, timeoutMs, path);
    if (resume) {
      c.lastSeq = resume.lastSeq;
      expectWelcome = false;
    }
    await c.opened;
    if (expectWelcome) {
      c.welcome = await c.expect('welcome');
      c.playerId = c.welcome.player_id;
    }
    return c;
  }

  constructor(port, label, protocols, timeoutMs, path = '/ws') {
    this.label = label;
    this.timeoutMs = timeoutMs;
    this.lastSeq = 0;
    this.received = []; // every message, for diagnostics
    this.queue = [];
    this.waiter = null; // { resolve, reject, timer }
    this.violation = null;
    this.closed = null; // { code, reason } once closed
    this.ws = new WebSocket(`ws://${HOST}:${port}${path}`, protocols, {
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', (err) => reject(new Error(`${label}: connect failed: ${err.message}`)));
    });
    this.opened.catch(() => {}); // observed by connect()
    this.ws.on('error', () => {}); // surfaced through `opened` / `closed`
    this.ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  get subprotocol() { return this.ws.protocol; }

  #violate(text) {
    if (!this.violation) this.violation = new ProtocolViolation(`${this.label}: protocol violation: ${text}`);
    this.#wake();
  }

  #onMessage(data, isBinary) {
    if (isBinary) return this.#violate('server sent a binary frame');
    const text = data.toString('utf8');
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.#violate(`server sent invalid JSON: ${text.slice(0, 200)}`);
    }
    this.received.push(msg);
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      return this.#violate(`server message is not an object: ${text.slice(0, 200)}`);
    }
    if (msg.seq !== this.lastSeq + 1) {
      return this.#violate(`seq ${JSON.stringify(msg.seq)} after ${this.lastSeq} (expected ${this.lastSeq + 1}) in ${text.slice(0, 200)}`);
    }
    this.lastSeq = msg.seq;
    const problem = schemaProblem(msg);
    if (problem) return this.#violate(`${problem} in ${text.slice(0, 300)}`);
    this.queue.push(msg);
    this.#wake();
  }

  #wake() {
    if (!this.waiter) return;
    const { resolve, reject, timer } = this.waiter;
    if (this.violation) {
      this.waiter = null;
      clearTimeout(timer);
      reject(this.violation);
    } else if (this.queue.length > 0) {
      this.waiter = null;
      clearTimeout(timer);
      resolve(this.queue.shift());
    } else if (this.closed) {
      this.waiter = null;
      clearTimeout(timer);
      reject(new Error(`${this.label}: connection closed (${this.closed.code} ${this.closed.reason}) while waiting for a message`));
    }
  }

  // Next message (already checked for seq and schema); rejects after timeoutMs.
  recv(timeoutMs = this.timeoutMs) {
    if (this.violation) return Promise.reject(this.violation);
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error(`${this.label}: connection closed (${this.closed.code})`));
    if (this.waiter) return Promise.reject(new Error(`${this.label}: concurrent recv()`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`${this.label}: no message within ${timeoutMs} ms (last seq ${this.lastSeq})`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  // Next message, which must be of `type`.
  async expect(type, timeoutMs = this.timeoutMs) {
    const msg = await this.recv(timeoutMs);
    if (msg.type !== type) {
      throw new Error(`${this.label}: expected "${type}", got ${JSON.stringify(msg)}`);
    }
    return msg;
  }

  // The next `n` messages.
  async recvN(n, timeoutMs = this.timeoutMs) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await this.recv(timeoutMs));
    return out;
  }

  send(obj) { this.ws.send(JSON.stringify(obj)); }
  sendText(text) { this.ws.send(text, { binary: false }); }
  sendBinary(buf) { this.ws.send(buf, { binary: true }); }

  // Sends a ping and requires the very next message to be its pong: proves the connection
  // still answers and that nothing else was queued before it.
  async ping(rid = `ping-${this.lastSeq}`) {
    this.send({ type: 'ping', rid });
    const pong = await this.expect('pong');
    if (pong.rid !== rid) throw new Error(`${this.label}: pong rid ${JSON.stringify(pong.rid)}, expected ${JSON.stringify(rid)}`);
    return pong;
  }

  // Normal close; waits (bounded) for the close handshake. Throws a recorded violation.
  async close(timeoutMs = this.timeoutMs) {
    if (!this.closed && this.ws.readyState !== WebSocket.CLOSED) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => { this.ws.terminate(); resolve(); }, timeoutMs);
        this.ws.once('close', () => { clearTimeout(timer); resolve(); });
        try { this.ws.close(1000); } catch { this.ws.terminate(); }
      });
    }
    if (this.violation) throw this.violation;
  }
}

// Closes every client, then throws the first protocol violation any of them recorded.
export async function closeAll(clients) {
  const results = await Promise.allSettled(clients.filter(Boolean).map((c) => c.close()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

// ---------------------------------------------------------------------------------------
// Server process

export function mtownBinary() {
  const bin = process.env.MTOWN_BIN;
  if (!bin) {
    throw new Error('MTOWN_BIN is not set: point it at the mtown server binary, e.g. ' +
      'MTOWN_BIN=/work/main/build/mtown node --test');
  }
  return bin;
}

// Spawns `MTOWN_BIN serve --port 0 --database none --log-format json` in a fresh temp dir
// and resolves once the first stderr line (a JSON "listening" event) gives the port.
export async function startServer({ startTimeoutMs = 10000 } = {}) {
  const bin = mtownBinary();
  const dir = mkdtempSync(join(tmpdir(), 'mtown-node-test-'));
  const args = ['serve', '--dev', '--port', '0', '--database', 'none', '--log-format', 'json'];
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, pid: child.pid, dir, port: 0, stderr: [], exit: null };
  const killOnExit = () => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    server.exit = { code, signal };
    process.off('exit', killOnExit);
    resolve(server.exit);
  }));
  server.exited = exited;
  const lines = createInterface({ input: child.stderr });
  try {
    server.port = await new Promise((resolve, reject) => {
      let first = true;
      const timer = setTimeout(() => reject(new Error(`${bin} printed no "listening" line within ${startTimeoutMs} ms`)), startTimeoutMs);
      child.once('error', (err) => { clearTimeout(timer); reject(new Error(`cannot start ${bin}: ${err.message}`)); });
      exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`${bin} exited early (${JSON.stringify(e)}): ${server.stderr.join('\n')}`));
      });
      lines.on('line', (line) => {
        if (server.stderr.length < 1000) server.stderr.push(line);
        if (!first) return;
        first = false;
        clearTimeout(timer);
        let ev;
        try { ev = JSON.parse(line); } catch { return reject(new Error(`first stderr line is not JSON: ${line}`)); }
        if (ev?.event !== 'listening' || !Number.isInteger(ev.port) || ev.port <= 0) {
          return reject(new Error(`first stderr line is not a "listening" event with a port: ${line}`));
        }
        resolve(ev.port);
      });
    });
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  return server;
}

// SIGTERM by PID, SIGKILL after graceMs; resolves with the exit status.
export async function stopServer(server, { graceMs = 5000 } = {}) {
  if (!server) return null;
  const wait = (ms) => Promise.race([server.exited, new Promise((r) => setTimeout(() => r(null), ms).unref())]);
  if (server.exit === null) {
    try { process.kill(server.pid, 'SIGTERM'); } catch { /* already gone */ }
    if ((await wait(graceMs)) === null) {
      try { process.kill(server.pid, 'SIGKILL'); } catch { /* already gone */ }
      await wait(graceMs);
    }
  }
  rmSync(server.dir, { recursive: true, force: true });
  return server.exit;
}
