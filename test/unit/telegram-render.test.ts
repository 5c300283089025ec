/** Reply text → Telegram HTML: escaping, the few tags emitted, safe links, and the 4,096 limit measured after escaping. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapeTelegramHtml, renderTelegramHtml, renderTelegramMessages, renderTelegramParts, TELEGRAM_MAX_MESSAGE_CHARS } from '../../adapters/telegram/render.ts';
import { splitText } from '../../src/core/split-text.ts';
import { parseTelegramHtml } from '../standins/telegram.ts';

const visible = (html: string): string => {
  const parsed = parseTelegramHtml(html);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.visible;
};

describe('Telegram render', () => {
  it('escapes &, < and > so model text can never form a tag', () => {
    expect(escapeTelegramHtml('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(renderTelegramHtml('<b>not bold</b> <a href="x">x</a> &amp;')).toBe('&lt;b&gt;not bold&lt;/b&gt; &lt;a href="x"&gt;x&lt;/a&gt; &amp;amp;');
  });

  it('turns markdown into b, i, code, pre and safe links only', () => {
    expect(renderTelegramHtml('**bold** __also__ *it* _it_ snake_case_name 2*3*4')).toBe('<b>bold</b> <b>also</b> <i>it</i> <i>it</i> snake_case_name 2*3*4');
    expect(renderTelegramHtml('# Plan\n- one & two\n`a<b`')).toBe('<b>Plan</b>\n• one &amp; two\n<code>a&lt;b</code>');
    expect(renderTelegramHtml('```python\nif a < b:\n    pass\n```')).toBe('<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>');
    expect(renderTelegramHtml('```\n**no** formatting\n```')).toBe('<pre>**no** formatting</pre>');
    expect(renderTelegramHtml('[docs](https://example.com/a?b=1&c="2")')).toBe('<a href="https://example.com/a?b=1&amp;c=%222%22">docs</a>');
    expect(renderTelegramHtml('[click](javascript:alert%281%29) [tg](tg://resolve?domain=x) [mail](mailto:a@example.com)')).toBe(
      'click tg <a href="mailto:a@example.com">mail</a>',
    );
  });

  it('produces HTML that Telegram parses back to the intended text', () => {
    const source = 'Costs: 3 < 4 & 5 > 2, see [the sheet](https://example.com/s?x=1&y=2) and `x && y`';
    expect(visible(renderTelegramHtml(source))).toBe('Costs: 3 < 4 & 5 > 2, see the sheet and x && y');
  });

  it('re-splits a part whose escaped form is over 4,096 characters, losing nothing', () => {
    const source = `${'&'.repeat(3000)} ${'<>'.repeat(500)}`;
    expect(source.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_CHARS);
    expect(renderTelegramHtml(source).length).toBeGreaterThan(TELEGRAM_MAX_MESSAGE_CHARS);
    const parts = renderTelegramParts(source);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_CHARS);
    expect(parts.map(visible).join(' ').replace(/\s+/g, '')).toBe(source.replace(/\s+/g, ''));
    // Each message keeps the source it came from (the plain-text fallback).
    expect(renderTelegramMessages(source).map((m) => m.source).join(' ').replace(/\s+/g, '')).toBe(source.replace(/\s+/g, ''));
  });

  it('keeps a part that fits as one message', () => {
    expect(renderTelegramParts('x'.repeat(TELEGRAM_MAX_MESSAGE_CHARS))).toEqual(['x'.repeat(TELEGRAM_MAX_MESSAGE_CHARS)]);
  });

  it('for any text split as the worker splits it: every message ≤ 4,096, parseable, only allowed tags', () => {
    const alphabet = fc.constantFrom('a', ' ', '\n', '&', '<', '>', '*', '_', '`', '[', ']', '(', ')', '#', '-', '"', 'h', 't', 'p', 's', ':', '/', '😀');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12_000 }).map((cs) => cs.join('')), (text) => {
        for (const workerPart of splitText(text, TELEGRAM_MAX_MESSAGE_CHARS)) {
          for (const html of renderTelegramParts(workerPart)) {
            expect(html.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_CHARS);
            expect(parseTelegramHtml(html)).not.toHaveProperty('error');
            for (const tag of html.match(/<\/?[a-z-]+/g) ?? []) expect(['<b', '</b', '<i', '</i', '<code', '</code', '<pre', '</pre', '<a', '</a']).toContain(tag);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
