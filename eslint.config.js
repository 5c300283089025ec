// ESLint flat config for Switchboard.
//
// Plain JS (not eslint.config.ts): ESLint 10 loads a TypeScript config only through the optional
// `jiti` package or behind the `unstable_native_nodejs_ts_config` flag, so a .js config keeps
// `npx eslint` working with nothing extra.
//
// Lint is syntax-only (no type-aware rules) so `npm run lint` stays fast; `npm run typecheck` does
// the type work.
//
// Dependency rules (docs: /shared/ARCHITECTURE.md §2) are `no-restricted-imports` patterns. In flat
// config a later block's options for a rule REPLACE an earlier block's for the files both match, so
// every zone below gets its COMPLETE pattern list, built by `restrictions()`; zones are ordered from
// general to specific and the most specific matching zone wins. test/unit/dependency-rules.test.ts
// checks each rule through the ESLint API.
import fs from 'node:fs';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CODE = '**/*.{ts,mts,cts,js,mjs,cjs}';
const TS = '**/*.{ts,mts,cts}';
const BROWSER_JS = 'src/http/public/**/*.js';

/** Platform SDKs by adapter folder: importable only under adapters/<folder>/ (and test/). */
const PLATFORM_SDKS = {
  slack: ['@slack/'],
  discord: ['discord.js', '@discordjs/'],
  telegram: ['telegraf'],
  email: ['imapflow', 'nodemailer', 'mailparser', 'smtp-server'],
  'google-calendar': ['googleapis', '@googleapis/', 'google-auth-library'],
  'microsoft-calendar': ['@microsoft/microsoft-graph-client', '@azure/msal-node'],
  whatsapp: ['whatsapp*'],
};

/** LLM vendor SDKs: importable only under src/llm/ (and test/). */
const LLM_SDKS = ['openai', '@anthropic-ai/'];

/** Adapter folders: the documented ones plus whatever exists on disk now. */
const ADAPTER_FOLDERS = [
  ...new Set([...Object.keys(PLATFORM_SDKS), 'webchat', ...listDirs(new URL('./adapters/', import.meta.url))]),
].sort();

