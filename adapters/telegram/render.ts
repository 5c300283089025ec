/**
 * Reply text (markdown from the model) → Telegram HTML for parse_mode "HTML" (pure). Every `&`,
 * `<` and `>` of the text is escaped, so nothing the model writes can form a tag; the only tags
 * emitted are b, i, code, pre and a (with an http, https or mailto href, quotes escaped), never
 * nested, always closed. Telegram's limit is 4,096 characters per message; a part whose HTML
 * comes out longer (escapes expand: `&` becomes `&amp;`) is split again, so every message
 * measured after escaping fits.
 */
import { splitText } from '../../src/core/split-text.ts';

/** Telegram's limit on a message's text. */
export const TELEGRAM_MAX_MESSAGE_CHARS = 4096;

const SAFE_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:']);

/** Escapes the three characters Telegram's HTML parser treats specially. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** A link target we are willing to emit, escaped for a double-quoted attribute; undefined when unsafe. */
function safeHref(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (!SAFE_SCHEMES.has(url.protocol)) return undefined;
  return escapeTelegramHtml(url.href).replace(/"/g, '&quot;');
}

// **bold**, __bold__, *italic*, _italic_: one pass, no nesting, bounded and linear. Single
// markers need a non-word character outside them, so snake_case and 2*3*4 stay as written.
const EMPHASIS =
  /\*\*(?=\S)([^*\n]{1,2000}?)\*\*|(?<![\w_])__(?=\S)([^_\n]{1,2000}?)__(?![\w_])|(?<![*\w])\*(?=\S)([^*\n]{1,2000}?)\*(?![*\w])|(?<![_\w])_(?=\S)([^_\n]{1,2000}?)_(?![_\w])/g;

function emphasis(escaped: string): string {
  return escaped.replace(EMPHASIS, (_m, b1?: string, b2?: string, i1?: string, i2?: string) => {
    const bold = b1 ?? b2;
    return bold !== undefined ? `<b>${bold}</b>` : `<i>${i1 ?? i2 ?? ''}</i>`;
  });
}

const LINK = /\[([^[\]\n]{0,1000})\]\(([^()\s]{1,2000})\)/g;

function links(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const [whole, label = '', target = ''] = match;
    out += emphasis(escapeTelegramHtml(text.slice(last, match.index)));
    const href = safeHref(target);
    const shown = escapeTelegramHtml(label.trim() === '' ? target : label);
    out += href === undefined ? shown : `<a href="${href}">${shown}</a>`;
    last = match.index + whole.length;
  }
  return out + emphasis(escapeTelegramHtml(text.slice(last)));
}

function inline(line: string): string {
  // Inline code first: its content is only escaped, never formatted.
  return line
    .split(/(`[^`\n]{1,2000}`)/)
    .map((segment, i) => (i % 2 === 1 ? `<code>${escapeTelegramHtml(segment.slice(1, -1))}</code>` : links(segment)))
    .join('');
}

function prose(block: string): string {
  return block
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      const heading = /^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/.exec(line);
      if (heading) return heading[1] === '' ? '' : `<b>${inline(heading[1] ?? '')}</b>`;
      const bullet = /^([ \t]*)[-*+][ \t]+(.*)$/.exec(line);
      if (bullet) return `${bullet[1] ?? ''}• ${inline(bullet[2] ?? '')}`;
      return inline(line);
    })
    .join('\n');
}

const FENCE = /```([^\n`]{0,50})\n?([\s\S]*?)```/g;
const LANGUAGE = /^[A-Za-z0-9+#-]{1,20}$/;

function codeBlock(language: string, code: string): string {
  const lang = language.trim();
  const body = escapeTelegramHtml(code.replace(/\n$/, ''));
  return LANGUAGE.test(lang) ? `<pre><code class="language-${lang}">${body}</code></pre>` : `<pre>${body}</pre>`;
}

/** Renders one reply as Telegram HTML (may be longer than the source: escapes expand). */
export function renderTelegramHtml(markdown: string): string {
  // NUL is refused by the Bot API; U+FFFD keeps the length.
  const text = markdown.replaceAll('\u0000', '\uFFFD');
  let out = '';
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    out += prose(text.slice(last, match.index));
    out += codeBlock(match[1] ?? '', match[2] ?? '');
    last = match.index + match[0].length;
  }
  return out + prose(text.slice(last));
}

/** One Telegram message: its HTML, and the source it came from (sent as plain text if Telegram refuses the HTML). */
export interface TelegramRendered {
  readonly html: string;
  readonly source: string;
}

/**
 * Renders a reply into messages whose HTML is at most `limit` characters. The outbound worker
 * already split the source at the limit; a part that escaping pushed over it is split again.
 */
export function renderTelegramMessages(markdown: string, limit: number = TELEGRAM_MAX_MESSAGE_CHARS): TelegramRendered[] {
  const html = renderTelegramHtml(markdown);
  if (html.length <= limit) return [{ html, source: markdown }];
  // Aim for pieces whose rendering fits (escapes expand evenly enough); any that still do not are split again.
  const target = Math.max(2, Math.floor((markdown.length * limit * 0.95) / html.length));
  return splitText(markdown, target).flatMap((piece) => renderTelegramMessages(piece, limit));
}

/** The HTML of each message a reply becomes (what the contract suite checks). */
export function renderTelegramParts(markdown: string, limit: number = TELEGRAM_MAX_MESSAGE_CHARS): string[] {
  return renderTelegramMessages(markdown, limit).map((m) => m.html);
}
