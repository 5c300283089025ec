/**
 * A local stand-in for the Telegram Bot API, for driving the real `telegraf` client: getMe,
 * setWebhook / deleteWebhook (getUpdates is refused with 409 while a webhook is set, as Telegram
 * does), getUpdates with Telegram's confirmation rule (an update stays pending until a getUpdates
 * carries an offset above its id) and a long-poll hold (a second concurrent getUpdates ends the
 * first with 409, counted as a conflict), sendMessage (HTML checked as Telegram's parser would:
 * known tags only, balanced, entities valid, at most 4,096 characters after parsing; 429 with
 * `parameters.retry_after` on demand or when the published limits are exceeded), and
 * sendChatAction. Plus a helper that posts webhook deliveries with the secret token header.
 */
import { reply, startHttpStandin, type HttpStandin, type RecordedRequest, type StandinReply } from './http-standin.ts';

/** The bot the stand-in serves. */
export interface StandinTelegramBot {
  readonly token: string;
  readonly id: number;
  readonly username: string;
}

/** One accepted sendMessage. */
export interface StandinTelegramMessage {
  readonly at: number;
  readonly messageId: number;
  readonly chatId: number;
  readonly text: string;
  readonly parseMode: string | undefined;
  readonly threadId: number | undefined;
  readonly replyTo: number | undefined;
  readonly linkPreviewDisabled: boolean;
  /** The text as a client shows it (tags removed, entities decoded). */
  readonly visible: string;
}

/** One sendMessage attempt and how it was answered. */
export interface StandinTelegramAttempt {
  readonly at: number;
  readonly chatId: number;
  readonly outcome: 'ok' | '429' | 'limit-429' | `error-${number}`;
}

/** One getUpdates call. */
export interface StandinGetUpdates {
  readonly at: number;
  readonly offset: number | undefined;
  readonly timeout: number;
  readonly limit: number;
  /** The update ids it answered with (empty for a conflict or a hold that timed out). */
  answered: number[];
}

/** A scripted sendMessage failure. */
export interface StandinTelegramFailure {
  readonly code: number;
  readonly description: string;
  readonly parameters?: Record<string, number>;
}

/** Options. */
export interface TelegramStandinOptions {
  readonly bot: StandinTelegramBot;
  /** Answer 429 when a send would break the published limits (1/s per chat, 20/min per group, 30/s overall). */
  readonly enforceLimits?: boolean;
  /** Longest a getUpdates is held, whatever its timeout says (keeps tests quick). */
  readonly maxHoldMs?: number;
}

/** The running stand-in. */
export interface TelegramStandin {
  /** The API root to configure (TELEGRAM_API_URL). */
  readonly apiUrl: string;
  readonly http: HttpStandin;
  readonly bot: StandinTelegramBot;
  /** Queues an update for getUpdates (even one already confirmed: a re-delivery). */
  pushUpdate(update: { update_id: number }): void;
  /** Ids still waiting for confirmation. */
  pending(): number[];
  getUpdatesCalls(): StandinGetUpdates[];
  /** How often a getUpdates was ended by a second concurrent one (two pollers). */
  conflicts(): number;
  messages(): StandinTelegramMessage[];
  attempts(): StandinTelegramAttempt[];
  /** The next sendMessage calls answer 429 with retry_after (seconds). */
  rateLimitNextSend(retryAfterSeconds: number, times?: number): void;
  /** A sendMessage answers this error: the next one, or the one after `afterSuccesses` accepted sends. */
  failNextSend(failure: StandinTelegramFailure, afterSuccesses?: number): void;
  chatActions(): Array<{ at: number; chatId: number; threadId: number | undefined; action: string }>;
  /** The webhook as set by setWebhook (undefined after deleteWebhook). */
  webhook(): { url: string; secretToken: string | undefined; allowedUpdates: unknown } | undefined;
  close(): Promise<void>;
}

const ok = (result: unknown): StandinReply => reply.json({ ok: true, result });
const fail = (code: number, description: string, parameters?: Record<string, number>): StandinReply =>
  reply.json({ ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) }, { status: code });

function fields(request: RecordedRequest): Record<string, unknown> {
  return request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : undefined);

const TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'tg-spoiler', 'span', 'blockquote']);

