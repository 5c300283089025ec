// @ts-check
/**
 * Switchboard web chat: a plain ES module, no build step, no framework.
 *
 * Protocol: adapters/webchat/frames.ts (zod schemas) is the source of truth for every frame.
 *
 * Security rules this file keeps:
 * - Every piece of server text reaches the DOM through `textContent` / `createTextNode`, never
 *   innerHTML, insertAdjacentHTML or document.write. A message like `<img src=x onerror=…>` shows
 *   literally. Newlines come from CSS `white-space: pre-wrap`.
 * - The page runs under a strict CSP (script-src 'self', style-src 'self'): no inline script, no
 *   inline style, no eval. Styling changes go through classes and data-* attributes only.
 * - The access token (15 minutes) lives ONLY in memory (the `session` object below), never in
 *   localStorage, sessionStorage or a readable cookie. The refresh token is an HttpOnly cookie this
 *   script can neither read nor leak; the page spends it (with the X-Switchboard-CSRF header) to get
 *   a new access token shortly before the old one expires, after a reload, and when the socket
 *   reports a session problem. Signing out revokes the session on the server.
 * - The WebSocket authenticates with a single-use ticket (30 s) fetched with the token for every
 *   (re)connect; the token itself never goes into a URL.
 * - Two-factor sign-in: a second step (code or recovery code) after the password, enrolment with
 *   a server-rendered QR code (an <img> with a data: URL) and recovery codes shown once.
 */

/** The server's limit on message length (UTF-16 code units, like the server's zod `.max`). */
const MAX_MESSAGE_CHARS = 10_000;
/** Messages asked for per "Load earlier messages" page (frames.ts allows up to 100). */
const HISTORY_PAGE_SIZE = 50;
/** Reconnect backoff: base × 2^attempt, capped, with jitter. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A connection that stayed up this long counts as healthy: the backoff starts over after it drops. */
const STABLE_CONNECTION_MS = 10_000;
/** Hide a typing indicator whose `stop` never came (lost frame, crashed worker). */
const TYPING_TIMEOUT_MS = 120_000;
/** Longest Retry-After the page honours before letting the user try again anyway. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Refresh the access token this long before it expires. */
const REFRESH_AHEAD_MS = 60_000;
/** After a failed refresh for a network reason, try again after this long. */
const REFRESH_RETRY_MS = 15_000;
/** Close codes (see the server's WebSocket route). */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_SESSION_INVALID = 4001;

/**
 * @typedef {{ id: string, email: string, displayName: string, role: string }} User
 * @typedef {{ accessToken: string, expiresAt: number, sessionId: string, user: User }} Session
 * @typedef {{ kind: 'session', session: Session } | { kind: 'mfa', purpose: 'verify' | 'enrol', mfaToken: string }} LoginResult
 * @typedef {{
 *   id: string, conversationId: string, role: 'user' | 'agent', text: string, createdAt: string,
 *   clientMessageId?: string, pii?: { types: string[], action: 'log' | 'redact' | 'block' }
 * }} ChatMessage
 * @typedef {{ text: string, el: HTMLElement }} OutboxEntry
 * @typedef {Record<string, unknown>} Frame
 */

/** Thrown for a non-2xx API answer or a network failure (status 0). */
class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | undefined} retryAfterMs
   */
  constructor(status, code, message, retryAfterMs) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

// ---------------------------------------------------------------------------------------------
// State (in memory only)
// ---------------------------------------------------------------------------------------------

const state = {
  /** @type {Session | null} */
  session: null,
  /** @type {WebSocket | null} */
  socket: null,
  /** Bumped on every connect and teardown, so a late ticket fetch or socket event is ignored. */
  generation: 0,
  reconnectAttempt: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  reconnectTimer: undefined,
  connectedAt: 0,
  /** True between the server's `ready` and the socket's close: only then are frames sent. */
  live: false,
  /** @type {string | null} */
  conversationId: null,
  /** Sent but not yet acknowledged messages, by client id, in send order; resent after a reconnect. */
  /** @type {Map<string, OutboxEntry>} */
  outbox: new Map(),
  /** Rendered messages by server message id (dedupe across history, acks and fan-out). */
  /** @type {Map<string, HTMLElement>} */
  byMessageId: new Map(),
  /** True once the first history frame after a connect arrived (older pages are asked only then). */
  historyReady: false,
  historyLoading: false,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  typingTimer: undefined,
  sendBlockedUntil: 0,
  loginBlockedUntil: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  refreshTimer: undefined,
  /** The refresh in flight, so concurrent callers share it (a refresh token works once). */
  /** @type {Promise<Session | null> | null} */
  refreshing: null,
  /** The second sign-in step's token (memory only), and whether a recovery code is being typed. */
  /** @type {string | null} */
  mfaToken: null,
  mfaUseRecovery: false,
  /** 'account': the security panel of a signed-in user; 'required': enrolment the workspace requires at sign-in. */
  /** @type {'account' | 'required' | null} */
  securityMode: null,
  /** A session completed by a required enrolment, started once the recovery codes were saved. */
  /** @type {Session | null} */
  pendingSession: null,
};

// ---------------------------------------------------------------------------------------------
// DOM
// ---------------------------------------------------------------------------------------------

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page is missing #${id}`);
  return el;
}

const dom = {
  loginView: byId('login-view', HTMLElement),
  loginForm: byId('login-form', HTMLFormElement),
  loginEmail: byId('login-email', HTMLInputElement),
  loginPassword: byId('login-password', HTMLInputElement),
  loginSubmit: byId('login-submit', HTMLButtonElement),
  loginError: byId('login-error', HTMLElement),
  loginNotice: byId('login-notice', HTMLElement),
  chatView: byId('chat-view', HTMLElement),
  userName: byId('user-name', HTMLElement),
  signOut: byId('sign-out', HTMLButtonElement),
  status: byId('connection-status', HTMLElement),
  reconnectNow: byId('reconnect-now', HTMLButtonElement),
  logWrap: byId('log-wrap', HTMLElement),
  loadEarlier: byId('load-earlier', HTMLButtonElement),
  messages: byId('messages', HTMLElement),
  typing: byId('typing', HTMLElement),
  composer: byId('composer', HTMLFormElement),
  input: byId('composer-input', HTMLTextAreaElement),
  send: byId('composer-send', HTMLButtonElement),
  composerError: byId('composer-error', HTMLElement),
  count: byId('composer-count', HTMLElement),
  mfaForm: byId('mfa-form', HTMLFormElement),
  mfaHint: byId('mfa-hint', HTMLElement),
  mfaCodeField: byId('mfa-code-field', HTMLElement),
  mfaCode: byId('mfa-code', HTMLInputElement),
  mfaRecoveryField: byId('mfa-recovery-field', HTMLElement),
  mfaRecovery: byId('mfa-recovery', HTMLInputElement),
  mfaError: byId('mfa-error', HTMLElement),
  mfaSubmit: byId('mfa-submit', HTMLButtonElement),
  mfaToggle: byId('mfa-toggle', HTMLButtonElement),
  mfaCancel: byId('mfa-cancel', HTMLButtonElement),
  oidcProviders: byId('oidc-providers', HTMLElement),
  oidcGoogle: byId('oidc-google', HTMLAnchorElement),
  oidcGithub: byId('oidc-github', HTMLAnchorElement),
  openSecurity: byId('open-security', HTMLButtonElement),
  securityView: byId('security-view', HTMLElement),
  securityTitle: byId('security-title', HTMLElement),
  securityBack: byId('security-back', HTMLButtonElement),
  securityNotice: byId('security-notice', HTMLElement),
  tfaStatus: byId('tfa-status', HTMLElement),
  tfaStart: byId('tfa-start', HTMLButtonElement),
  tfaEnrol: byId('tfa-enrol', HTMLElement),
  tfaQr: byId('tfa-qr', HTMLImageElement),
  tfaSecret: byId('tfa-secret', HTMLElement),
  tfaUri: byId('tfa-uri', HTMLElement),
  tfaConfirmForm: byId('tfa-confirm-form', HTMLFormElement),
  tfaCode: byId('tfa-code', HTMLInputElement),
  tfaConfirm: byId('tfa-confirm', HTMLButtonElement),
  tfaError: byId('tfa-error', HTMLElement),
  tfaRecovery: byId('tfa-recovery', HTMLElement),
  tfaRecoveryList: byId('tfa-recovery-list', HTMLElement),
  tfaRecoveryDone: byId('tfa-recovery-done', HTMLButtonElement),
  tfaDisableForm: byId('tfa-disable-form', HTMLFormElement),
  tfaDisableCode: byId('tfa-disable-code', HTMLInputElement),
  tfaDisableError: byId('tfa-disable-error', HTMLElement),
  sessionsSection: byId('sessions-section', HTMLElement),
  sessionsList: byId('sessions-list', HTMLElement),
  sessionsError: byId('sessions-error', HTMLElement),
  signOutEverywhere: byId('sign-out-everywhere', HTMLButtonElement),
};

