/** Slack settings: enabled when any credential is set, complete or refused, secrets from files. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { isSlackConfigured, slackSettings } from '../../adapters/slack/config.ts';
import { SECRET_SETTINGS } from '../../config/schema.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

const settingsFor = (env: Record<string, string>) => slackSettings(loadConfig({ env }));

describe('Slack settings', () => {
  it('is disabled without credentials and enabled by any one of them', () => {
    expect(isSlackConfigured(loadConfig({ env: {} }))).toBe(false);
    expect(isSlackConfigured(loadConfig({ env: { SLACK_SIGNING_SECRET: 's' } }))).toBe(true);
    expect(isSlackConfigured(loadConfig({ env: { SLACK_CLIENT_ID: '1.2' } }))).toBe(true);
  });

  it('accepts one workspace over HTTP, Socket Mode, and OAuth installs', () => {
    expect(settingsFor({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1' })).toMatchObject({ botToken: 'xoxb-1', oauth: undefined, apiUrl: 'https://slack.com/api/' });
    expect(settingsFor({ SLACK_APP_TOKEN: 'xapp-1', SLACK_BOT_TOKEN: 'xoxb-1' }).appToken).toBe('xapp-1');
    const oauth = settingsFor({ SLACK_SIGNING_SECRET: 's', SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'c', PUBLIC_URL: 'https://sb.example.com' }).oauth;
    expect(oauth).toMatchObject({ clientId: '1.2', redirectUrl: 'https://sb.example.com/oauth/slack/callback', scopes: ['app_mentions:read', 'chat:write', 'im:history'] });
    expect(oauth?.allowedTeamIds).toBeUndefined();
  });

  it('refuses incomplete or wrong combinations, naming each problem', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        settingsFor(env);
        return 'accepted';
      } catch (err) {
        expect(isSwitchboardError(err, 'config_invalid')).toBe(true);
        return (err as Error).message;
      }
    };
    expect(problems({ SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/SLACK_SIGNING_SECRET or SLACK_APP_TOKEN/);
    expect(problems({ SLACK_SIGNING_SECRET: 's' })).toMatch(/SLACK_BOT_TOKEN or SLACK_CLIENT_ID/);
    expect(problems({ SLACK_SIGNING_SECRET: 's', SLACK_CLIENT_ID: '1.2' })).toMatch(/set both/);
    expect(problems({ SLACK_SIGNING_SECRET: 's', SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'c' })).toMatch(/SLACK_OAUTH_REDIRECT_URL/);
    expect(problems({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxp-user-token' })).toMatch(/xoxb-/);
    expect(problems({ SLACK_APP_TOKEN: 'xoxb-wrong', SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/xapp-/);
    expect(problems({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:9/' })).toMatch(/\/api\//);
    expect(() => loadConfig({ env: { SLACK_ALLOWED_TEAM_IDS: 'T0123,not a team' } })).toThrow(/SLACK_ALLOWED_TEAM_IDS/);
  });

  it('reads the secrets from NAME_FILE', () => {
    for (const name of ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_CLIENT_SECRET'] as const) expect(SECRET_SETTINGS).toContain(name);
    const config = loadConfig({ env: { SLACK_SIGNING_SECRET_FILE: '/run/secrets/slack', SLACK_BOT_TOKEN: 'xoxb-1' }, readFile: () => 'from-file\n' });
    expect(slackSettings(config).signingSecret).toBe('from-file');
  });
});
