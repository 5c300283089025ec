/** Discord rendering: mentions neutralized without changing the length, Markdown kept. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { neutralizeMentions, renderDiscord } from '../../adapters/discord/render.ts';

describe('renderDiscord', () => {
  it('neutralizes @everyone, @here and user, role and channel mentions', () => {
    const rendered = renderDiscord('Hey @everyone @here @Everyone <@123> <@!123> <@&456> <#789>');
    expect(rendered).toBe('Hey ＠everyone ＠here ＠Everyone <＠123> <＠!123> <＠&456> <＃789>');
  });

  it('keeps ordinary Markdown and text as they are', () => {
    const text = '**bold** _it_ `code`\n```ts\nconst a = 1;\n```\n# Title\n- item\nmail me at a@example.com';
    expect(renderDiscord(text)).toBe(text);
  });

  it('turns headings Discord cannot show into bold lines, and NUL into U+FFFD', () => {
    expect(renderDiscord('#### Deep heading\ntext')).toBe('**Deep heading**\ntext');
    expect(renderDiscord('a\u0000b')).toBe('a\uFFFDb');
  });

  it('never makes text longer and never leaves a live mention (property)', () => {
    const pieces = fc.constantFrom('@everyone', '@here', '<@1>', '<@!2>', '<@&3>', '<#4>', '#### h', '\u0000', ' ', '\n', 'x', '@', '<', '#');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string({ maxLength: 5 })), { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        const rendered = renderDiscord(text);
        expect(rendered.length).toBeLessThanOrEqual(text.length);
        expect(rendered).not.toMatch(/@(everyone|here)/i);
        expect(rendered).not.toMatch(/<[@#]/);
      }),
      { numRuns: 500 },
    );
  });

  it('neutralizeMentions keeps the length exactly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(neutralizeMentions(text).length).toBe(text.length);
      }),
    );
  });
});
