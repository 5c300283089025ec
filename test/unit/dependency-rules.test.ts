// The dependency rules of ARCHITECTURE §2, checked through the real ESLint config (eslint.config.js).
// File paths are virtual: lintText applies the config for that path without the file existing.
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const RULE = 'no-restricted-imports';

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
  if (!result) throw new Error(`no lint result for ${filePath}`);
  return result.messages;
}

/** Messages of one rule; any parse error (ruleId null) fails the test instead of passing silently. */
async function ruleMessages(filePath: string, code: string, ruleId = RULE): Promise<Linter.LintMessage[]> {
  const messages = await lint(filePath, code);
  const fatal = messages.filter((m) => m.fatal === true || m.ruleId === null);
  expect(fatal, `parse problems in ${filePath}`).toEqual([]);
  return messages.filter((m) => m.ruleId === ruleId);
}

/** One import whose binding is used, so no-unused-vars never adds noise. */
const importing = (specifier: string): string => `import * as dep from '${specifier}';\nexport const used = dep;\n`;

async function expectRestricted(filePath: string, specifier: string): Promise<Linter.LintMessage> {
  const found = await ruleMessages(filePath, importing(specifier));
  expect(found, `${filePath} importing ${specifier}`).toHaveLength(1);
  const [message] = found;
  expect(message?.severity).toBe(2);
  expect(message?.message).toContain(specifier);
  return message as Linter.LintMessage;
}

async function expectAllowed(filePath: string, specifier: string): Promise<void> {
  const messages = await lint(filePath, importing(specifier));
  expect(messages, `${filePath} importing ${specifier}`).toEqual([]);
}

describe('platform SDKs live only in their adapter folder', () => {
  it('refuses @slack/bolt in src/pipeline', async () => {
    const m = await expectRestricted('src/pipeline/x.ts', '@slack/bolt');
    expect(m.message).toContain('adapters/slack/');
  });

  it('allows @slack/web-api in adapters/slack', async () => {
    await expectAllowed('adapters/slack/client.ts', '@slack/web-api');
  });

  it("refuses another platform's SDK in an adapter folder", async () => {
    const m = await expectRestricted('adapters/discord/x.ts', '@slack/bolt');
    expect(m.message).toContain('adapters/slack/');
    await expectAllowed('adapters/discord/x.ts', 'discord.js');
  });

  it('refuses discord.js in workers/', async () => {
    await expectRestricted('workers/agent/x.ts', 'discord.js');
  });

  it('refuses SDK subpaths and scoped packages everywhere else', async () => {
    await expectRestricted('config/schema.ts', 'googleapis/build/src/apis/calendar');
    await expectRestricted('src/agent/tools.ts', '@googleapis/calendar');
    await expectRestricted('adapters/webchat/x.ts', 'nodemailer');
    await expectRestricted('src/main.ts', 'telegraf');
    await expectAllowed('adapters/email/send.ts', 'nodemailer');
    await expectAllowed('adapters/google-calendar/client.ts', '@googleapis/calendar');
  });

  it('does not mistake look-alike package names for SDKs', async () => {
    await expectAllowed('src/core/x.ts', 'openai-compatible-utils');
    await expectAllowed('src/core/x.ts', 'telegrafana');
  });

  it('lets tests import any SDK', async () => {
    await expectAllowed('test/integration/slack.test.ts', '@slack/bolt');
    await expectAllowed('test/standins/openai.ts', 'openai');
  });
});

describe('LLM SDKs live only in src/llm', () => {
  it('refuses openai in src/core', async () => {
    const m = await expectRestricted('src/core/x.ts', 'openai');
    expect(m.message).toContain('src/llm/');
  });

  it('allows openai and @anthropic-ai/sdk in src/llm', async () => {
    await expectAllowed('src/llm/openai.ts', 'openai');
    await expectAllowed('src/llm/anthropic.ts', '@anthropic-ai/sdk');
  });

  it('refuses @anthropic-ai/sdk in an adapter and in workers', async () => {
    await expectRestricted('adapters/slack/x.ts', '@anthropic-ai/sdk');
    await expectRestricted('workers/agent/run.ts', 'openai/resources');
  });

  it('still refuses platform SDKs in src/llm', async () => {
    await expectRestricted('src/llm/openai.ts', '@slack/bolt');
  });
});

