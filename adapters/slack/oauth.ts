/**
 * Multi-workspace install (OAuth v2), mounted at /oauth/slack:
 * - GET /install sends the browser to Slack's authorize page with a signed, short-lived `state`
 *   and binds its nonce to the browser with an HttpOnly cookie;
 * - GET /callback checks the state (MAC, expiry, same browser, single use), exchanges the code
 *   (oauth.v2.access), identifies the bot (auth.test) and stores the bot token sealed, per team.
 * Answers are plain text (nothing from Slack is ever rendered as HTML).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { AdapterAudit, CounterPort, InstallationPort } from '../../src/core/platform.ts';
import type { SlackOAuthSettings } from './config.ts';
import { createOAuthState, OAUTH_STATE_TTL_MS } from './oauth-state.ts';
import { TeamIdSchema, UserIdSchema } from './schemas.ts';
import { createWebClient, slackPlatformError, type SlackApiOptions } from './web-client.ts';
import { identifyBot } from './identity.ts';
import { saveSlackInstallation } from './credentials.ts';

/** What the install flow needs. */
export interface OAuthRouteDeps {
  readonly oauth: SlackOAuthSettings;
  readonly api: SlackApiOptions;
  readonly installations: InstallationPort;
  readonly counters: CounterPort;
  readonly audit: AdapterAudit;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tenantId: string;
}

const COOKIE = 'sb_slack_oauth';

const CallbackQuerySchema = z.object({
  code: z.string().min(1).max(500).optional(),
  state: z.string().min(1).max(1000).optional(),
  error: z.string().max(100).optional(),
});

const AccessSchema = z.object({
  access_token: z.string().min(10).max(500),
  token_type: z.literal('bot'),
  scope: z.string().max(2000).optional(),
  bot_user_id: UserIdSchema,
  app_id: z.string().max(50).optional(),
  team: z.object({ id: TeamIdSchema, name: z.string().max(200).optional() }),
  is_enterprise_install: z.boolean().optional(),
  refresh_token: z.string().min(10).max(500).optional(),
  expires_in: z.number().int().positive().max(10 * 365 * 86_400).optional(),
});

function text(res: Response, status: number, body: string): void {
  res.status(status).type('text/plain; charset=utf-8').set('Cache-Control', 'no-store').send(body);
}

function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function sameNonce(a: string, b: string): boolean {
  // Compare fixed-length digests, never the raw strings.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Builds the router. */
export function createOAuthRouter(deps: OAuthRouteDeps): Router {
  const router = Router();
  const states = createOAuthState(deps.oauth.clientSecret, deps.clock);
  const secure = deps.oauth.redirectUrl.startsWith('https://');

  router.get('/install', (_req, res) => {
    const { state, nonce } = states.issue();
    const url = new URL(deps.oauth.authorizeUrl);
    url.searchParams.set('client_id', deps.oauth.clientId);
    url.searchParams.set('scope', deps.oauth.scopes.join(','));
    url.searchParams.set('redirect_uri', deps.oauth.redirectUrl);
    url.searchParams.set('state', state);
    res.cookie(COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure, path: '/oauth/slack', maxAge: OAUTH_STATE_TTL_MS });
    res.set('Cache-Control', 'no-store').redirect(302, url.toString());
  });

  router.get('/callback', async (req, res) => {
    const query = CallbackQuerySchema.safeParse(req.query);
    if (!query.success) return text(res, 400, 'The install link is malformed. Start again from the install page.');
    if (query.data.error !== undefined) return text(res, 400, 'The installation was cancelled on Slack.');
    const { code, state } = query.data;
    if (code === undefined || state === undefined) return text(res, 400, 'The install link is incomplete. Start again from the install page.');

    const checked = states.check(state);
    const cookie = cookieValue(req, COOKIE);
    const reason = !checked.ok ? checked.reason : cookie === undefined || !sameNonce(cookie, checked.nonce) ? 'other_browser' : undefined;
    if (reason !== undefined || !checked.ok) {
      await deps.audit({ tenantId: deps.tenantId, action: 'slack.oauth_state_refused', details: { reason: reason ?? 'unknown' } });
      return text(res, 400, 'This install link is invalid or expired. Start again from the install page.');
    }
    // Single use: the first callback with this nonce consumes it, before the code is exchanged.
    if ((await deps.counters.increment(`slack:oauth-state:${checked.nonce}`, OAUTH_STATE_TTL_MS * 2)) !== 1) {
      await deps.audit({ tenantId: deps.tenantId, action: 'slack.oauth_state_refused', details: { reason: 'reused' } });
      return text(res, 400, 'This install link was already used. Start again from the install page.');
    }
    res.clearCookie(COOKIE, { path: '/oauth/slack' });

    let answer: unknown;
    try {
      answer = await createWebClient(undefined, deps.api).oauth.v2.access({
        client_id: deps.oauth.clientId,
        client_secret: deps.oauth.clientSecret,
        code,
        redirect_uri: deps.oauth.redirectUrl,
      });
    } catch (err) {
      const slack = slackPlatformError(err);
      deps.log.warn({ slack }, 'Slack OAuth code exchange failed');
      return text(res, slack === undefined ? 502 : 400, 'Slack did not accept the installation. Start again from the install page.');
    }
    const access = AccessSchema.safeParse(answer);
    if (!access.success) return text(res, 502, 'Slack answered the installation with something unexpected.');
    const grant = access.data;
    if (grant.is_enterprise_install === true) return text(res, 400, 'Org-wide (Enterprise Grid) installs are not supported; install into a workspace.');
    const allowed = deps.oauth.allowedTeamIds;
    if (allowed !== undefined && !allowed.has(grant.team.id)) {
      await deps.audit({ tenantId: deps.tenantId, action: 'slack.install_refused', targetType: 'installation', targetId: grant.team.id });
      return text(res, 403, 'This Slack workspace is not allowed to install Switchboard.');
    }
    let botId: string | undefined;
    try {
      botId = (await identifyBot(grant.access_token, deps.api)).botId;
    } catch {
      return text(res, 502, 'Slack did not confirm the new bot token. Start again from the install page.');
    }
    await saveSlackInstallation(deps.installations, {
      teamId: grant.team.id,
      teamName: (grant.team.name ?? grant.team.id).slice(0, 200),
      tenantId: deps.tenantId,
      botUserId: grant.bot_user_id,
      credentials: {
        botToken: grant.access_token,
        ...(botId === undefined ? {} : { botId }),
        ...(grant.app_id === undefined ? {} : { appId: grant.app_id }),
        ...(grant.scope === undefined ? {} : { scope: grant.scope }),
        ...(grant.refresh_token === undefined || grant.expires_in === undefined
          ? {}
          : { refreshToken: grant.refresh_token, expiresAt: String(deps.clock.now() + grant.expires_in * 1000) }),
      },
    });
    await deps.audit({
      tenantId: deps.tenantId,
      action: 'slack.installed',
      targetType: 'installation',
      targetId: grant.team.id,
      details: { rotation: grant.refresh_token !== undefined },
    });
    deps.log.info({ teamId: grant.team.id }, 'Slack workspace installed');
    return text(res, 200, `Switchboard is installed in the Slack workspace ${grant.team.id}. You can close this page.`);
  });
  return router;
}