/**
 * Creates an element with a class and, optionally, text (always as a text node).
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** @param {unknown} v @returns {v is Frame} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** @param {unknown} v @returns {v is string} */
const isString = (v) => typeof v === 'string';
/** @param {unknown} v @returns {v is string[]} */
const isStringArray = (v) => Array.isArray(v) && v.every(isString);

/** @param {unknown} v @returns {v is ChatMessage} */
function isChatMessage(v) {
  return (
    isObject(v) &&
    isString(v.id) &&
    (v.role === 'user' || v.role === 'agent') &&
    isString(v.text) &&
    isString(v.createdAt) &&
    (v.clientMessageId === undefined || isString(v.clientMessageId)) &&
    (v.pii === undefined || (isObject(v.pii) && isStringArray(v.pii.types) && isString(v.pii.action)))
  );
}

/** A v4 UUID; falls back to getRandomValues where randomUUID is missing (non-secure contexts). */
function newClientId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds.
 * @param {string | null} value
 * @returns {number | undefined}
 */
function parseRetryAfter(value) {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** @param {number} ms */
const secondsText = (ms) => {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? '1 second' : `${s} seconds`;
};

/** @param {number} n */
const formatCount = (n) => n.toLocaleString('en-US');

/**
 * Delay before reconnect attempt n: exponential, capped, "equal jitter" (half fixed, half random).
 * @param {number} attempt
 */
function backoffDelay(attempt) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

// ---------------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------------

/**
 * Calls the API with JSON and returns the parsed answer ({} for 204); throws ApiError for network
 * errors and non-2xx. Every call carries the CSRF header: the refresh cookie is spent only with it.
 * @param {'GET' | 'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {string} [accessToken]
 * @returns {Promise<Frame>}
 */
async function request(method, path, body, accessToken) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', 'X-Switchboard-CSRF': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection.', undefined);
  }
  if (res.status === 204) return {};
  /** @type {unknown} */
  let data;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = isObject(data) && isObject(data.error) ? data.error : {};
    throw new ApiError(
      res.status,
      isString(err.code) ? err.code : `http_${res.status}`,
      isString(err.message) ? err.message : `The server answered ${res.status}.`,
      parseRetryAfter(res.headers.get('Retry-After')),
    );
  }
  if (!isObject(data)) throw new ApiError(res.status, 'bad_response', 'The server sent an unexpected answer.', undefined);
  return data;
}

/**
 * POSTs JSON (kept for the callers that only post).
 * @param {string} path
 * @param {unknown} body
 * @param {string} [accessToken]
 */
function postJson(path, body, accessToken) {
  return request('POST', path, body, accessToken);
}

/**
 * A completed sign-in or refresh answer as a Session; throws for anything else.
 * @param {Frame} data
 * @returns {Session}
 */
function parseSession(data) {
  const user = data.user;
  const session = data.session;
  if (
    !isString(data.accessToken) ||
    typeof data.expiresIn !== 'number' ||
    !isObject(user) ||
    !isString(user.id) ||
    !isString(user.email) ||
    !isObject(session) ||
    !isString(session.id)
  ) {
    throw new ApiError(200, 'bad_response', 'The server sent an unexpected sign-in answer.', undefined);
  }
  return {
    accessToken: data.accessToken,
    expiresAt: Date.now() + data.expiresIn * 1000,
    sessionId: session.id,
    user: {
      id: user.id,
      email: user.email,
      displayName: isString(user.displayName) ? user.displayName : '',
      role: isString(user.role) ? user.role : '',
    },
  };
}

/**
 * Password sign-in: a session, or the second step (a code, or an enrolment the workspace requires).
 * @param {string} email
 * @param {string} password
 * @returns {Promise<LoginResult>}
 */
async function login(email, password) {
  const data = await postJson('/api/v1/auth/login', { email, password });
  if (isString(data.mfaToken) && (data.mfaRequired === true || data.mfaEnrolmentRequired === true)) {
    return { kind: 'mfa', purpose: data.mfaRequired === true ? 'verify' : 'enrol', mfaToken: data.mfaToken };
  }
  return { kind: 'session', session: parseSession(data) };
}

/**
 * Spends the refresh cookie for a new access token (and a new cookie). Single flight: a refresh
 * token works once, so concurrent callers share one request. Resolves null when the session is over.
 * @returns {Promise<Session | null>}
 */
function refreshSession() {
  state.refreshing ??= (async () => {
    try {
      // Tabs share the cookie: two refreshing at once (timers firing together after a laptop wakes)
      // would present one token twice, which the server must treat as theft. A Web Lock makes the
      // tabs take turns, so the second one sends the cookie the first one just received.
      const spend = async () => parseSession(await postJson('/api/v1/auth/refresh', {}));
      return navigator.locks ? await navigator.locks.request('switchboard-refresh', spend) : await spend();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return null;
      throw err;
    } finally {
      state.refreshing = null;
    }
  })();
  return state.refreshing;
}

/** Keeps the access token fresh: refreshes shortly before it expires. */
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  const session = state.session;
  if (!session) return;
  const delay = Math.max(5_000, session.expiresAt - Date.now() - REFRESH_AHEAD_MS);
  state.refreshTimer = setTimeout(() => void renewAccessToken(), delay);
}

/**
 * Renews the access token of the current session. Returns false when the session is over (the
 * page then returns to sign-in); network trouble retries later and keeps the old token meanwhile.
 * @returns {Promise<boolean>}
 */