/** Parses Telegram HTML the way the Bot API does (enough of it): the visible text, or why it is refused. */
export function parseTelegramHtml(html: string): { visible: string } | { error: string } {
  let visible = '';
  const stack: string[] = [];
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === '<') {
      const tag = /^<(\/?)([a-z-]+)((?: [a-z-]+="[^"<>]*")*)>/.exec(html.slice(i, i + 3000));
      if (!tag || !TAGS.has(tag[2] ?? '')) return { error: `Bad Request: can't parse entities: unsupported start tag at byte offset ${i}` };
      const name = tag[2] ?? '';
      if (tag[1] === '/') {
        if (stack.pop() !== name) return { error: `Bad Request: can't parse entities: can't find end tag corresponding to start tag "${name}"` };
      } else {
        if (name === 'a' && !/^ href="(https?:|mailto:|tg:)/.test(tag[3] ?? '')) return { error: "Bad Request: can't parse entities: bad href" };
        stack.push(name);
      }
      i += tag[0].length;
    } else if (c === '&') {
      const entity = /^&(amp|lt|gt|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});/.exec(html.slice(i, i + 12));
      if (!entity) return { error: `Bad Request: can't parse entities: unsupported entity at byte offset ${i}` };
      const name = entity[1] ?? '';
      visible +=
        name === 'amp' ? '&' : name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'quot' ? '"' : String.fromCodePoint(name.startsWith('#x') ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
      i += entity[0].length;
    } else {
      visible += c;
      i += 1;
    }
  }
  if (stack.length > 0) return { error: `Bad Request: can't parse entities: can't find end tag corresponding to start tag "${stack.at(-1) ?? ''}"` };
  return { visible };
}

