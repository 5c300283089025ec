/**
 * Reply text (markdown from the model) → Telegram HTML for parse_mode "HTML" (pure). Every `&`,
 * `<` and `>` of the text is escaped, so nothing the model writes can form a tag; the only tags
 * emitted are b, i, code, pre and a (with an http, https or mailto href, quotes escaped), never
 * nested, always closed. Telegram's limit is 4,096 characters per message; a part whose HTML
 * comes out longer (escapes expand: `&` becomes `&amp;`) is split again, so every message
 * measured after escaping fits.
 */
import { renderMarkdown, renderWithin, type MarkdownTarget } from '../../src/core/markdown.ts';

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

const LANGUAGE = /^[A-Za-z0-9+#-]{1,20}$/;

const TELEGRAM_HTML: MarkdownTarget = {
  text: (plain) => emphasis(escapeTelegramHtml(plain)),
  link: (label, target) => {
    const href = safeHref(target);
    const shown = escapeTelegramHtml(label.trim() === '' ? target : label);
    return href === undefined ? shown : `<a href="${href}">${shown}</a>`;
  },
  code: (content) => `<code>${escapeTelegramHtml(content)}</code>`,
  codeBlock: (language, code) => {
    const lang = language.trim();
    const body = escapeTelegramHtml(code.replace(/\n$/, ''));
    return LANGUAGE.test(lang) ? `<pre><code class="language-${lang}">${body}</code></pre>` : `<pre>${body}</pre>`;
  },
  heading: (rendered) => `<b>${rendered}</b>`,
};

/** Renders one reply as Telegram HTML (may be longer than the source: escapes expand). */
export function renderTelegramHtml(markdown: string): string {
  // NUL is refused by the Bot API; U+FFFD keeps the length.
  return renderMarkdown(markdown.replaceAll('\u0000', '\uFFFD'), TELEGRAM_HTML);
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
  return renderWithin(markdown, limit, renderTelegramHtml).map((piece) => ({ html: piece.rendered, source: piece.source }));
}

/** The HTML of each message a reply becomes (what the contract suite checks). */
export function renderTelegramParts(markdown: string, limit: number = TELEGRAM_MAX_MESSAGE_CHARS): string[] {
  return renderTelegramMessages(markdown, limit).map((m) => m.html);
}