async function renewAccessToken() {
  const current = state.session;
  if (!current) return false;
  try {
    const next = await refreshSession();
    if (state.session !== current) return state.session !== null;
    if (!next) {
      endSession('Your session has ended. Please sign in again.');
      return false;
    }
    state.session = next;
    scheduleRefresh();
    return true;
  } catch {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => void renewAccessToken(), REFRESH_RETRY_MS);
    return true;
  }
}

/**
 * An authenticated API call: renews an (almost) expired access token first, and once more on a 401.
 * @param {'GET' | 'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<Frame>}
 */
async function authed(method, path, body) {
  if (!state.session) throw new ApiError(401, 'unauthenticated', 'Please sign in again.', undefined);
  if (Date.now() >= state.session.expiresAt - 5_000 && !(await renewAccessToken())) {
    throw new ApiError(401, 'unauthenticated', 'Your session has ended. Please sign in again.', undefined);
  }
  const token = state.session?.accessToken;
  try {
    return await request(method, path, body, token);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !state.session) throw err;
    if (!(await renewAccessToken()) || !state.session) throw err;
    return request(method, path, body, state.session.accessToken);
  }
}

/** @returns {Promise<string>} a single-use WebSocket ticket */
async function fetchTicket() {
  const data = await authed('POST', '/api/v1/ws-ticket', {});
  if (!isString(data.ticket)) throw new ApiError(200, 'bad_response', 'The server sent no ticket.', undefined);
  return data.ticket;
}

/** @param {string} ticket */
function socketUrl(ticket) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/** Shows exactly one of the three views. @param {'login' | 'chat' | 'security'} which */
function showView(which) {
  dom.loginView.hidden = which !== 'login';
  dom.chatView.hidden = which !== 'chat';
  dom.securityView.hidden = which !== 'security';
}

/** @param {string} [notice] shown above the form (e.g. "session ended") */
function showLogin(notice) {
  clearMfa();
  state.securityMode = null;
  state.pendingSession = null;
  showView('login');
  dom.loginForm.hidden = false;
  dom.mfaForm.hidden = true;
  dom.loginNotice.textContent = notice ?? '';
  dom.loginNotice.hidden = !notice;
  dom.loginError.textContent = '';
  dom.loginPassword.value = '';
  (dom.loginEmail.value ? dom.loginPassword : dom.loginEmail).focus();
}

function showChat() {
  const user = state.session?.user;
  dom.userName.textContent = user ? user.displayName || user.email : '';
  dom.userName.title = user ? user.email : '';
  showView('chat');
  clearComposerError();
  updateCounter();
  dom.input.focus();
}

/**
 * @param {'connecting' | 'online' | 'reconnecting' | 'offline'} kind
 * @param {string} text
 */
function setStatus(kind, text) {
  dom.status.dataset.state = kind;
  dom.status.textContent = text;
  dom.reconnectNow.hidden = kind === 'online' || kind === 'connecting';
}

// ---------------------------------------------------------------------------------------------
// Login and session
// ---------------------------------------------------------------------------------------------

/** @param {SubmitEvent} event */
async function onLoginSubmit(event) {
  event.preventDefault();
  const email = dom.loginEmail.value.trim();
  const password = dom.loginPassword.value;
  if (!email || !password) {
    showLoginError('Enter your email and password.');
    return;
  }
  const wait = state.loginBlockedUntil - Date.now();
  if (wait > 0) {
    showLoginError(`Too many sign-in attempts. Try again in ${secondsText(wait)}.`);
    return;
  }
  setLoginBusy(true);
  try {
    const result = await login(email, password);
    dom.loginPassword.value = '';
    if (result.kind === 'session') startSession(result.session);
    else if (result.purpose === 'verify') showMfaStep(result.mfaToken);
    else void openRequiredEnrolment(result.mfaToken);
  } catch (err) {
    dom.loginPassword.value = '';
    dom.loginPassword.focus();
    showLoginError(loginErrorText(err));
  } finally {
    setLoginBusy(false);
  }
}

/** @param {unknown} err */
function loginErrorText(err) {
  if (!(err instanceof ApiError)) return 'Sign-in failed. Please try again.';
  if (err.status === 429) {
    const ms = err.retryAfterMs ?? 30_000;
    state.loginBlockedUntil = Date.now() + ms;
    return `Too many sign-in attempts. Try again in ${secondsText(ms)}.`;
  }
  if (err.status === 401) return err.message || 'Email or password is incorrect.';
  return err.message;
}

/** @param {string} text */
function showLoginError(text) {
  dom.loginError.textContent = text;
}

/** @param {boolean} busy */
function setLoginBusy(busy) {
  dom.loginSubmit.disabled = busy;
  dom.loginSubmit.textContent = busy ? 'Signing in…' : 'Sign in';
  dom.loginForm.setAttribute('aria-busy', String(busy));
}

/** The second step: the password was right, a code from the app (or a recovery code) is owed. */
function showMfaStep(/** @type {string} */ mfaToken) {
  state.mfaToken = mfaToken;
  setMfaMode(false);
  dom.loginForm.hidden = true;
  dom.mfaForm.hidden = false;
  dom.mfaError.textContent = '';
  dom.mfaCode.focus();
}

/** @param {boolean} useRecovery */
function setMfaMode(useRecovery) {
  state.mfaUseRecovery = useRecovery;
  dom.mfaCodeField.hidden = useRecovery;
  dom.mfaRecoveryField.hidden = !useRecovery;
  dom.mfaHint.textContent = useRecovery
    ? 'Enter one of the recovery codes you saved when you set up two-factor sign-in. Each works once.'
    : 'Enter the 6-digit code from your authenticator app.';
  dom.mfaToggle.textContent = useRecovery ? 'Use a code from the app instead' : 'Use a recovery code instead';
  dom.mfaCode.value = '';
  dom.mfaRecovery.value = '';
  dom.mfaError.textContent = '';
  (useRecovery ? dom.mfaRecovery : dom.mfaCode).focus();
}

function clearMfa() {
  state.mfaToken = null;
  dom.mfaCode.value = '';
  dom.mfaRecovery.value = '';
  dom.mfaError.textContent = '';
}

/** @param {SubmitEvent} event */
async function onMfaSubmit(event) {
  event.preventDefault();
  const mfaToken = state.mfaToken;
  if (!mfaToken) return;
  const value = (state.mfaUseRecovery ? dom.mfaRecovery.value : dom.mfaCode.value).trim();
  if (!value) {
    dom.mfaError.textContent = state.mfaUseRecovery ? 'Enter a recovery code.' : 'Enter the code from your app.';
    return;
  }
  dom.mfaSubmit.disabled = true;
  try {
    const body = state.mfaUseRecovery ? { mfaToken, recoveryCode: value } : { mfaToken, code: value };
    const session = parseSession(await postJson('/api/v1/auth/2fa/verify', body));
    clearMfa();
    startSession(session);
  } catch (err) {
    dom.mfaCode.value = '';
    dom.mfaRecovery.value = '';
    if (err instanceof ApiError && err.status === 401 && /expired|already used/i.test(err.message)) {
      showLogin(err.message);
      return;
    }
    dom.mfaError.textContent =
      err instanceof ApiError && err.status === 429
        ? `Too many wrong codes. Try again in ${secondsText(err.retryAfterMs ?? 900_000)}.`
        : err instanceof ApiError && err.status === 401
          ? 'That code did not work. Check the time on your phone and try again.'
          : err instanceof ApiError
            ? err.message
            : 'Verification failed. Please try again.';
    (state.mfaUseRecovery ? dom.mfaRecovery : dom.mfaCode).focus();
  } finally {
    dom.mfaSubmit.disabled = false;
  }
}

