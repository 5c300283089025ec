/**
 * Reply text (markdown from the model) → Slack mrkdwn (pure). Slack's three characters are
 * escaped (& < >), so nothing the model writes can form a control sequence: `<!channel>`,
 * `<!here>`, `<@U…>`, `<!subteam^…>` and raw `<url|text>` arrive as visible text. The only
 * control sequences we emit are links with safe schemes. Plain `@channel`/`@here`/`@everyone`
 * get a word joiner so no client setting can turn them into a broadcast.
 */
import { renderMarkdown, renderWithin, type MarkdownTarget } from '../../src/core/markdown.ts';

/** Slack's hard limit on a message's text. */
export const SLACK_MAX_MESSAGE_CHARS = 40_000;

const SAFE_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:']);

/** Escapes Slack's three control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Escaped text with plain broadcast words defused (never applied to URLs). */
function escapeText(text: string): string {
  return escapeSlack(text).replace(/@(channel|here|everyone)/gi, '@\u2060$1');
}

/** A link target we are willing to emit, escaped for use inside `<…|…>`; undefined when unsafe. */
function safeUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (!SAFE_SCHEMES.has(url.protocol)) return undefined;
  return escapeSlack(url.href.replace(/\|/g, '%7C').replace(/\s/g, '%20'));
}

// **bold**, __bold__, ~~strike~~, *italic*: one pass, no nesting, linear (no overlapping quantifiers).
const EMPHASIS = /\*\*(?=\S)([^*\n]{1,2000}?)\*\*|__(?=\S)([^_\n]{1,2000}?)__|~~(?=\S)([^~\n]{1,2000}?)~~|(?<![*\w])\*(?=\S)([^*\n]{1,2000}?)\*(?![*\w])/g;

function emphasis(escaped: string): string {
  return escaped.replace(EMPHASIS, (_m, b1?: string, b2?: string, s?: string, i?: string) => {
    if (b1 !== undefined) return `*${b1}*`;
    if (b2 !== undefined) return `*${b2}*`;
    if (s !== undefined) return `~${s}~`;
    return `_${i ?? ''}_`;
  });
}

const MRKDWN: MarkdownTarget = {
  text: (plain) => emphasis(escapeText(plain)),
  link: (label, target) => {
    const url = safeUrl(target);
    const shown = escapeText(label.trim() === '' ? target : label);
    return url === undefined ? shown : `<${url}|${shown.replace(/\|/g, '¦')}>`;
  },
  code: (content) => `\`${escapeText(content)}\``,
  codeBlock: (_language, code) => `\`\`\`\n${escapeText(code)}\`\`\``,
  heading: (rendered) => `*${rendered}*`,
};

/** Renders one reply as mrkdwn (may be longer than the source: escapes expand). */
export function renderMrkdwn(markdown: string): string {
  return renderMarkdown(markdown, MRKDWN);
}

/**
 * Renders a reply into messages of at most `limit` characters. The outbound worker already split
 * the source at the limit; escaping can still push a part over it, and such a part is split again.
 */
export function renderSlackParts(markdown: string, limit: number = SLACK_MAX_MESSAGE_CHARS): string[] {
  return renderWithin(markdown, limit, renderMrkdwn).map((piece) => piece.rendered);
}
