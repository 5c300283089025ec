import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { EnvSchema, SECRET_SETTINGS } from '../../config/schema.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

const exampleNames = (): Set<string> => {
  const text = readFileSync(new URL('../../config/example.env', import.meta.url), 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^#?\s?([A-Z][A-Z0-9_]+)=/.exec(line);
    if (match?.[1]) names.add(match[1].replace(/_FILE$/, ''));
  }
  return names;
};

describe('config', () => {
  it('defaults work with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.HTTP_PORT).toBe(8080);
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/switchboard');
    expect(config.MESSAGE_MAX_CHARS).toBe(10_000);
    expect(config.LLM_PROVIDER).toBe('auto');
  });

  it('the example env file documents exactly the settings the schema knows', () => {
    const documented = exampleNames();
    const known = new Set(Object.keys(EnvSchema.shape));
    expect([...known].filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !known.has(k))).toEqual([]);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ env: { HTTP_PORT: 'eighty', DATABASE_URL: 'mysql://x', MESSAGE_MAX_CHARS: '0' } });
      expect.unreachable();
    } catch (err) {
      expect(isSwitchboardError(err, 'config_invalid')).toBe(true);
      const paths = (err as { details: { issues: Array<{ path: string }> } }).details.issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['HTTP_PORT', 'DATABASE_URL', 'MESSAGE_MAX_CHARS']));
    }
  });

  it('reads secrets from NAME_FILE and refuses NAME and NAME_FILE together', () => {
    const files: Record<string, string> = { '/run/secrets/openai': 'sk-test\n' };
    const readFile = (path: string): string => {
      const content = files[path];
      if (content === undefined) throw new Error('ENOENT');
      return content;
    };
    expect(loadConfig({ env: { OPENAI_API_KEY_FILE: '/run/secrets/openai' }, readFile }).OPENAI_API_KEY).toBe('sk-test');
    expect(() => loadConfig({ env: { OPENAI_API_KEY: 'a', OPENAI_API_KEY_FILE: '/run/secrets/openai' }, readFile })).toThrow(
      /either OPENAI_API_KEY or OPENAI_API_KEY_FILE/,
    );
    expect(() => loadConfig({ env: { OPENAI_API_KEY_FILE: '/missing' }, readFile })).toThrow(/cannot read/);
    expect(SECRET_SETTINGS).toContain('VAULT_KEYS');
  });

  it('production refuses to start without keys', () => {
    expect(() => loadConfig({ env: { SWITCHBOARD_ENV: 'production' } })).toThrow(/VAULT_KEYS: required in production/);
  });

  it('is deeply frozen', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { HTTP_PORT: number }).HTTP_PORT = 1;
    }).toThrow(TypeError);
  });
});