/** @param {Session} session */
function startSession(session) {
  teardown();
  state.session = session;
  scheduleRefresh();
  showChat();
  void connect();
}

/** Drops the token, closes the socket, forgets every message on screen. */
function teardown() {
  state.generation += 1;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = undefined;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = undefined;
  const socket = state.socket;
  state.socket = null;
  state.live = false;
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(CLOSE_NORMAL, 'client closed');
  state.session = null;
  state.conversationId = null;
  state.reconnectAttempt = 0;
  state.outbox.clear();
  state.byMessageId.clear();
  state.historyReady = false;
  state.historyLoading = false;
  state.sendBlockedUntil = 0;
  hideTyping();
  dom.messages.replaceChildren();
  dom.loadEarlier.hidden = true;
  dom.input.value = '';
  clearComposerError();
  resetSecurityPanel();
}

/** Ends the session on the server (and the refresh cookie with it), then here. */
async function signOut() {
  const token = state.session?.accessToken;
  teardown();
  showLogin('You have signed out.');
  try {
    // With the access token when we have one; the cookie alone (plus the CSRF header) also works.
    await request('POST', '/api/v1/auth/logout', {}, token);
  } catch {
    if (token) await request('POST', '/api/v1/auth/logout', {}).catch(() => undefined);
  }
}

/** @param {string} notice */
function endSession(notice) {
  teardown();
  showLogin(notice);
}

/** On load: a live refresh cookie signs the page straight back in (it survives a reload). */
async function resumeSession() {
  try {
    const session = await refreshSession();
    if (session && !state.session) startSession(session);
  } catch {
    // Offline or the server is down: the sign-in form stays.
  }
}

// ---------------------------------------------------------------------------------------------
// Account security: two-factor sign-in and sessions
// ---------------------------------------------------------------------------------------------

function resetSecurityPanel() {
  dom.tfaEnrol.hidden = true;
  dom.tfaRecovery.hidden = true;
  dom.tfaDisableForm.hidden = true;
  dom.tfaStart.hidden = true;
  dom.tfaQr.removeAttribute('src');
  dom.tfaSecret.textContent = '';
  dom.tfaUri.textContent = '';
  dom.tfaRecoveryList.replaceChildren();
  dom.tfaCode.value = '';
  dom.tfaDisableCode.value = '';
  dom.tfaError.textContent = '';
  dom.tfaDisableError.textContent = '';
  dom.sessionsList.replaceChildren();
  dom.sessionsError.textContent = '';
  dom.securityNotice.hidden = true;
  dom.tfaStatus.textContent = '';
  dom.tfaStatus.dataset.state = 'unknown';
}

/** @param {string} text */
function showSecurityNotice(text) {
  dom.securityNotice.textContent = text;
  dom.securityNotice.hidden = !text;
}

/** The panel of a signed-in user (from the chat header). */
async function openAccountSecurity() {
  if (!state.session) return;
  resetSecurityPanel();
  state.securityMode = 'account';
  dom.securityTitle.textContent = 'Account security';
  dom.securityBack.textContent = 'Back to chat';
  dom.sessionsSection.hidden = false;
  showView('security');
  dom.securityBack.focus();
  await Promise.all([loadTwoFactorStatus(), loadSessions()]);
}

/** The enrolment a workspace requires before this sign-in can finish (the token can only enrol). */
async function openRequiredEnrolment(/** @type {string} */ mfaToken) {
  state.mfaToken = mfaToken;
  resetSecurityPanel();
  state.securityMode = 'required';
  dom.securityTitle.textContent = 'Set up two-factor sign-in';
  dom.securityBack.textContent = 'Cancel';
  dom.sessionsSection.hidden = true;
  showView('security');
  showSecurityNotice('Your workspace requires two-factor sign-in for your role. Set it up to finish signing in.');
  setTfaStatus('off', 'Not set up yet.');
  await startEnrolment();
}

function closeSecurity() {
  if (state.securityMode === 'required') {
    showLogin('Sign-in was not finished: two-factor sign-in is required for your account.');
    return;
  }
  state.securityMode = null;
  resetSecurityPanel();
  if (state.session) showChat();
  else showLogin();
}

/** @param {'on' | 'off' | 'pending' | 'unknown'} kind @param {string} text */
function setTfaStatus(kind, text) {
  dom.tfaStatus.dataset.state = kind;
  dom.tfaStatus.textContent = text;
}

async function loadTwoFactorStatus() {
  try {
    const status = await authed('GET', '/api/v1/auth/2fa');
    const remaining = typeof status.recoveryCodesRemaining === 'number' ? status.recoveryCodesRemaining : 0;
    if (status.enabled === true) {
      const since = isString(status.enabledAt) ? ` since ${new Date(status.enabledAt).toLocaleDateString()}` : '';
      setTfaStatus('on', `On${since}. ${remaining} recovery code${remaining === 1 ? '' : 's'} left.`);
      dom.tfaStart.hidden = true;
      // Required by the workspace: it cannot be turned off, so the form is not offered.
      dom.tfaDisableForm.hidden = status.required === true;
      if (status.required === true) showSecurityNotice('Your workspace requires two-factor sign-in for your role.');
    } else {
      setTfaStatus('off', 'Off. Add a second step to sign-in with an authenticator app.');
      dom.tfaStart.hidden = false;
      dom.tfaDisableForm.hidden = true;
    }
  } catch (err) {
    setTfaStatus('unknown', err instanceof ApiError ? err.message : 'Could not load the two-factor status.');
  }
}

/** Starts (or restarts) enrolment and shows the QR code, the setup key and the link. */
async function startEnrolment() {
  dom.tfaStart.disabled = true;
  dom.tfaError.textContent = '';
  try {
    const data =
      state.securityMode === 'required' && state.mfaToken
        ? await postJson('/api/v1/auth/2fa/enrol', { mfaToken: state.mfaToken })
        : await authed('POST', '/api/v1/auth/2fa/enrol', {});
    if (!isString(data.otpauthUri) || !isString(data.secret) || !isString(data.qrCode)) {
      throw new ApiError(200, 'bad_response', 'The server sent an unexpected enrolment answer.', undefined);
    }
    // Only our server-rendered SVG as a data: URL (allowed by img-src), never a URL from elsewhere.
    if (data.qrCode.startsWith('data:image/svg+xml;base64,')) dom.tfaQr.src = data.qrCode;
    dom.tfaSecret.textContent = data.secret.replace(/(.{4})/g, '$1 ').trim();
    dom.tfaUri.textContent = data.otpauthUri;
    dom.tfaStart.hidden = true;
    dom.tfaEnrol.hidden = false;
    setTfaStatus('pending', 'Waiting for a code from your app to finish.');
    dom.tfaCode.value = '';
    dom.tfaCode.focus();
  } catch (err) {
    if (state.securityMode === 'required' && err instanceof ApiError && err.status === 401) {
      showLogin(err.message);
      return;
    }
    dom.tfaError.textContent = err instanceof ApiError ? err.message : 'Could not start the set-up.';
    dom.tfaEnrol.hidden = false;
  } finally {
    dom.tfaStart.disabled = false;
  }
}

