/**
 * Reply text (markdown from the model) → Slack mrkdwn (pure). Slack's three characters are
 * escaped (& < >), so nothing the model writes can form a control sequence: `<!channel>`,
 * `<!here>`, `<@U…>`, `<!subteam^…>` and raw `<url|text>` arrive as visible text. The only
 * control sequences we emit are links with safe schemes. Plain `@channel`/`@here`/`@everyone`
 * get a word joiner so no client setting can turn them into a broadcast.
 */
import { splitText } from '../../src/core/split-text.ts';

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

const LINK = /\[([^[\]\n]{0,1000})\]\(([^()\s]{1,2000})\)/g;

function links(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const [whole, label = '', target = ''] = match;
    out += emphasis(escapeText(text.slice(last, match.index)));
    const url = safeUrl(target);
    const shown = escapeText(label.trim() === '' ? target : label);
    out += url === undefined ? shown : `<${url}|${shown.replace(/\|/g, '¦')}>`;
    last = match.index + whole.length;
  }
  return out + emphasis(escapeText(text.slice(last)));
}

function inline(line: string): string {
  // Inline code first: its content is only escaped, never formatted.
  return line
    .split(/(`[^`\n]{1,2000}`)/)
    .map((segment, i) => (i % 2 === 1 ? `\`${escapeText(segment.slice(1, -1))}\`` : links(segment)))
    .join('');
}

function prose(block: string): string {
  return block
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      const heading = /^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/.exec(line);
      if (heading) return heading[1] === '' ? '' : `*${inline(heading[1] ?? '')}*`;
      const bullet = /^([ \t]*)[-*+][ \t]+(.*)$/.exec(line);
      if (bullet) return `${bullet[1] ?? ''}• ${inline(bullet[2] ?? '')}`;
      return inline(line);
    })
    .join('\n');
}

const FENCE = /```[^\n`]{0,50}\n?([\s\S]*?)```/g;

/** Renders one reply as mrkdwn (may be longer than the source: escapes expand). */
export function renderMrkdwn(markdown: string): string {
  let out = '';
  let last = 0;
  for (const match of markdown.matchAll(FENCE)) {
    out += prose(markdown.slice(last, match.index));
    out += `\`\`\`\n${escapeText(match[1] ?? '')}\`\`\``;
    last = match.index + match[0].length;
  }
  return out + prose(markdown.slice(last));
}

/**
 * Renders a reply into messages of at most `limit` characters. The outbound worker already split
 * the source at the limit; escaping can still push a part over it, and such a part is split again.
 */
export function renderSlackParts(markdown: string, limit: number = SLACK_MAX_MESSAGE_CHARS): string[] {
  const rendered = renderMrkdwn(markdown);
  if (rendered.length <= limit) return [rendered];
  // Aim for pieces whose rendering fits (escapes expand evenly enough); any that still do not are split again.
  const target = Math.floor((markdown.length * limit * 0.95) / rendered.length);
  const pieces = splitText(markdown, Math.max(2, target));
  return pieces.flatMap((piece) => renderSlackParts(piece, limit));
}
