/**
 * The Slack adapter's settings, taken from the validated config once: which receivers run (HTTP
 * Events API, Socket Mode), which workspaces it serves (one bot token, OAuth installs, or both),
 * and the Web API options. Incomplete combinations are refused with `config_invalid`.
 */
import type { Config } from '../../config/load.ts';
import { SwitchboardError } from '../../src/core/errors.ts';

/** OAuth v2 install settings (multi-workspace). */
export interface SlackOAuthSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly redirectUrl: string;
  readonly authorizeUrl: string;
  /** Only these teams may install; undefined = any. */
  readonly allowedTeamIds: ReadonlySet<string> | undefined;
}

/** Everything the adapter reads from the config. */
export interface SlackSettings {
  readonly signingSecret: string | undefined;
  readonly botToken: string | undefined;
  readonly appToken: string | undefined;
  readonly oauth: SlackOAuthSettings | undefined;
  /** Web API base URL, ending in `/api/`. */
  readonly apiUrl: string;
  readonly apiTimeoutMs: number;
  readonly apiRetries: number;
  readonly socketLeaseMs: number;
  readonly maxAttachmentBytes: number;
}

/** True when any Slack credential is set: the adapter is then enabled (and must be complete). */
export function isSlackConfigured(config: Config): boolean {
  return [config.SLACK_SIGNING_SECRET, config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.SLACK_CLIENT_ID, config.SLACK_CLIENT_SECRET].some(
    (v) => v !== undefined,
  );
}

function oauthSettings(config: Config, problems: string[]): SlackOAuthSettings | undefined {
  const { SLACK_CLIENT_ID: clientId, SLACK_CLIENT_SECRET: clientSecret } = config;
  if (clientId === undefined && clientSecret === undefined) return undefined;
  if (clientId === undefined || clientSecret === undefined) {
    problems.push('SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: set both for OAuth installs, or neither');
    return undefined;
  }
  const redirectUrl =
    config.SLACK_OAUTH_REDIRECT_URL ?? (config.PUBLIC_URL === undefined ? undefined : new URL('/oauth/slack/callback', config.PUBLIC_URL).toString());
  if (redirectUrl === undefined) {
    problems.push('SLACK_OAUTH_REDIRECT_URL: OAuth installs need it (or PUBLIC_URL) so Slack can send people back');
    return undefined;
  }
  return {
    clientId,
    clientSecret,
    scopes: config.SLACK_OAUTH_SCOPES.split(',').filter((s) => s !== ''),
    redirectUrl,
    authorizeUrl: config.SLACK_OAUTH_AUTHORIZE_URL,
    allowedTeamIds: config.SLACK_ALLOWED_TEAM_IDS === undefined ? undefined : new Set(config.SLACK_ALLOWED_TEAM_IDS),
  };
}

/** Reads and checks the Slack settings; throws `config_invalid` listing every problem. */
export function slackSettings(config: Config): SlackSettings {
  const problems: string[] = [];
  const oauth = oauthSettings(config, problems);
  if (config.SLACK_SIGNING_SECRET === undefined && config.SLACK_APP_TOKEN === undefined) {
    problems.push('SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: set one so Switchboard can receive events (HTTP or Socket Mode)');
  }
  if (config.SLACK_BOT_TOKEN === undefined && config.SLACK_CLIENT_ID === undefined) {
    problems.push('SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: set a bot token (one workspace) or OAuth credentials (installs)');
  }
  if (config.SLACK_BOT_TOKEN !== undefined && !config.SLACK_BOT_TOKEN.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN: expected a bot token starting with xoxb-');
  }
  if (config.SLACK_APP_TOKEN !== undefined && !config.SLACK_APP_TOKEN.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN: expected an app-level token starting with xapp-');
  }
  if (!config.SLACK_API_URL.endsWith('/api/')) problems.push('SLACK_API_URL: must end in /api/ (the SDK appends method names)');
  if (problems.length > 0) {
    throw new SwitchboardError('config_invalid', `Slack settings are incomplete: ${problems.join('; ')}`, {
      issues: problems.map((message) => ({ path: message.split(':')[0] ?? 'SLACK', message })),
    });
  }
  return {
    signingSecret: config.SLACK_SIGNING_SECRET,
    botToken: config.SLACK_BOT_TOKEN,
    appToken: config.SLACK_APP_TOKEN,
    oauth,
    apiUrl: config.SLACK_API_URL,
    apiTimeoutMs: config.SLACK_API_TIMEOUT_MS,
    apiRetries: config.SLACK_API_RETRIES,
    socketLeaseMs: config.SLACK_SOCKET_LEASE_MS,
    maxAttachmentBytes: config.SLACK_MAX_ATTACHMENT_BYTES,
  };
}
