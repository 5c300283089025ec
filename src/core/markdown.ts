/**
 * The markdown subset models write (fenced code, headings, bullets, inline code, links), walked
 * once for every platform renderer. Each platform supplies how to escape and mark up the pieces;
 * the structure — and its bounded, linear patterns — lives here only.
 */
import { splitText } from './split-text.ts';

/** How one platform writes each piece. Inputs are raw source text: the target escapes them. */
export interface MarkdownTarget {
  /** Plain prose between links and code spans (escape, then apply emphasis). */
  text(plain: string): string;
  /** A `[label](target)` link; the target decides whether the URL is safe to emit. */
  link(label: string, target: string): string;
  /** An inline code span's content. */
  code(content: string): string;
  /** A fenced block (language as written after the fence, possibly empty). */
  codeBlock(language: string, code: string): string;
  /** A heading line's already-rendered content. */
  heading(rendered: string): string;
}

const FENCE = /```([^\n`]{0,50})\n?([\s\S]*?)```/g;
const LINK = /\[([^[\]\n]{0,1000})\]\(([^()\s]{1,2000})\)/g;
const INLINE_CODE = /(`[^`\n]{1,2000}`)/;
const HEADING = /^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/;
const BULLET = /^([ \t]*)[-*+][ \t]+(.*)$/;

function links(text: string, target: MarkdownTarget): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const [whole, label = '', href = ''] = match;
    out += target.text(text.slice(last, match.index));
    out += target.link(label, href);
    last = match.index + whole.length;
  }
  return out + target.text(text.slice(last));
}

function inline(line: string, target: MarkdownTarget): string {
  // Inline code first: its content is only escaped, never formatted.
  return line
    .split(INLINE_CODE)
    .map((segment, i) => (i % 2 === 1 ? target.code(segment.slice(1, -1)) : links(segment, target)))
    .join('');
}

function prose(block: string, target: MarkdownTarget): string {
  return block
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      const heading = HEADING.exec(line);
      if (heading) return heading[1] === '' ? '' : target.heading(inline(heading[1] ?? '', target));
      const bullet = BULLET.exec(line);
      if (bullet) return `${bullet[1] ?? ''}• ${inline(bullet[2] ?? '', target)}`;
      return inline(line, target);
    })
    .join('\n');
}

/** Renders `markdown` for one platform. */
export function renderMarkdown(markdown: string, target: MarkdownTarget): string {
  let out = '';
  let last = 0;
  for (const match of markdown.matchAll(FENCE)) {
    out += prose(markdown.slice(last, match.index), target);
    out += target.codeBlock(match[1] ?? '', match[2] ?? '');
    last = match.index + match[0].length;
  }
  return out + prose(markdown.slice(last), target);
}

/**
 * Renders `markdown` into pieces whose rendering is at most `limit` characters, with the source
 * of each. The outbound worker already split the source at the limit; escaping can still push a
 * piece over it, and such a piece is split again.
 */
export function renderWithin(
  markdown: string,
  limit: number,
  render: (source: string) => string,
): Array<{ rendered: string; source: string }> {
  const rendered = render(markdown);
  if (rendered.length <= limit) return [{ rendered, source: markdown }];
  // Aim for pieces whose rendering fits (escapes expand evenly enough); any that still do not are split again.
  const target = Math.max(2, Math.floor((markdown.length * limit * 0.95) / rendered.length));
  return splitText(markdown, target).flatMap((piece) => renderWithin(piece, limit, render));
}