/** @param {SubmitEvent} event */
async function onConfirmEnrolment(event) {
  event.preventDefault();
  const code = dom.tfaCode.value.trim();
  if (!code) {
    dom.tfaError.textContent = 'Enter the 6-digit code from your app.';
    return;
  }
  dom.tfaConfirm.disabled = true;
  dom.tfaError.textContent = '';
  try {
    let data;
    if (state.securityMode === 'required' && state.mfaToken) {
      data = await postJson('/api/v1/auth/2fa/confirm', { mfaToken: state.mfaToken, code });
      state.pendingSession = parseSession(data);
      state.mfaToken = null;
    } else {
      data = await authed('POST', '/api/v1/auth/2fa/confirm', { code });
    }
    const codes = isStringArray(data.recoveryCodes) ? data.recoveryCodes : [];
    showRecoveryCodes(codes);
  } catch (err) {
    dom.tfaCode.value = '';
    dom.tfaError.textContent =
      err instanceof ApiError && err.status === 401
        ? 'That code did not work. Check the time on your phone and try again.'
        : err instanceof ApiError && err.status === 429
          ? `Too many wrong codes. Try again in ${secondsText(err.retryAfterMs ?? 900_000)}.`
          : err instanceof ApiError
            ? err.message
            : 'Could not turn on two-factor sign-in.';
    dom.tfaCode.focus();
  } finally {
    dom.tfaConfirm.disabled = false;
  }
}

/** The recovery codes, shown this once; the panel moves on when the user says they are saved. */
function showRecoveryCodes(/** @type {string[]} */ codes) {
  dom.tfaEnrol.hidden = true;
  dom.tfaQr.removeAttribute('src');
  dom.tfaSecret.textContent = '';
  dom.tfaUri.textContent = '';
  dom.tfaRecoveryList.replaceChildren(...codes.map((code) => h('li', 'recovery-code', code)));
  dom.tfaRecovery.hidden = false;
  setTfaStatus('on', 'On. Save your recovery codes before you continue.');
  dom.tfaRecoveryDone.focus();
}

function onRecoveryCodesSaved() {
  dom.tfaRecoveryList.replaceChildren();
  dom.tfaRecovery.hidden = true;
  if (state.securityMode === 'required') {
    const session = state.pendingSession;
    state.pendingSession = null;
    state.securityMode = null;
    if (session) startSession(session);
    else showLogin();
    return;
  }
  showSecurityNotice('Two-factor sign-in is on. You will be asked for a code when you sign in.');
  void loadTwoFactorStatus();
}

/** @param {SubmitEvent} event */
async function onDisableTwoFactor(event) {
  event.preventDefault();
  const value = dom.tfaDisableCode.value.trim();
  if (!value) {
    dom.tfaDisableError.textContent = 'Enter a code from your app or a recovery code.';
    return;
  }
  dom.tfaDisableError.textContent = '';
  const proof = /^[0-9 ]{6,9}$/.test(value) ? { code: value } : { recoveryCode: value };
  try {
    await authed('POST', '/api/v1/auth/2fa/disable', proof);
    dom.tfaDisableCode.value = '';
    showSecurityNotice('Two-factor sign-in is off.');
    await loadTwoFactorStatus();
  } catch (err) {
    dom.tfaDisableCode.value = '';
    dom.tfaDisableError.textContent =
      err instanceof ApiError && err.status === 401 ? 'That code did not work.' : err instanceof ApiError ? err.message : 'Could not turn it off.';
  }
}

async function loadSessions() {
  dom.sessionsError.textContent = '';
  try {
    const data = await authed('GET', '/api/v1/sessions');
    const sessions = Array.isArray(data.sessions) ? data.sessions.filter(isObject) : [];
    dom.sessionsList.replaceChildren(...sessions.map(renderSession));
  } catch (err) {
    dom.sessionsError.textContent = err instanceof ApiError ? err.message : 'Could not load your sessions.';
  }
}

/** One line of "where you're signed in"; all text through text nodes. @param {Frame} s */
function renderSession(s) {
  const item = h('li', 'session-item');
  const current = s.current === true;
  item.dataset.current = String(current);
  const what = h('div', 'session-what');
  what.append(h('span', 'session-agent', isString(s.userAgent) && s.userAgent ? describeAgent(s.userAgent) : 'Unknown device'));
  if (current) what.append(h('span', 'session-badge', 'This device'));
  const when = isString(s.lastUsedAt) ? new Date(s.lastUsedAt).toLocaleString() : '';
  const ip = isString(s.ip) ? s.ip : '';
  what.append(h('span', 'session-meta', [ip, when ? `active ${when}` : '', s.authMethod === 'password' ? 'password only' : 'two-factor'].filter(Boolean).join(' · ')));
  item.append(what);
  if (!current && isString(s.id)) {
    const button = h('button', 'button subtle small', 'Sign out');
    if (button instanceof HTMLButtonElement) button.type = 'button';
    const id = s.id;
    button.addEventListener('click', () => void revokeSession(id));
    item.append(button);
  }
  return item;
}

/** A short, readable name for a user agent string. @param {string} ua */
function describeAgent(ua) {
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : '';
  const name = [browser, os].filter(Boolean).join(' on ');
  return name || ua.slice(0, 60);
}

/** @param {string} id */
async function revokeSession(id) {
  try {
    await authed('DELETE', `/api/v1/sessions/${encodeURIComponent(id)}`);
    await loadSessions();
  } catch (err) {
    dom.sessionsError.textContent = err instanceof ApiError ? err.message : 'Could not sign that session out.';
  }
}

