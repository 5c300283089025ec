/**
 * Slack message text → plain text for the agent (pure): the bot's own mention is removed, other
 * control sequences (`<@U…>`, `<#C…|name>`, `<!here>`, `<url|label>`) become readable text, and
 * Slack's three escapes (&amp; &lt; &gt;) are undone.
 */

// One control sequence: `<` then anything but `<`/`>` (bounded), then `>`. Linear: no nesting, no backtracking.
const CONTROL = /<([^<>\n]{1,2000})>/g;

function readable(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : inner.slice(bar + 1);
  if (target.startsWith('@')) return `@${label ?? target.slice(1)}`;
  if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
  if (target.startsWith('!subteam^')) return label ?? `@${target.slice('!subteam^'.length)}`;
  if (target.startsWith('!date^')) return label ?? '';
  if (target.startsWith('!')) return `@${target.slice(1)}`;
  return label === undefined || label === target ? target : `${label} (${target})`;
}

function unescapeSlack(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_m, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

/** Plain text of a Slack message; mentions of `botUserId` are dropped (they only address the bot). */
export function slackTextToPlain(text: string, botUserId: string | undefined): string {
  // "Hello <@BOT>, …" reads "Hello, …": a mention right before punctuation takes its space along.
  const bot = botUserId === undefined ? undefined : botUserId.replace(/[^A-Z0-9]/g, '');
  const trimmed = bot === undefined || bot === '' ? text : text.replace(new RegExp(`[ \\t]?<@${bot}(?:\\|[^<>\\n]{0,200})?>(?=[,.!?:;])`, 'g'), '');
  const replaced = trimmed.replace(CONTROL, (_whole, inner: string) => {
    if (botUserId !== undefined && (inner === `@${botUserId}` || inner.startsWith(`@${botUserId}|`))) return '';
    return readable(inner);
  });
  return unescapeSlack(replaced).replace(/[ \t]{2,}/g, ' ').trim();
}
