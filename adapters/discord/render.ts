/**
 * Pure rendering of reply text for Discord. Discord speaks Markdown already, so the model's
 * Markdown passes through, with two changes: heading levels Discord lacks (####+) become bold
 * lines, and every mention is neutralized — `@everyone`, `@here`, `<@user>`, `<@!user>`,
 * `<@&role>`, `<#channel>` — by swapping `@`/`#` for their full-width forms. The swap keeps the
 * length unchanged, so a part split at 2,000 characters still fits after rendering. This is
 * defence in depth: every send also carries `allowed_mentions: { parse: [] }`.
 */

const FULLWIDTH_AT = '\uFF20';
const FULLWIDTH_HASH = '\uFF03';

/** Neutralizes mass and targeted mentions without changing the text's length. */
export function neutralizeMentions(text: string): string {
  return text
    .replace(/@(everyone|here)/gi, `${FULLWIDTH_AT}$1`)
    .replace(/<@/g, `<${FULLWIDTH_AT}`)
    .replace(/<#/g, `<${FULLWIDTH_HASH}`);
}

/** Discord renders #, ## and ###; deeper headings become bold lines (never longer than the source). */
function flattenDeepHeadings(text: string): string {
  return text.replace(/^#{4,6}[ \t]+(\S[^\n]*?)[ \t]*#*[ \t]*$/gm, (whole: string, title: string) => {
    const bold = `**${title}**`;
    return bold.length <= whole.length ? bold : whole;
  });
}

/** Reply text → Discord message content of the same or smaller length. */
export function renderDiscord(text: string): string {
  // NUL is refused by Discord's API; U+FFFD keeps the length.
  const safe = text.replaceAll('\u0000', '\uFFFD');
  return neutralizeMentions(flattenDeepHeadings(safe));
}
