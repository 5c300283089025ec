/**
 * Transport security with real servers and real sockets: TLS served directly (self-signed cert
 * from openssl; TLS 1.2 and 1.3 accepted, 1.1 refused), HSTS only over TLS, require_wss in
 * production (plain HTTP and ws:// refused unless a trusted proxy says https), CORS from an
 * allow-list, and production refusing to start on plain HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as tlsConnect, createServer as createTlsServer, type SecureVersion } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { createTransportServer, loadTlsSettings } from '../../src/http/tls.ts';
import { compileTrust, type TrustProxySetting } from '../../src/http/transport-policy.ts';
import { createTestDatabase, testEnv, uniqueSuffix } from '../support/env.ts';
import type { Child } from '../support/processes.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ENTRY = fileURLToPath(new URL('../support/switchboard-process.ts', import.meta.url));
let dir: string;
let certFile: string;
let keyFile: string;
let cert: Buffer;
let database: Awaited<ReturnType<typeof createTestDatabase>>;

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function fetchRaw(url: string, options: { method?: string; headers?: Record<string, string>; ca?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca, servername: 'localhost' } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends a WebSocket upgrade and reports the status the server answered with (101 = upgraded). */
function upgradeStatus(url: string, headers: Record<string, string> = {}, ca?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
      ...(ca ? { ca, servername: 'localhost' } : {}),
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A TLS handshake limited to the given versions: the protocol negotiated, or the error. */
function handshake(port: number, minVersion: SecureVersion, maxVersion: SecureVersion): Promise<{ protocol?: string | null; error?: string }> {
  return new Promise((resolve) => {
    // SECLEVEL=0 so the client itself is able to offer TLS 1.0/1.1 (OpenSSL 3 refuses them at level 1+).
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost', minVersion, maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' });
    socket.once('secureConnect', () => {
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve({ protocol });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ error: `${err.code ?? ''} ${err.message}` }));
  });
}

function productionEnv(overrides: Record<string, string>): Record<string, string> {
  return testEnv(database.url, `{sbt-${uniqueSuffix()}}`, {
    SWITCHBOARD_ENV: 'production',
    API_KEY_HASH_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  });
}

/**
 * A real Switchboard process (test/support/switchboard-process.ts) and its port. Both processes of
 * this file start together, with a deadline that allows for a loaded machine.
 */