function listDirs(url) {
  try {
    return fs
      .readdirSync(url, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Regex for package specifiers: 'x' matches x and x/sub; '@scope/' matches the whole scope;
 * a trailing '*' is a name prefix ('whatsapp*' matches whatsapp-web.js).
 */
function packageRegex(names) {
  const alts = names.map((n) => {
    if (n.endsWith('/')) return `${escapeRe(n)}`;
    if (n.endsWith('*')) return `${escapeRe(n.slice(0, -1))}`;
    return `${escapeRe(n)}(?:/|$)`;
  });
  return `^(?:${alts.join('|')})`;
}

/** Regex for a relative specifier that climbs out (at least one '../') into one of `folders`. */
function climbRegex(folders, prefix = '') {
  return `^(?:\\./)?(?:\\.\\./)+${prefix}(?:${folders.map(escapeRe).join('|')})(?:/|$)`;
}

/**
 * The complete `no-restricted-imports` option list for one zone.
 * @param {{ ownPlatform?: string, allowLlm?: boolean, noAdaptersOrWorkers?: boolean, adapterFolder?: string | true }} zone
 */
function restrictions({ ownPlatform, allowLlm = false, noAdaptersOrWorkers = false, adapterFolder } = {}) {
  const patterns = [];
  for (const [platform, sdks] of Object.entries(PLATFORM_SDKS)) {
    if (platform === ownPlatform) continue;
    patterns.push({
      regex: packageRegex(sdks),
      message: `This is the ${platform} platform SDK: import it only under adapters/${platform}/ (ARCHITECTURE §2). Elsewhere depend on a port from src/core/ports.ts.`,
    });
  }
  if (!allowLlm) {
    patterns.push({
      regex: packageRegex(LLM_SDKS),
      message:
        'LLM vendor SDKs are imported only under src/llm/ (ARCHITECTURE §2). Depend on the LlmProvider port instead.',
    });
  }
  if (noAdaptersOrWorkers) {
    patterns.push({
      regex: climbRegex(['adapters', 'workers']),
      message:
        'src/ must not import adapters/ or workers/ (ARCHITECTURE §2): only the composition roots src/main.ts and src/cli/ wire them. Depend on a port from src/core/ports.ts.',
    });
  }
  if (adapterFolder !== undefined) {
    patterns.push(
      {
        regex: climbRegex(['store', 'queue'], 'src/'),
        message:
          'Adapters must not import src/store or src/queue (ARCHITECTURE §2): they receive persistence and queueing as injected ports (src/core/ports.ts).',
      },
      {
        regex: climbRegex(['workers']),
        message: 'Adapters must not import workers/ (ARCHITECTURE §2): workers call adapters through ports, not the reverse.',
      },
    );
    const others = ADAPTER_FOLDERS.filter((f) => f !== adapterFolder);
    if (typeof adapterFolder === 'string' && others.length > 0) {
      patterns.push({
        regex: climbRegex(others, '(?:adapters/)?'),
        message: `adapters/${adapterFolder}/ must not import another adapter folder (ARCHITECTURE §2): share code through src/core or get it as an injected port.`,
      });
    }
  }
  return ['error', { patterns }];
}

/** Zones from general to specific; for a file, the LAST matching zone's list is the one in force. */
const dependencyZones = [
  // Everything (workers/, config/, root files): no platform SDK, no LLM SDK.
  { name: 'deps/all-code', files: [CODE], rules: { 'no-restricted-imports': restrictions() } },
  {
    name: 'deps/src',
    files: ['src/**'],
    rules: { 'no-restricted-imports': restrictions({ noAdaptersOrWorkers: true }) },
  },
  {
    name: 'deps/src-composition-roots',
    files: ['src/main.ts', 'src/cli/**'],
    rules: { 'no-restricted-imports': restrictions() },
  },
  {
    name: 'deps/src-llm',
    files: ['src/llm/**'],
    rules: { 'no-restricted-imports': restrictions({ allowLlm: true, noAdaptersOrWorkers: true }) },
  },
  // Files directly under adapters/ (not in a platform folder).
  {
    name: 'deps/adapters',
    files: ['adapters/**'],
    rules: { 'no-restricted-imports': restrictions({ adapterFolder: true }) },
  },
  ...ADAPTER_FOLDERS.map((folder) => ({
    name: `deps/adapters/${folder}`,
    files: [`adapters/${folder}/**`],
    rules: {
      'no-restricted-imports': restrictions({
        ...(folder in PLATFORM_SDKS ? { ownPlatform: folder } : {}),
        adapterFolder: folder,
      }),
    },
  })),
  // Tests drive real SDKs against local stand-ins and reach into every layer.
  { name: 'deps/test', files: ['test/**'], rules: { 'no-restricted-imports': 'off' } },
];

const unusedVarsOptions = {
  args: 'after-used',
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
  ignoreRestSiblings: true,
};

export default defineConfig([
  globalIgnores(['**/node_modules/', 'test-results/', 'coverage/', '.switchboard/'], 'switchboard/ignores'),

  { name: 'switchboard/js-recommended', files: [CODE], ...js.configs.recommended },

  // typescript-eslint's recommended set, scoped to TypeScript (browser JS stays plain JS).
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: config.files ?? [TS] })),

  {
    name: 'switchboard/base',
    files: [CODE],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-console': 'error',
      'no-unused-vars': ['error', unusedVarsOptions],
    },
  },
  {
    name: 'switchboard/typescript',
    files: [TS],
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', unusedVarsOptions],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    name: 'switchboard/node-js',
    files: ['**/*.{js,mjs,cjs}'],
    ignores: [BROWSER_JS],
    languageOptions: { globals: globals.node },
  },
  { name: 'switchboard/cjs', files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    name: 'switchboard/browser-js',
    files: [BROWSER_JS],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  { name: 'switchboard/console-allowed', files: ['src/cli/**', 'test/**'], rules: { 'no-console': 'off' } },

  ...dependencyZones,
]);
