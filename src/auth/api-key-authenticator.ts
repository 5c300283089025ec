/**
 * Accepting API keys: an Authenticator for `Authorization: Bearer sbk_…` (exact format, keyed hash
 * compared in constant time, expiry, revocation, the acting user still enabled), and a guard that
 * refuses keys anywhere else in a request (query string, body, other headers). Every refusal and
 * (at most once a minute per key) every use is audited, with the public id only, never the secret.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Router, type Request } from 'express';
import { SwitchboardError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { findApiKeyForAuth, findApiKeyOwner, touchApiKey, type ApiKeyForAuth } from '../store/api-keys.ts';
import { apiKeyMatches, containsApiKey, hashApiKey, parseApiKey, publicIdIn } from './api-keys.ts';
import type { Authenticator, Principal } from './principal.ts';

/** How often a key's `last_used_at` moves and an `api_key.used` audit row is written, at most. */
export const API_KEY_LAST_USED_INTERVAL_MS = 60_000;

/** Why a presented key was refused (audit `details.reason`). */
export type ApiKeyRejection = 'malformed' | 'unknown' | 'bad_secret' | 'revoked' | 'expired' | 'user_disabled';

/** What accepting keys needs. */
export interface ApiKeyAuthDeps {
  readonly db: Db;
  /** The server-side HMAC key (API_KEY_HASH_KEY). */
  readonly hashKey: Buffer;
  readonly clock: Clock;
}

/** Accepting and issuing API keys for one process. */
export interface ApiKeyAuth {
  /** The authenticator for `requireAuth`; place it after the access-token authenticator. */
  readonly authenticate: Authenticator;
  /**
   * Mount first under /api/v1: refuses keys outside the Authorization header (400, audited) and
   * keeps the caller's IP and user agent for the audit rows the authenticator writes.
   */
  readonly guard: Router;
  /** The stored form of a new token. */
  hash(token: string): Buffer;
}

interface RequestMeta {
  readonly ip: string;
  readonly userAgent: string;
}

/** Headers that claim to carry an API key: any scheme (or none) followed by `sbk_`, or a key shape anywhere. */
const KEY_HEADER = /^\s*(?:[A-Za-z][A-Za-z0-9+._~-]*\s+)?sbk_/i;
const BEARER = 'Bearer ';
/** A dummy digest compared when no key exists, so unknown ids cost about the same as wrong secrets. */
const DUMMY_HASH = Buffer.alloc(32);