async function startProcess(env: Record<string, string>): Promise<{ child: Child; port: number }> {
  const proc = spawn(process.execPath, [ENTRY, 'api'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const child: Child = { process: proc, exited: new Promise((resolve) => proc.once('exit', resolve)), output: () => output };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const match = /READY (\d+)/.exec(output);
    if (match?.[1]) return { child, port: Number(match[1]) };
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`process did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let tlsProcess: Promise<{ child: Child; port: number }>;
let proxyProcess: Promise<{ child: Child; port: number }>;

async function stopChild(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null) return;
  child.process.kill('SIGTERM');
  await child.exited;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  cert = readFileSync(certFile);
  database = await createTestDatabase();
  tlsProcess = startProcess(productionEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }));
  // The test client connects from 127.0.0.1, so it plays the proxy.
  proxyProcess = startProcess(productionEnv({ TRUST_PROXY: 'loopback' }));
  // Handled where awaited; this only keeps an early failure from being reported as unhandled.
  tlsProcess.catch(() => undefined);
  proxyProcess.catch(() => undefined);
}, 120_000);
afterAll(async () => {
  await Promise.all([tlsProcess, proxyProcess].map((p) => p?.then((started) => stopChild(started.child), () => undefined)));
  rmSync(dir, { recursive: true, force: true });
  await database?.drop();
});

describe('production serving TLS itself (a real process)', () => {
  let port: number;
  beforeAll(async () => {
    ({ port } = await tlsProcess);
  }, 120_000);

  it('accepts TLS 1.2 and 1.3 and refuses TLS 1.1 (a client that can speak 1.1 is turned away)', async () => {
    expect(await handshake(port, 'TLSv1.2', 'TLSv1.2')).toEqual({ protocol: 'TLSv1.2' });
    expect(await handshake(port, 'TLSv1.3', 'TLSv1.3')).toEqual({ protocol: 'TLSv1.3' });
    const old = await handshake(port, 'TLSv1', 'TLSv1.1');
    expect(old.protocol).toBeUndefined();
    expect(old.error).toMatch(/protocol version|unsupported protocol|no protocols available/i);
    // Control: the same client completes TLS 1.1 with a server that still allows it, so the refusal above is ours.
    const lax = createTlsServer({ cert, key: readFileSync(keyFile), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => lax.listen(0, '127.0.0.1', resolve));
    try {
      expect(await handshake((lax.address() as AddressInfo).port, 'TLSv1', 'TLSv1.1')).toEqual({ protocol: 'TLSv1.1' });
    } finally {
      lax.close();
    }
  });

  it('sends HSTS over TLS, and lets the socket handshake reach the web chat (401 without a ticket, not 403)', async () => {
    const page = await fetchRaw(`https://localhost:${port}/`, { ca: cert });
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const api = await fetchRaw(`https://localhost:${port}/api/v1/nothing-here`, { ca: cert });
    expect(api.status).toBe(404);
    expect(api.headers['strict-transport-security']).toMatch(/^max-age=31536000/);
    // The web chat answers 401 (no valid ticket). Its refusal writes then destroys the socket, which
    // over TLS sometimes loses the response (a hang-up): retry until the answer arrives; never 403.
    const answers: number[] = [];
    while (!answers.includes(401) && answers.length < 20) {
      answers.push(await upgradeStatus(`https://localhost:${port}/ws?ticket=x`, {}, cert).catch(() => 0));
    }
    expect(answers).toContain(401);
    expect(answers.filter((a) => a !== 401 && a !== 0)).toEqual([]);
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    await expect(fetchRaw(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('production behind a trusted TLS proxy (require_wss; a real process)', () => {
  let base: string;
  beforeAll(async () => {
    base = `http://127.0.0.1:${(await proxyProcess).port}`;
  }, 120_000);

  it('refuses requests that did not arrive over https with 403 and a clear message', async () => {
    for (const headers of [{}, { 'X-Forwarded-Proto': 'http' }, { 'X-Forwarded-Proto': 'http, https' }]) {
      const reply = await fetchRaw(`${base}/api/v1/auth/login`, { method: 'POST', headers });
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.body)).toEqual({ error: { code: 'forbidden', message: expect.stringMatching(/^HTTPS is required/) as unknown } });
      expect(reply.headers['strict-transport-security']).toBeUndefined();
      expect((await fetchRaw(`${base}/`, { headers })).status).toBe(403);
    }
  });

  it('serves requests the proxy marks https, with HSTS; health probes stay reachable over plain HTTP', async () => {
    const page = await fetchRaw(`${base}/`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toMatch(/^max-age=31536000/);
    const health = await fetchRaw(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBeUndefined();
  });

  it('refuses ws:// upgrades before the web chat sees them; wss via the proxy reaches it', async () => {
    expect(await upgradeStatus(`${base}/ws?ticket=x`)).toBe(403);
    expect(await upgradeStatus(`${base}/ws?ticket=x`, { 'X-Forwarded-Proto': 'http' })).toBe(403);
    // Through the proxy with https: the socket server answers (401: the ticket is not valid).
    expect(await upgradeStatus(`${base}/ws?ticket=x`, { 'X-Forwarded-Proto': 'https' })).toBe(401);
  });
});

describe('production refuses to start on plain HTTP or with CORS *', () => {
  function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'start', '--role', 'api'], { env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.resume();
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('exits 1 naming the fix, before listening', async () => {
    const [plain, cors, off] = await Promise.all([
      start(productionEnv({})),
      start(productionEnv({ TRUST_PROXY: '1', CORS_ORIGINS: '*' })),
      start(productionEnv({ TRUST_PROXY: '1', REQUIRE_TLS: 'false' })),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(
      'TLS_CERT: production refuses plain HTTP: set TLS_CERT_FILE and TLS_KEY_FILE to serve TLS, or TRUST_PROXY to the TLS-terminating proxy',
    );
    expect(cors.code).toBe(1);
    expect(cors.stderr).toContain('CORS_ORIGINS: "*" is refused in production');
    expect(cors.stderr).not.toContain('production refuses plain HTTP');
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('REQUIRE_TLS: cannot be false in production');
  }, 90_000);

  it('checks the certificate pair everywhere, and production settings at load', () => {
    const env = { SWITCHBOARD_ENV: 'production', VAULT_KEYS: `k:${randomBytes(32).toString('base64')}`, JWT_PRIVATE_KEY: 'x' };
    expect(() => loadConfig({ env })).toThrow(/production refuses plain HTTP/);
    expect(() => loadConfig({ env: { ...env, TRUST_PROXY: '10.0.0.0/8' } })).not.toThrow();
    expect(() => loadConfig({ env: { ...env, TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } })).not.toThrow();
    expect(() => loadConfig({ env: { TLS_CERT_FILE: certFile } })).toThrow(/TLS_KEY: set TLS_CERT_FILE and TLS_KEY_FILE \(or TLS_CERT and TLS_KEY\) together/);
    expect(() => loadConfig({ env: { TLS_CERT_FILE: join(dir, 'missing.pem'), TLS_KEY_FILE: keyFile } })).toThrow(/TLS_CERT_FILE: cannot read/);
    expect(() => loadConfig({ env: { TRUST_PROXY: 'true' } })).toThrow(/TRUST_PROXY: trusting every address/);
    expect(() => loadConfig({ env: { CORS_ORIGINS: 'https://a.example/path' } })).toThrow(/CORS_ORIGINS/);
    // A key that does not match the certificate fails at start, without echoing key material.
    const otherKey = execFileSync('openssl', ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']).toString();
    let mismatch: unknown;
    try {
      loadTlsSettings({ TLS_CERT: cert.toString(), TLS_KEY: otherKey, TLS_MIN_VERSION: 'TLSv1.2' });
    } catch (err) {
      mismatch = err;
    }
    expect(mismatch).toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/not a usable PEM certificate and matching private key/) as unknown });
    expect(JSON.stringify(mismatch)).not.toContain('PRIVATE KEY');
    // Outside production these are allowed (and doctor --security warns about them).
    expect(loadConfig({ env: { CORS_ORIGINS: '*' } }).CORS_ORIGINS).toEqual(['*']);
  });
});

describe('HSTS and CORS in the app (real HTTP server, no TLS)', () => {
  const servers: Server[] = [];
  async function serve(options: { corsOrigins?: string[]; trustProxy?: TrustProxySetting; requireTls?: boolean }): Promise<string> {
    const root = Router().get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    const api = Router().get('/ping', (_req, res) => {
      res.json({ pong: true });
    });
    const trust = compileTrust(options.trustProxy ?? false);
    const app = createHttpApp({
      log: createLogger({ level: 'silent' }),
      bodyLimitBytes: 65_536,
      jsonMaxDepth: 32,
      rootRoutes: [root],
      apiRoutes: [api],
      trust,
      requireTls: options.requireTls ?? false,
      corsOrigins: options.corsOrigins ?? [],
      hstsMaxAgeSeconds: 31_536_000,
    });
    const server = createTransportServer(app, { tls: undefined, requireTls: options.requireTls ?? false, trust });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it('never sends HSTS over plain HTTP, even when a client (not a trusted proxy) claims https', async () => {
    const base = await serve({});
    for (const headers of [{}, { 'X-Forwarded-Proto': 'https' }]) {
      const reply = await fetchRaw(`${base}/api/v1/ping`, { headers });
      expect(reply.status).toBe(200);
      expect(reply.headers['strict-transport-security']).toBeUndefined();
    }
    // A proxy that is configured, but is not who connected, is not believed either.
    const elsewhere = await serve({ trustProxy: ['10.9.9.9'], requireTls: true });
    expect((await fetchRaw(`${elsewhere}/api/v1/ping`, { headers: { 'X-Forwarded-Proto': 'https' } })).status).toBe(403);
    expect(await upgradeStatus(`${elsewhere}/ws`, { 'X-Forwarded-Proto': 'https' })).toBe(403);
    const trusted = await serve({ trustProxy: 1, requireTls: true });
    const viaProxy = await fetchRaw(`${trusted}/api/v1/ping`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('allows listed origins only (simple requests and preflights)', async () => {
    const base = await serve({ corsOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    const allowed = await fetchRaw(`${base}/api/v1/ping`, { headers: { Origin: 'https://app.example.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(allowed.headers['vary']).toMatch(/Origin/);
    expect((await fetchRaw(`${base}/api/v1/ping`, { headers: { Origin: 'http://localhost:5173' } })).headers['access-control-allow-origin']).toBe(
      'http://localhost:5173',
    );
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'http://app.example.com', 'null']) {
      const reply = await fetchRaw(`${base}/api/v1/ping`, { headers: { Origin: origin } });
      expect(reply.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(reply.headers['access-control-allow-credentials'], origin).toBeUndefined();
    }
    const preflight = (origin: string) =>
      fetchRaw(`${base}/api/v1/ping`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
      });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(ok.headers['access-control-allow-headers']).toBe('Authorization,Content-Type,X-Request-Id');
    const refused = await preflight('https://evil.example.com');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('sends no CORS headers without an allow-list, and `*` never with credentials', async () => {
    const none = await serve({});
    expect((await fetchRaw(`${none}/api/v1/ping`, { headers: { Origin: 'https://app.example.com' } })).headers['access-control-allow-origin']).toBeUndefined();
    const any = await serve({ corsOrigins: ['*'] });
    const reply = await fetchRaw(`${any}/api/v1/ping`, { headers: { Origin: 'https://whoever.example' } });
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
  });
});
