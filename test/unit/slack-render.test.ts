/** Markdown → Slack mrkdwn: formatting, escaping, neutralized mentions, safe links, limits. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderMrkdwn, renderSlackParts, SLACK_MAX_MESSAGE_CHARS } from '../../adapters/slack/render.ts';

describe('Slack rendering', () => {
  it('converts markdown emphasis, code, headings and bullets', () => {
    expect(renderMrkdwn('**bold**, __also__, *it*, _it_, ~~gone~~')).toBe('*bold*, *also*, _it_, _it_, ~gone~');
    expect(renderMrkdwn('# Plan\n- one\n* two\n  + three')).toBe('*Plan*\n• one\n• two\n  • three');
    expect(renderMrkdwn('use `a < b && **c**` now')).toBe('use `a &lt; b &amp;&amp; **c**` now');
    expect(renderMrkdwn('```ts\nif (a > b) { x(); }\n```')).toBe('```\nif (a &gt; b) { x(); }\n```');
    expect(renderMrkdwn('2 * 3 * 4 and snake_case_name')).toBe('2 * 3 * 4 and snake_case_name');
  });

  it('emits links only for http, https and mailto, escaped for Slack', () => {
    expect(renderMrkdwn('[docs](https://example.com/a?b=1&c=2)')).toBe('<https://example.com/a?b=1&amp;c=2|docs>');
    expect(renderMrkdwn('[mail](mailto:a@example.com)')).toBe('<mailto:a@example.com|mail>');
    expect(renderMrkdwn('[x](https://e.com/p|q<r>)')).toBe('<https://e.com/p%7Cq%3Cr%3E|x>');
    expect(renderMrkdwn('[click](javascript:void0)')).toBe('click');
    expect(renderMrkdwn('[click](slack://open?team=T1)')).toBe('click');
    expect(renderMrkdwn('[a|b](https://e.com)')).toBe('<https://e.com/|a¦b>');
  });

  it('neutralizes mentions and broadcasts the model writes', () => {
    const out = renderMrkdwn('<!channel> <!here|here> <!everyone> <@U0ADA0001> <!subteam^S0DEVS|@devs> <#C0GEN0001> @here @channel @Everyone');
    expect(out).toBe(
      '&lt;!channel&gt; &lt;!here|here&gt; &lt;!everyone&gt; &lt;@U0ADA0001&gt; &lt;!subteam^S0DEVS|@devs&gt; &lt;#C0GEN0001&gt; @\u2060here @\u2060channel @\u2060Everyone',
    );
    expect(renderMrkdwn('<https://evil.example|click here>')).toBe('&lt;https://evil.example|click here&gt;');
    expect(renderMrkdwn('already &lt;escaped&gt; &amp;')).toBe('already &amp;lt;escaped&amp;gt; &amp;amp;');
  });

  it('keeps every part within the limit even when escaping expands the text', () => {
    const parts = renderSlackParts('&'.repeat(SLACK_MAX_MESSAGE_CHARS));
    expect(parts.length).toBeGreaterThan(4);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(SLACK_MAX_MESSAGE_CHARS);
    expect(parts.join('')).toBe('&amp;'.repeat(SLACK_MAX_MESSAGE_CHARS));
    expect(renderSlackParts('short')).toEqual(['short']);
  });

  it('never emits a control sequence other than a safe link, and never a bare & (property)', () => {
    const alphabet = fc.constantFrom(...'<>&|@!#^*_~`[]()\n :/.abcdehlnorstuvwxyU0'.split(''), 'https://', 'javascript:', '<!channel>', '@here', '**', '```');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 200 }).map((a) => a.join('')), (text) => {
        for (const part of renderSlackParts(text, 500)) {
          expect(part.length).toBeLessThanOrEqual(500);
          for (const control of part.match(/<[^>]*>?/g) ?? []) expect(control).toMatch(/^<(https?:\/\/|mailto:)[^<>|\s]+\|[^<>]*>$/);
          expect(part).not.toMatch(/&(?!(amp|lt|gt);)/);
          expect(part).not.toMatch(/@(channel|here|everyone)/i);
        }
      }),
      { numRuns: 500 },
    );
  });
});