async function signOutEverywhere() {
  dom.signOutEverywhere.disabled = true;
  try {
    await authed('POST', '/api/v1/auth/logout-all', {});
    teardown();
    showLogin('You have signed out everywhere.');
  } catch (err) {
    dom.sessionsError.textContent = err instanceof ApiError ? err.message : 'Could not sign out everywhere.';
  } finally {
    dom.signOutEverywhere.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------

/** Fetches a fresh ticket and opens the WebSocket. Safe to call at any time. */
async function connect() {
  const session = state.session;
  if (!session) return;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = undefined;
  const generation = ++state.generation;
  setStatus('connecting', state.reconnectAttempt > 0 ? 'Reconnecting…' : 'Connecting…');

  let ticket;
  try {
    // Renews the access token first when it has (almost) run out.
    ticket = await fetchTicket();
  } catch (err) {
    if (generation !== state.generation) return;
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      endSession('Your session has ended. Please sign in again.');
    } else {
      scheduleReconnect(err instanceof ApiError ? err.retryAfterMs : undefined);
    }
    return;
  }
  if (generation !== state.generation) return;

  const socket = new WebSocket(socketUrl(ticket));
  state.socket = socket;
  state.historyReady = false;
  socket.addEventListener('message', (event) => {
    if (state.socket === socket) onSocketData(event.data);
  });
  socket.addEventListener('close', (event) => {
    if (state.socket === socket) onSocketClose(event);
  });
  // 'error' is always followed by 'close', which does the work.
}

/** @param {CloseEvent} event */
function onSocketClose(event) {
  state.socket = null;
  state.live = false;
  hideTyping();
  dom.loadEarlier.hidden = true;
  if (state.connectedAt && Date.now() - state.connectedAt >= STABLE_CONNECTION_MS) state.reconnectAttempt = 0;
  state.connectedAt = 0;
  markOutboxWaiting();

  if (event.code === CLOSE_SESSION_INVALID) {
    // Revoked (signed out elsewhere, reuse detected, an admin) or expired: a refresh tells which.
    void recheckSession();
  } else if (event.code === CLOSE_POLICY_VIOLATION) {
    // The server refused this client on purpose: reconnecting in a loop would not help.
    const reason = event.reason ? ` (${event.reason})` : '';
    setStatus('offline', `Disconnected by the server${reason}.`);
  } else {
    // 1001 going away, 1006 abnormal, 1011 server error, anything else: back off and retry.
    scheduleReconnect();
  }
}

/** After a 4001 close: reconnect if the session is still good, otherwise back to sign-in. */
async function recheckSession() {
  const generation = state.generation;
  let next;
  try {
    next = await refreshSession();
  } catch {
    if (generation === state.generation) scheduleReconnect();
    return;
  }
  if (generation !== state.generation || !state.session) return;
  if (!next) {
    endSession('Your session has ended. Please sign in again.');
    return;
  }
  state.session = next;
  scheduleRefresh();
  void connect();
}

/** @param {number} [minDelayMs] e.g. from a Retry-After header */
function scheduleReconnect(minDelayMs) {
  if (!state.session) return;
  clearTimeout(state.reconnectTimer);
  const delay = Math.max(minDelayMs ?? 0, backoffDelay(state.reconnectAttempt));
  state.reconnectAttempt += 1;
  setStatus('reconnecting', `Connection lost. Reconnecting in ${secondsText(delay)}…`);
  state.reconnectTimer = setTimeout(() => void connect(), delay);
}

function reconnectNow() {
  if (!state.session || state.socket) return;
  void connect();
}

/** @param {Frame} frame */
function sendFrame(frame) {
  const socket = state.socket;
  if (!socket || !state.live || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Server frames
// ---------------------------------------------------------------------------------------------

/** @type {Record<string, (frame: Frame) => void>} */
const frameHandlers = {
  ready: onReady,
  ack: onAck,
  message: onMessageFrame,
  typing: onTyping,
  history: onHistory,
  error: onErrorFrame,
};

/** @param {unknown} data */
function onSocketData(data) {
  if (!isString(data)) return;
  /** @type {unknown} */
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  if (!isObject(frame) || !isString(frame.type) || !Object.hasOwn(frameHandlers, frame.type)) return;
  frameHandlers[frame.type]?.(frame);
}

/**
 * `ready` {userId, conversationId}: the socket is live; resend whatever was never acknowledged.
 * @param {Frame} frame
 */
function onReady(frame) {
  if (!isString(frame.conversationId)) return;
  if (state.conversationId && state.conversationId !== frame.conversationId) {
    // A different conversation than the one on screen: start the view over.
    state.byMessageId.clear();
    dom.messages.replaceChildren();
  }
  state.conversationId = frame.conversationId;
  state.connectedAt = Date.now();
  state.live = true;
  setStatus('online', 'Connected');
  flushOutbox();
}

/**
 * `ack` {id, messageId, duplicate, stored: {text, piiTypes}}: the user's message is committed.
 * @param {Frame} frame
 */
function onAck(frame) {
  const stored = frame.stored;
  if (!isString(frame.id) || !isString(frame.messageId) || !isObject(stored) || !isString(stored.text)) return;
  const piiTypes = isStringArray(stored.piiTypes) ? stored.piiTypes : [];
  const entry = state.outbox.get(frame.id);
  state.outbox.delete(frame.id);
  const known = state.byMessageId.get(frame.messageId);
  if (entry && known && known !== entry.el) entry.el.remove(); // already shown (history / fan-out)
  const el = known ?? entry?.el;
  if (!el) return;
  // The ack carries types but no action: text that came back unchanged was only logged, not redacted.
  // Without the original text (already shown via fan-out or history) keep the note that is there.
  const shownAction = el.querySelector('.msg-note')?.getAttribute('data-pii-action');
  const action = entry ? (stored.text === entry.text ? 'log' : 'redact') : (shownAction ?? 'redact');
  commitMessage(el, frame.messageId, stored.text, piiTypes, action);
}

/**
 * `message` {message}: an agent reply, or the user's own message from another tab.
 * @param {Frame} frame
 */
function onMessageFrame(frame) {
  const message = frame.message;
  if (!isChatMessage(message) || !belongsHere(message.conversationId)) return;
  if (message.role === 'agent') hideTyping();
  const stick = isNearBottom();
  if (!upsertMessage(message)) appendLive(renderServerMessage(message));
  if (stick || message.role === 'user') scrollToBottom();
}

/**
 * `typing` {conversationId, state: start|stop}
 * @param {Frame} frame
 */
function onTyping(frame) {
  if (!isString(frame.conversationId) || !belongsHere(frame.conversationId)) return;
  if (frame.state === 'start') showTyping();
  else if (frame.state === 'stop') hideTyping();
}

/**
 * `history` {conversationId, messages, hasMore}: after connect (recent) or on request (older).
 * @param {Frame} frame
 */
function onHistory(frame) {
  if (!isString(frame.conversationId) || !belongsHere(frame.conversationId) || !Array.isArray(frame.messages)) return;
  const firstPage = !state.historyReady;
  state.historyReady = true;
  state.historyLoading = false;
  dom.loadEarlier.disabled = false;
  dom.loadEarlier.hidden = frame.hasMore !== true;

  const messages = frame.messages.filter(isChatMessage).sort(byCreatedAt);
  const oldestShown = oldestShownTime();
  const stick = firstPage || isNearBottom();
  /** @type {HTMLElement[]} */
  const older = [];
  for (const message of messages) {
    if (upsertMessage(message)) continue;
    const el = renderServerMessage(message);
    if (oldestShown !== undefined && Date.parse(message.createdAt) < oldestShown) older.push(el);
    else appendLive(el);
  }
  prependKeepingScroll(older);
  if (stick) scrollToBottom();
}

/**
 * `error` {code, message, id?, retryAfterMs?}: shown next to the composer; the socket stays open.
 * @param {Frame} frame
 */
function onErrorFrame(frame) {
  const code = isString(frame.code) ? frame.code : 'error';
  const message = isString(frame.message) && frame.message ? frame.message : 'Something went wrong.';
  const entry = isString(frame.id) ? state.outbox.get(frame.id) : undefined;
  if (entry && isString(frame.id)) {
    state.outbox.delete(frame.id);
    returnToComposer(entry, message);
  }
  if (state.historyLoading && !entry) {
    state.historyLoading = false;
    dom.loadEarlier.disabled = false;
  }
  let text = message;
  if (code === 'rate_limited' && typeof frame.retryAfterMs === 'number' && frame.retryAfterMs > 0) {
    const ms = Math.min(frame.retryAfterMs, MAX_RETRY_AFTER_MS);
    state.sendBlockedUntil = Date.now() + ms;
    text = `${message} Try again in ${secondsText(ms)}.`;
  }
  showComposerError(code, text);
}

/** @param {string} conversationId */
function belongsHere(conversationId) {
  return state.conversationId === null || state.conversationId === conversationId;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/**
 * Builds one message element. All text goes in as text nodes.
 * @param {{ role: 'user' | 'agent', text: string, clientId?: string | undefined, messageId?: string | undefined,
 *           createdAt?: string | undefined, pending?: boolean }} m
 * @returns {HTMLElement}
 */
function createMessageElement(m) {
  const el = h('article', 'msg');
  el.dataset.role = m.role;
  el.dataset.state = m.pending ? 'pending' : 'sent';
  if (m.clientId) el.dataset.clientId = m.clientId;
  if (m.messageId) el.dataset.messageId = m.messageId;
  if (m.createdAt) el.dataset.createdAt = m.createdAt;

  const meta = h('p', 'msg-meta');
  meta.append(h('span', 'msg-author', m.role === 'user' ? 'You' : 'Agent'));
  const time = document.createElement('time');
  time.className = 'msg-time';
  meta.append(time);
  meta.append(h('span', 'msg-status', m.pending ? 'Sending…' : ''));
  setTime(time, m.createdAt);

  const bubble = h('div', 'msg-bubble');
  bubble.append(h('p', 'msg-text', m.text));
  const note = h('p', 'msg-note');
  note.hidden = true;

  el.append(meta, bubble, note);
  return el;
}

/** @param {ChatMessage} m */
function renderServerMessage(m) {
  const el = createMessageElement({
    role: m.role,
    text: m.text,
    messageId: m.id,
    clientId: m.clientMessageId,
    createdAt: m.createdAt,
  });
  if (m.pii) setPiiNote(el, m.pii.types, m.pii.action);
  state.byMessageId.set(m.id, el);
  return el;
}

/**
 * Updates an existing element for a server message, or adopts the pending element it answers.
 * @param {ChatMessage} m
 * @returns {boolean} true when the message is already on screen (nothing new to insert)
 */
function upsertMessage(m) {
  const known = state.byMessageId.get(m.id);
  if (known) {
    if (m.pii) setPiiNote(known, m.pii.types, m.pii.action);
    setCreatedAt(known, m.createdAt);
    return true;
  }
  const entry = m.role === 'user' && m.clientMessageId ? state.outbox.get(m.clientMessageId) : undefined;
  if (entry && m.clientMessageId) {
    // Our own pending message, committed before its ack reached us (fan-out or history after a reconnect).
    state.outbox.delete(m.clientMessageId);
    commitMessage(entry.el, m.id, m.text, m.pii?.types ?? [], m.pii?.action);
    setCreatedAt(entry.el, m.createdAt);
    return true;
  }
  return false;
}

/**
 * Turns a pending user message into a stored one, showing the text as stored (redacted).
 * @param {HTMLElement} el
 * @param {string} messageId
 * @param {string} storedText
 * @param {string[]} piiTypes
 * @param {string | undefined} action
 */
function commitMessage(el, messageId, storedText, piiTypes, action) {
  el.dataset.state = 'sent';
  el.dataset.messageId = messageId;
  state.byMessageId.set(messageId, el);
  const text = el.querySelector('.msg-text');
  if (text) text.textContent = storedText;
  const status = el.querySelector('.msg-status');
  if (status) status.textContent = '';
  const time = el.querySelector('time');
  if (time instanceof HTMLTimeElement && !time.dateTime) setTime(time, new Date().toISOString());
  if (piiTypes.length > 0) setPiiNote(el, piiTypes, action);
}

/**
 * @param {HTMLElement} el
 * @param {string[]} types
 * @param {string | undefined} action
 */
function setPiiNote(el, types, action) {
  const note = el.querySelector('.msg-note');
  if (!(note instanceof HTMLElement)) return;
  const unique = [...new Set(types)];
  if (unique.length === 0) {
    note.hidden = true;
    return;
  }
  const list = unique.join(', ');
  note.textContent =
    action === 'log' ? `Contains ${list} (stored as written)` : `Stored with ${list} redacted`;
  note.dataset.piiAction = action ?? 'redact';
  note.hidden = false;
}

/** @param {HTMLTimeElement} time @param {string | undefined} iso */
function setTime(time, iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  if (!iso || Number.isNaN(ms)) return;
  time.dateTime = iso;
  time.textContent = new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  time.title = new Date(ms).toLocaleString();
}

/** @param {HTMLElement} el @param {string} iso */
function setCreatedAt(el, iso) {
  el.dataset.createdAt = iso;
  const time = el.querySelector('time');
  if (time instanceof HTMLTimeElement) setTime(time, iso);
}

/** Inserts a new message after every stored message and before the user's pending ones. */
function appendLive(/** @type {HTMLElement} */ el) {
  const firstPending = dom.messages.querySelector(':scope > [data-state="pending"]');
  dom.messages.insertBefore(el, firstPending);
}

/** Prepends older messages (already in order) without making the visible ones jump. */
function prependKeepingScroll(/** @type {HTMLElement[]} */ els) {
  if (els.length === 0) return;
  const before = dom.logWrap.scrollHeight;
  dom.messages.prepend(...els);
  dom.logWrap.scrollTop += dom.logWrap.scrollHeight - before;
}

/** @returns {number | undefined} */
function oldestShownTime() {
  for (const child of dom.messages.children) {
    const iso = child instanceof HTMLElement ? child.dataset.createdAt : undefined;
    const ms = iso ? Date.parse(iso) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** @param {ChatMessage} a @param {ChatMessage} b */
function byCreatedAt(a, b) {
  return Date.parse(a.createdAt) - Date.parse(b.createdAt);
}

function isNearBottom() {
  const w = dom.logWrap;
  return w.scrollHeight - w.scrollTop - w.clientHeight < 80;
}

function scrollToBottom() {
  dom.logWrap.scrollTop = dom.logWrap.scrollHeight;
}

function loadEarlier() {
  const oldest = dom.messages.querySelector(':scope > [data-created-at]');
  const before = oldest instanceof HTMLElement ? oldest.dataset.createdAt : undefined;
  if (!state.historyReady || state.historyLoading || !before) return;
  if (sendFrame({ type: 'history', before, limit: HISTORY_PAGE_SIZE })) {
    state.historyLoading = true;
    dom.loadEarlier.disabled = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Typing indicator
// ---------------------------------------------------------------------------------------------

function showTyping() {
  const stick = isNearBottom();
  dom.typing.dataset.active = 'true';
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  if (stick) scrollToBottom();
}

function hideTyping() {
  clearTimeout(state.typingTimer);
  state.typingTimer = undefined;
  dom.typing.dataset.active = 'false';
}

// ---------------------------------------------------------------------------------------------
// Composer
// ---------------------------------------------------------------------------------------------

/** @param {SubmitEvent} event */
function onComposerSubmit(event) {
  event.preventDefault();
  sendMessage(dom.input.value);
}

/** Enter sends, Shift+Enter inserts a newline; IME composition is left alone. */
function onComposerKeydown(/** @type {KeyboardEvent} */ event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  sendMessage(dom.input.value);
}

/**
 * Shows the message as pending at once and sends it (or keeps it in the outbox until connected).
 * The length limit is advisory here (the counter turns red); the server enforces it and answers
 * `message_too_long`, which comes back next to the composer.
 * @param {string} text
 */
function sendMessage(text) {
  if (!state.session || text.trim() === '') return;
  const wait = state.sendBlockedUntil - Date.now();
  if (wait > 0) {
    showComposerError('rate_limited', `You are sending too fast. Try again in ${secondsText(wait)}.`);
    return;
  }
  clearComposerError();
  const id = newClientId();
  const el = createMessageElement({ role: 'user', text, clientId: id, pending: true });
  dom.messages.append(el);
  state.outbox.set(id, { text, el });
  dom.input.value = '';
  updateCounter();
  scrollToBottom();
  if (!sendFrame({ type: 'send', id, text })) markOutboxWaiting();
}

/** Resends every unacknowledged message on a fresh socket; `id` makes resends idempotent. */
function flushOutbox() {
  for (const [id, entry] of state.outbox) {
    if (!sendFrame({ type: 'send', id, text: entry.text })) return;
    setPendingStatus(entry.el, 'Sending…');
  }
}

function markOutboxWaiting() {
  for (const entry of state.outbox.values()) setPendingStatus(entry.el, 'Waiting for connection…');
}

/** @param {HTMLElement} el @param {string} text */
function setPendingStatus(el, text) {
  const status = el.querySelector('.msg-status');
  if (status) status.textContent = text;
}

/**
 * A refused message: put its text back into an empty composer so it can be edited, or keep the
 * bubble marked as not sent when the user has already typed something else.
 * @param {OutboxEntry} entry
 * @param {string} reason
 */
function returnToComposer(entry, reason) {
  if (dom.input.value === '') {
    entry.el.remove();
    dom.input.value = entry.text;
    updateCounter();
    return;
  }
  entry.el.dataset.state = 'failed';
  setPendingStatus(entry.el, 'Not sent');
  const note = entry.el.querySelector('.msg-note');
  if (note instanceof HTMLElement) {
    note.textContent = reason;
    note.hidden = false;
  }
}

/** @param {string} code @param {string} text */
function showComposerError(code, text) {
  dom.composerError.dataset.errorCode = code;
  dom.composerError.textContent = text;
}

function clearComposerError() {
  delete dom.composerError.dataset.errorCode;
  dom.composerError.textContent = '';
}

function updateCounter() {
  const length = dom.input.value.length;
  const over = length > MAX_MESSAGE_CHARS;
  dom.count.textContent = `${formatCount(length)} / ${formatCount(MAX_MESSAGE_CHARS)}${over ? ' — too long' : ''}`;
  dom.count.dataset.state = over ? 'over' : length > MAX_MESSAGE_CHARS * 0.9 ? 'near' : 'ok';
  dom.input.setAttribute('aria-invalid', String(over));
}

// ---------------------------------------------------------------------------------------------
// Sign in with Google / GitHub
// ---------------------------------------------------------------------------------------------

/** What the page says for each `#oidc-error=` code the sign-in callback redirects with. */
/** @type {Record<string, string>} */
const OIDC_ERRORS = {
  expired: 'That sign-in took too long or was already used. Please try again.',
  cancelled: 'Sign-in was cancelled.',
  failed: 'Sign-in with the provider failed. Please try again.',
  unverified_email: 'Your email address is not verified with that provider. Verify it there, then try again.',
  no_account: 'There is no Switchboard account for that email address. Ask an administrator to invite you.',
  ambiguous: 'That email address belongs to several workspaces. Ask an administrator for your workspace sign-in link.',
  not_allowed: 'This account cannot sign in with that provider.',
};

/** Shows the buttons of the providers the server has configured (none when asking fails). */
async function showProviders() {
  try {
    const data = await request('GET', '/api/v1/auth/providers');
    const ids = Array.isArray(data.providers) ? data.providers.map((p) => (isObject(p) && isString(p.id) ? p.id : '')) : [];
    dom.oidcGoogle.hidden = !ids.includes('google');
    dom.oidcGithub.hidden = !ids.includes('github');
    dom.oidcProviders.hidden = dom.oidcGoogle.hidden && dom.oidcGithub.hidden;
  } catch {
    dom.oidcProviders.hidden = true;
  }
}

/**
 * Reads the fragment the sign-in callback redirected to, and removes it from the address bar.
 * @returns {{ kind: 'signed-in' } | { kind: 'error', text: string } | null}
 */
function takeOidcFragment() {
  const hash = window.location.hash;
  if (!hash.startsWith('#oidc')) return null;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  if (hash === '#oidc=signed-in') return { kind: 'signed-in' };
  const code = hash.startsWith('#oidc-error=') ? hash.slice('#oidc-error='.length) : '';
  return { kind: 'error', text: OIDC_ERRORS[code] ?? OIDC_ERRORS.failed };
}

/** Trades the callback's one-time hand-off (an HttpOnly cookie) for the same answer a password sign-in gets. */
async function completeOidcSignIn() {
  try {
    const data = await postJson('/api/v1/auth/oidc/complete', {});
    if (isString(data.mfaToken) && (data.mfaRequired === true || data.mfaEnrolmentRequired === true)) {
      showLogin();
      if (data.mfaRequired === true) showMfaStep(data.mfaToken);
      else void openRequiredEnrolment(data.mfaToken);
      return;
    }
    startSession(parseSession(data));
  } catch (err) {
    showLogin(err instanceof ApiError ? err.message : OIDC_ERRORS.failed);
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

function init() {
  dom.loginForm.addEventListener('submit', (e) => void onLoginSubmit(e));
  dom.mfaForm.addEventListener('submit', (e) => void onMfaSubmit(e));
  dom.mfaToggle.addEventListener('click', () => setMfaMode(!state.mfaUseRecovery));
  dom.mfaCancel.addEventListener('click', () => showLogin());
  dom.signOut.addEventListener('click', () => void signOut());
  dom.openSecurity.addEventListener('click', () => void openAccountSecurity());
  dom.securityBack.addEventListener('click', closeSecurity);
  dom.tfaStart.addEventListener('click', () => void startEnrolment());
  dom.tfaConfirmForm.addEventListener('submit', (e) => void onConfirmEnrolment(e));
  dom.tfaRecoveryDone.addEventListener('click', onRecoveryCodesSaved);
  dom.tfaDisableForm.addEventListener('submit', (e) => void onDisableTwoFactor(e));
  dom.signOutEverywhere.addEventListener('click', () => void signOutEverywhere());
  dom.reconnectNow.addEventListener('click', reconnectNow);
  dom.loadEarlier.addEventListener('click', loadEarlier);
  dom.composer.addEventListener('submit', onComposerSubmit);
  dom.input.addEventListener('keydown', onComposerKeydown);
  dom.input.addEventListener('input', updateCounter);
  // Back online after a network drop: skip the rest of the backoff wait.
  window.addEventListener('online', () => {
    if (state.session && !state.socket && state.reconnectTimer !== undefined) void connect();
  });
  // A reload keeps the session: the refresh cookie is tried first, the sign-in form shown otherwise.
  showView('login');
  dom.loginForm.hidden = true;
  void showProviders();
  // Back from Google / GitHub: finish that sign-in (or say why it failed) instead of resuming.
  const oidc = takeOidcFragment();
  if (oidc?.kind === 'signed-in') {
    void completeOidcSignIn().finally(() => {
      document.documentElement.dataset.ready = 'true';
    });
    return;
  }
  void resumeSession().finally(() => {
    if (!state.session) showLogin(oidc?.kind === 'error' ? oidc.text : undefined);
    document.documentElement.dataset.ready = 'true';
  });
}

init();