/** Starts the stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startTelegramStandin(options: TelegramStandinOptions): Promise<TelegramStandin> {
  const { bot } = options;
  const prefix = `/bot${bot.token}/`;
  const updates = new Map<number, { update_id: number }>();
  const calls: StandinGetUpdates[] = [];
  const messages: StandinTelegramMessage[] = [];
  const attempts: StandinTelegramAttempt[] = [];
  const actions: Array<{ at: number; chatId: number; threadId: number | undefined; action: string }> = [];
  const scripted: Array<StandinTelegramFailure & { after: number }> = [];
  let webhook: { url: string; secretToken: string | undefined; allowedUpdates: unknown } | undefined;
  let conflicts = 0;
  let nextMessageId = 1000;
  let held: { finish: (answer: StandinReply) => void; wake: () => void } | undefined;
  const sentAt = { global: [] as number[], chat: new Map<number, number>(), group: new Map<number, number[]>() };

  const available = (offset: number | undefined, limit: number): number[] =>
    [...updates.keys()]
      .filter((id) => offset === undefined || offset <= 0 || id >= offset)
      .sort((a, b) => a - b)
      .slice(0, limit);

  const getUpdates = (request: RecordedRequest): StandinReply | Promise<StandinReply> => {
    if (webhook) return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const body = fields(request);
    const offset = num(body['offset']);
    const limit = Math.min(100, Math.max(1, num(body['limit']) ?? 100));
    const timeout = Math.max(0, num(body['timeout']) ?? 0);
    // An offset confirms every update below it.
    if (offset !== undefined && offset > 0) for (const id of [...updates.keys()]) if (id < offset) updates.delete(id);
    const call: StandinGetUpdates = { at: Date.now(), offset, timeout, limit, answered: [] };
    calls.push(call);
    if (held) {
      conflicts += 1;
      held.finish(fail(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'));
    }
    const answer = (): StandinReply => {
      call.answered = available(offset, limit);
      return ok(call.answered.map((id) => updates.get(id)));
    };
    if (available(offset, limit).length > 0 || timeout === 0) return answer();
    return new Promise<StandinReply>((resolve) => {
      let settled = false;
      const finish = (result: StandinReply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (held?.finish === finish) held = undefined;
        resolve(result);
      };
      const timer = setTimeout(() => finish(answer()), Math.min(timeout * 1000, options.maxHoldMs ?? 1000));
      held = { finish, wake: () => finish(answer()) };
      // The client went away (aborted, or its process died): nothing to answer.
      void request.closed.then(() => finish(ok([])));
    });
  };

  const overLimit = (chatId: number, now: number): boolean => {
    if (!options.enforceLimits) return false;
    const recent = sentAt.global.filter((t) => now - t < 1000);
    if (recent.length >= 30) return true;
    const last = sentAt.chat.get(chatId);
    if (last !== undefined && now - last < 1000 - 20) return true;
    if (chatId < 0 && (sentAt.group.get(chatId) ?? []).filter((t) => now - t < 60_000).length >= 20) return true;
    return false;
  };

  const sendMessage = (request: RecordedRequest): StandinReply => {
    const body = fields(request);
    const chatId = num(body['chat_id']) ?? 0;
    const now = Date.now();
    const failure = scripted[0]?.after === 0 ? scripted.shift() : undefined;
    if (failure) {
      attempts.push({ at: now, chatId, outcome: failure.code === 429 ? '429' : `error-${failure.code}` });
      return fail(failure.code, failure.description, failure.parameters);
    }
    if (overLimit(chatId, now)) {
      attempts.push({ at: now, chatId, outcome: 'limit-429' });
      return fail(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    }
    const text = typeof body['text'] === 'string' ? body['text'] : '';
    const parseMode = typeof body['parse_mode'] === 'string' ? body['parse_mode'] : undefined;
    const parsed = parseMode === 'HTML' ? parseTelegramHtml(text) : { visible: text };
    if ('error' in parsed) {
      attempts.push({ at: now, chatId, outcome: 'error-400' });
      return fail(400, parsed.error);
    }
    if (parsed.visible.trim() === '') {
      attempts.push({ at: now, chatId, outcome: 'error-400' });
      return fail(400, 'Bad Request: message text is empty');
    }
    if (parsed.visible.length > 4096) {
      attempts.push({ at: now, chatId, outcome: 'error-400' });
      return fail(400, 'Bad Request: message is too long');
    }
    attempts.push({ at: now, chatId, outcome: 'ok' });
    const next = scripted[0];
    if (next && next.after > 0) scripted[0] = { ...next, after: next.after - 1 };
    sentAt.global = [...sentAt.global.filter((t) => now - t < 1000), now];
    sentAt.chat.set(chatId, now);
    if (chatId < 0) sentAt.group.set(chatId, [...(sentAt.group.get(chatId) ?? []).filter((t) => now - t < 60_000), now]);
    const replyParameters = body['reply_parameters'];
    const preview = body['link_preview_options'];
    const message: StandinTelegramMessage = {
      at: now,
      messageId: (nextMessageId += 1),
      chatId,
      text,
      parseMode,
      threadId: num(body['message_thread_id']),
      replyTo: replyParameters !== null && typeof replyParameters === 'object' ? num((replyParameters as Record<string, unknown>)['message_id']) : undefined,
      linkPreviewDisabled: preview !== null && typeof preview === 'object' && (preview as Record<string, unknown>)['is_disabled'] === true,
      visible: parsed.visible,
    };
    messages.push(message);
    return ok({ message_id: message.messageId, date: Math.floor(now / 1000), chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' }, text: parsed.visible });
  };

  const http = await startHttpStandin({
    authorize: (request) => (request.path.startsWith(prefix) ? undefined : fail(401, 'Unauthorized')),
    routes: {
      [`POST ${prefix}getMe`]: () =>
        ok({ id: bot.id, is_bot: true, first_name: 'Switchboard', username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
      [`POST ${prefix}setWebhook`]: (request) => {
        const body = fields(request);
        if (typeof body['url'] !== 'string') return fail(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        webhook = { url: body['url'], secretToken: typeof body['secret_token'] === 'string' ? body['secret_token'] : undefined, allowedUpdates: body['allowed_updates'] };
        return ok(true);
      },
      [`POST ${prefix}deleteWebhook`]: (request) => {
        webhook = undefined;
        if (fields(request)['drop_pending_updates'] === true) updates.clear();
        return ok(true);
      },
      [`POST ${prefix}getUpdates`]: getUpdates,
      [`POST ${prefix}sendMessage`]: sendMessage,
      [`POST ${prefix}sendChatAction`]: (request) => {
        const body = fields(request);
        actions.push({ at: Date.now(), chatId: num(body['chat_id']) ?? 0, threadId: num(body['message_thread_id']), action: String(body['action']) });
        return ok(true);
      },
    },
  });

  return {
    apiUrl: http.url,
    http,
    bot,
    pushUpdate: (update) => {
      updates.set(update.update_id, update);
      held?.wake();
    },
    pending: () => [...updates.keys()].sort((a, b) => a - b),
    getUpdatesCalls: () => [...calls],
    conflicts: () => conflicts,
    messages: () => [...messages],
    attempts: () => [...attempts],
    rateLimitNextSend: (retryAfterSeconds, times = 1) => {
      for (let i = 0; i < times; i += 1) scripted.push({ code: 429, description: `Too Many Requests: retry after ${retryAfterSeconds}`, parameters: { retry_after: retryAfterSeconds }, after: 0 });
    },
    failNextSend: (failure, afterSuccesses = 0) => {
      scripted.push({ ...failure, after: afterSuccesses });
    },
    chatActions: () => [...actions],
    webhook: () => webhook,
    close: async () => {
      held?.finish(ok([]));
      await http.close();
    },
  };
}

/** The header a webhook delivery carries its secret token in. */
export function telegramWebhookHeaders(secret: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }) };
}

/** Posts an update to a webhook URL as Telegram does (with the secret token, when given). */
export async function postTelegramWebhook(url: string, update: unknown, secret: string | undefined): Promise<Response> {
  return fetch(url, { method: 'POST', headers: telegramWebhookHeaders(secret), body: typeof update === 'string' ? update : JSON.stringify(update) });
}