/** Builds the authenticator and the guard; they share the request metadata for auditing. */
export function createApiKeyAuth(deps: ApiKeyAuthDeps): ApiKeyAuth {
  const requestMeta = new AsyncLocalStorage<RequestMeta>();

  const audit = async (action: string, key: { id: string; tenantId: string } | undefined, details: Record<string, string>): Promise<void> => {
    const meta = requestMeta.getStore();
    await appendAudit(deps.db, {
      ...(key ? { tenantId: key.tenantId, actorId: key.id, targetType: 'api_key', targetId: key.id } : {}),
      actorType: 'api_key',
      action,
      ...(meta ? { ip: meta.ip, userAgent: meta.userAgent } : {}),
      details,
    });
  };

  const reject = async (reason: ApiKeyRejection, key: ApiKeyForAuth | undefined, publicId: string | undefined): Promise<never> => {
    await audit('api_key.rejected', key, { reason, ...(publicId === undefined ? {} : { publicId }) });
    const message = reason === 'expired' ? 'API key expired' : reason === 'revoked' ? 'API key revoked' : 'Invalid API key';
    throw new SwitchboardError('unauthenticated', message, { context: { reason } });
  };

  const authenticate: Authenticator = async (authorization) => {
    if (!KEY_HEADER.test(authorization) && !containsApiKey(authorization)) return undefined;
    const parsed = authorization.startsWith(BEARER) ? parseApiKey(authorization.slice(BEARER.length)) : undefined;
    if (!parsed) {
      // The public id of a malformed key (if it has one) still tells the tenant which key leaked.
      const publicId = publicIdIn(authorization);
      const owner = publicId === undefined ? undefined : await findApiKeyOwner(deps.db, publicId);
      await audit('api_key.rejected', owner, { reason: 'malformed', ...(publicId === undefined ? {} : { publicId }) });
      throw new SwitchboardError('unauthenticated', 'Invalid API key', { context: { reason: 'malformed' } });
    }
    const key = await findApiKeyForAuth(deps.db, parsed.publicId);
    const matches = apiKeyMatches(deps.hashKey, parsed.token, key?.secretHash ?? DUMMY_HASH);
    if (!key) return reject('unknown', undefined, parsed.publicId);
    if (!matches) return reject('bad_secret', key, parsed.publicId);
    const now = deps.clock.now();
    if (key.revokedAt !== null && key.revokedAt.getTime() <= now) return reject('revoked', key, parsed.publicId);
    if (key.expiresAt !== null && key.expiresAt.getTime() <= now) return reject('expired', key, parsed.publicId);
    if (key.userDisabled) return reject('user_disabled', key, parsed.publicId);

    // Cheap last-used tracking: skip the write entirely while the stored time is fresh.
    if (key.lastUsedAt === null || now - key.lastUsedAt.getTime() >= API_KEY_LAST_USED_INTERVAL_MS) {
      if (await touchApiKey(deps.db, key.id, new Date(now), API_KEY_LAST_USED_INTERVAL_MS)) {
        await audit('api_key.used', key, { publicId: key.publicId });
      }
    }
    return toPrincipal(key);
  };

  const guard = Router();
  guard.use((req, _res, next) => {
    const meta: RequestMeta = { ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' };
    const where = misplacedKey(req);
    if (where === undefined) {
      requestMeta.run(meta, () => next());
      return;
    }
    requestMeta.run(meta, () => {
      (async () => {
        const publicId = publicIdIn(where.text);
        const owner = publicId === undefined ? undefined : await findApiKeyOwner(deps.db, publicId);
        await audit('api_key.misplaced', owner, { where: where.place, ...(publicId === undefined ? {} : { publicId }) });
        throw new SwitchboardError('validation_failed', 'API keys are accepted only in the Authorization header', {
          issues: [{ path: where.place, message: 'an API key must not be sent here; rotate it if it was' }],
        });
      })().catch(next);
    });
  });

  return { authenticate, guard, hash: (token) => hashApiKey(deps.hashKey, token) };
}

function toPrincipal(key: ApiKeyForAuth): Principal {
  return {
    kind: 'api_key',
    apiKeyId: key.id,
    tenantId: key.tenantId,
    role: key.role,
    scopes: new Set(key.scopes),
    ...(key.userId === null ? {} : { userId: key.userId }),
    ...(key.conversationIds === null ? {} : { conversationIds: new Set(key.conversationIds) }),
  };
}

/** Where a request carries something key-shaped outside the Authorization header, if anywhere. */
function misplacedKey(req: Request): { place: 'query' | 'body' | 'header'; text: string } | undefined {
  const questionMark = req.originalUrl.indexOf('?');
  if (questionMark >= 0) {
    const raw = req.originalUrl.slice(questionMark + 1);
    const text = safeDecode(raw);
    if (/sbk_/i.test(raw) || /sbk_/i.test(text)) return { place: 'query', text };
  }
  const inBody = findKeyIn(req.body, 0);
  if (inBody !== undefined) return { place: 'body', text: inBody };
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (containsApiKey(joined)) return { place: 'header', text: joined };
  }
  return undefined;
}

function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/** The first key-shaped string (value or field name) in a parsed JSON body; depth is already bounded. */
function findKeyIn(value: unknown, depth: number): string | undefined {
  if (depth > 64) return undefined;
  if (typeof value === 'string') return containsApiKey(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findKeyIn(item, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [name, inner] of Object.entries(value)) {
      if (containsApiKey(name)) return name;
      const found = findKeyIn(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