describe('src/ never imports adapters/ or workers/ except the composition roots', () => {
  it('refuses src/pipeline → adapters', async () => {
    const m = await expectRestricted('src/pipeline/x.ts', '../../adapters/webchat/index.ts');
    expect(m.message).toContain('composition roots');
  });

  it('refuses src → workers, also from src/llm', async () => {
    await expectRestricted('src/http/routes/x.ts', '../../../workers/main.ts');
    await expectRestricted('src/llm/openai.ts', '../../adapters/slack/index.ts');
  });

  it('allows the composition roots to wire adapters and workers', async () => {
    await expectAllowed('src/main.ts', '../adapters/webchat/index.ts');
    await expectAllowed('src/main.ts', '../workers/main.ts');
    await expectAllowed('src/cli/commands/start.ts', '../../../adapters/slack/index.ts');
  });

  it('allows src → src', async () => {
    await expectAllowed('src/pipeline/ingest.ts', '../store/events.ts');
    await expectAllowed('src/pipeline/ingest.ts', '../core/ports.ts');
  });
});

describe('adapters get store, queue, workers and other adapters only as injected ports', () => {
  it('refuses adapters/webchat → src/store', async () => {
    const m = await expectRestricted('adapters/webchat/x.ts', '../../src/store/db.ts');
    expect(m.message).toContain('injected ports');
  });

  it('refuses src/queue and workers/', async () => {
    await expectRestricted('adapters/slack/index.ts', '../../src/queue/producers.ts');
    await expectRestricted('adapters/email/index.ts', '../../workers/outbound/run.ts');
  });

  it('refuses another adapter folder', async () => {
    const m = await expectRestricted('adapters/discord/x.ts', '../slack/render.ts');
    expect(m.message).toContain('another adapter folder');
    await expectRestricted('adapters/webchat/deep/y.ts', '../../../adapters/telegram/index.ts');
  });

  it('allows src/core and files of its own folder', async () => {
    await expectAllowed('adapters/webchat/x.ts', '../../src/core/envelope.ts');
    await expectAllowed('adapters/slack/verify.ts', './config.ts');
    await expectAllowed('adapters/slack/events/x.ts', '../normalize.ts');
  });
});

describe('type discipline', () => {
  it('makes explicit any an error', async () => {
    const found = await ruleMessages(
      'src/core/x.ts',
      'export function f(v: any): string {\n  return String(v);\n}\n',
      '@typescript-eslint/no-explicit-any',
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.severity).toBe(2);
  });

  it('requires type-only imports to say so', async () => {
    const found = await ruleMessages(
      'src/core/x.ts',
      "import { Clock } from './clock.ts';\nexport const f = (c: Clock): Clock => c;\n",
      '@typescript-eslint/consistent-type-imports',
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.severity).toBe(2);
  });

  it('reports unused arguments unless they start with _', async () => {
    const ok = await ruleMessages(
      'src/core/x.ts',
      'export const f = (_unused: number, used: number): number => used;\n',
      '@typescript-eslint/no-unused-vars',
    );
    expect(ok).toEqual([]);
    // 'after-used': an unused argument before a used one is fine; one after the last used is not.
    const before = await ruleMessages(
      'src/core/x.ts',
      'export const f = (unused: number, used: number): number => used;\n',
      '@typescript-eslint/no-unused-vars',
    );
    expect(before).toEqual([]);
    const after = await ruleMessages(
      'src/core/x.ts',
      'export const f = (used: number, unused: number): number => used;\n',
      '@typescript-eslint/no-unused-vars',
    );
    expect(after).toHaveLength(1);
    expect(after[0]?.message).toContain('unused');
  });
});

describe('console and browser code', () => {
  it('forbids console outside src/cli and test', async () => {
    expect(await ruleMessages('src/pipeline/x.ts', "console.log('x');\n", 'no-console')).toHaveLength(1);
    expect(await ruleMessages('src/cli/main.ts', "console.log('x');\n", 'no-console')).toEqual([]);
    expect(await ruleMessages('test/unit/x.test.ts', "console.log('x');\n", 'no-console')).toEqual([]);
  });

  it('lints web page scripts as plain browser JS', async () => {
    const code = "document.title = String(window.location.href);\nfetch('/healthz').catch(() => {});\n";
    expect(await lint('src/http/public/app.js', code)).toEqual([]);
    // Without the browser globals block, the same code is an error.
    expect(await ruleMessages('tools/x.js', code, 'no-undef')).toHaveLength(2);
  });
});
