// Shared pieces of the agent desktop and the supervisor view: elements
// built as text (never markup), the API with the account's token, sign-in,
// the event stream and the chat socket with reconnection, transcripts
// merged by sequence number.

/** Creates an element; strings among the children become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reconnection delay: exponential, capped, with jitter. */
export const backoff = (attempt) =>
  Math.min(15000, 500 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() * 0.5);

export function timeOf(ms) {
  const date = new Date(ms);
  return {
    iso: date.toISOString(),
    short: date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    long: date.toLocaleString(),
  };
}

/** A duration in ms as `1 h 02 min`, `3 min 05 s` or `12 s`. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  return Math.floor(m / 60) + ' h ' + String(m % 60).padStart(2, '0') + ' min';
}

export function sizeOf(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return bytes + ' B';
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KB';
  return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
}

/** An http(s) URL as a string, or null for anything else. */
export function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Text with its http(s) links as anchors, built node by node. */
export function linkified(text) {
  const parts = [];
  const pattern = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const href = safeUrl(match[0]);
    if (!href) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** The `{code, message}` of a refused call. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---------------------------------------------------------------- account

const AUTH_KEY = 'parley-desktop';

/** The signed-in account: `{token, account}`, kept in sessionStorage. */
export const auth = {
  token: null,
  account: null,
  load() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(AUTH_KEY) || 'null');
      if (saved && saved.token) {
        this.token = saved.token;
        this.account = saved.account;
        return true;
      }
    } catch {
      /* nothing usable stored */
    }
    return false;
  },
  save(token, account) {
    this.token = token;
    this.account = account;
    sessionStorage.setItem(AUTH_KEY, JSON.stringify({ token, account }));
  },
  clear() {
    this.token = null;
    this.account = null;
    sessionStorage.removeItem(AUTH_KEY);
  },
};

let onUnauthorized = () => {};

/** What to do when the token is refused (expired, signed out elsewhere). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Calls the API with the account's token; the JSON answer (null for 204). */
export async function api(method, path, options = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, options.headers);
  if (auth.token && options.auth !== false) headers.Authorization = 'Bearer ' + auth.token;
  const init = { method, headers, cache: 'no-store', signal: options.signal };
  if (options.raw !== undefined) init.body = options.raw;
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(
      response.status,
      (data && data.code) || 'http-' + response.status,
      (data && data.message) || response.statusText || 'request failed',
    );
    if (response.status === 401 && options.auth !== false) onUnauthorized(error);
    throw error;
  }
  return data;
}

/**
 * Wires a sign-in form: on success stores the token and calls `done(account)`.
 * `roles` lists the roles allowed to use the page.
 */
function setupSignIn({ form, id, password, error, submit, roles, done }) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const who = id.value.trim();
    if (!who || !password.value) {
      error.textContent = 'Enter your account id and password.';
      error.hidden = false;
      (who ? password : id).focus();
      return;
    }
    submit.disabled = true;
    try {
      const session = await api('POST', '/v1/sessions', {
        body: { id: who, password: password.value },
        auth: false,
      });
      const account = session.agent;
      if (roles && !roles.includes(account.role)) {
        auth.token = session.token;
        await api('DELETE', '/v1/sessions/current').catch(() => {});
        auth.clear();
        throw new ApiError(403, 'forbidden', 'This page is for ' + roles.join(' or ') + ' accounts.');
      }
      auth.save(session.token, account);
      password.value = '';
      done(account);
    } catch (err) {
      error.textContent =
        err.code === 'bad-credentials' ? 'Unknown account or wrong password.' : err.message;
      error.hidden = false;
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * The sign-in life of a page: the sign-in form (the elements `sign-in-form`,
 * `-id`, `-password`, `-error` and `-submit` both desktop pages have), a
 * session that ends on the server (any 401 while `running()`), and
 * resuming a saved session at load. `start(account)` shows the page for an
 * account; `stop()` hides it. Returns `showSignIn(message)`, for the
 * page's own sign-out.
 */
export function signInFlow({ roles, start, stop, running }) {
  const element = (name) => document.getElementById('sign-in-' + name);
  const [form, id, password, error, submit] = ['form', 'id', 'password', 'error', 'submit'].map(element);
  const showSignIn = (message) => {
    stop();
    error.hidden = !message;
    error.textContent = message || '';
    id.focus();
  };
  const begin = (account) =>
    start(account).catch((err) => {
      auth.clear();
      showSignIn(err.status === 401 ? 'Your session has ended. Sign in again.' : 'Could not start: ' + err.message);
    });
  setupSignIn({ form, id, password, error, submit, roles, done: begin });
  whenUnauthorized(() => {
    if (!running()) return;
    auth.clear();
    showSignIn('Your session has ended. Sign in again.');
  });
  if (auth.load() && auth.account && (!roles || roles.includes(auth.account.role))) begin(auth.account);
  else showSignIn();
  return showSignIn;
}

/** Ends the session on the server (best effort) and forgets the token. */
export async function signOut() {
  if (auth.token) await api('DELETE', '/v1/sessions/current').catch(() => {});
  auth.clear();
}

// ----------------------------------------------------------------- events

/** The newest event's seq, to follow the stream from now. */
export async function eventCursor() {
  try {
    const answer = await api('GET', '/v1/events/cursor');
    if (answer && Number.isFinite(answer.seq)) return answer.seq;
  } catch (err) {
    if (err.status === 401) throw err;
  }
  // Without the cursor endpoint: page through the log to its end.
  let after = 0;
  for (;;) {
    const page = await api('GET', '/v1/events?after=' + after + '&limit=1000');
    if (!Array.isArray(page) || page.length === 0) return after;
    after = page[page.length - 1].seq;
  }
}

/**
 * Follows `GET /v1/events/stream` (Server-Sent Events read with fetch, so
 * the token goes in a header and every event kind is seen) from `after`,
 * resuming after the last event on every reconnection. Returns a stop
 * function.
 */
export function followEvents(after, onEvent, onStatus = () => {}) {
  let cursor = after;
  let stopped = false;
  let controller = null;
  (async () => {
    let attempt = 0;
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch('/v1/events/stream?after=' + cursor, {
          headers: { Authorization: 'Bearer ' + auth.token, Accept: 'text/event-stream' },
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401) {
          onUnauthorized(new ApiError(401, 'unauthorized', 'the session has ended'));
          return;
        }
        if (!response.ok || !response.body) throw new Error('event stream: ' + response.status);
        attempt = 0;
        onStatus(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).replace(/^ /, ''))
              .join('\n');
            if (!data) continue;
            let event;
            try {
              event = JSON.parse(data);
            } catch {
              continue;
            }
            if (typeof event.seq === 'number') {
              if (event.seq <= cursor) continue;
              cursor = event.seq;
            }
            try {
              onEvent(event);
            } catch (err) {
              console.error('handling event', event, err);
            }
          }
        }
      } catch (err) {
        if (stopped) return;
        if (!(err && err.name === 'AbortError')) console.warn('event stream', err);
      }
      if (stopped) return;
      onStatus(false);
      await sleep(backoff(attempt++));
    }
  })();
  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}

/**
 * The account's chat socket (`/v1/chats/ws`), reopened with backoff when it
 * drops. `onOpen(reopened)` lets the page re-read what it may have missed.
 */
export class ChatSocket {
  constructor({ onFrame, onOpen = () => {}, onStatus = () => {} }) {
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onStatus = onStatus;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.opens = 0;
    this.timer = null;
    this.ref = 0;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(
      scheme + '//' + location.host + '/v1/chats/ws?token=' + encodeURIComponent(auth.token),
    );
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.attempt = 0;
      this.onStatus(true);
      this.onOpen(this.opens++ > 0);
    });
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      try {
        this.onFrame(frame);
      } catch (err) {
        console.error('handling frame', frame, err);
      }
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.onStatus(false);
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt++));
    });
  }

  get open() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the socket is open; false otherwise. */
  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Reconnects now (e.g. to pick up a chat joined since it opened). */
  reconnect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}

// ------------------------------------------------------------ transcripts

/**
 * A transcript in an `<ol>`: messages added once each, in `seq` order.
 * `me` is the viewer's account id; `fileHref(file)` the link of a file.
 */
export class Transcript {
  constructor(list, { me, fileHref, onAdded = () => {} }) {
    this.list = list;
    this.me = me;
    this.fileHref = fileHref;
    this.onAdded = onAdded;
    this.seqs = new Set();
  }

  has(seq) {
    return this.seqs.has(seq);
  }

  add(message) {
    if (!message || typeof message.seq !== 'number' || this.seqs.has(message.seq)) return false;
    this.seqs.add(message.seq);
    const el = this.render(message);
    const later = Array.from(this.list.children).find((li) => Number(li.dataset.seq) > message.seq);
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    this.list.insertBefore(el, later || null);
    if (nearBottom || !later) this.list.scrollTop = this.list.scrollHeight;
    this.onAdded(message);
    return true;
  }

  addAll(messages) {
    for (const message of messages || []) this.add(message);
  }

  who(message) {
    const from = message.from || {};
    if (from.id && from.id === this.me) return 'You';
    if (from.role === 'customer') return (from.name || 'Customer') + ' (customer)';
    if (from.role === 'supervisor') return (from.name || from.id || 'Supervisor') + ' (supervisor)';
    return from.name || from.id || 'Agent';
  }

  body(message) {
    if (message.kind === 'url') {
      const href = safeUrl(message.url || '');
      return h(
        'p',
        { class: 'text' },
        href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, message.url) : message.url || '',
      );
    }
    if (message.kind === 'file' && message.file) {
      const file = message.file;
      return h(
        'p',
        { class: 'text' },
        'File: ',
        h(
          'a',
          { href: this.fileHref(file), target: '_blank', rel: 'noopener noreferrer', download: file.name || 'file' },
          file.name || 'file',
        ),
        ' (' + (file['content-type'] || 'file') + ', ' + sizeOf(file.size) + ')',
      );
    }
    return h('p', { class: 'text' }, linkified(message.text || ''));
  }

  render(message) {
    const when = timeOf(message.at || Date.now());
    const from = message.from || {};
    const role = from.role || 'system';
    const coaching = message.visibility === 'agents';
    const common = {
      'data-seq': message.seq,
      'data-role': role,
      'data-kind': message.kind,
      'data-visibility': message.visibility || 'all',
      'data-testid': 'message',
    };
    if (message.kind === 'system' || role === 'system') {
      return h(
        'li',
        Object.assign({ class: 'message system' }, common),
        h('span', { class: 'visually-hidden' }, 'Notice: '),
        message.text || '',
        ' ',
        h('time', { datetime: when.iso, title: when.long }, when.short),
      );
    }
    const classes = ['message', 'from-' + role];
    if (from.id && from.id === this.me) classes.push('mine');
    if (coaching) classes.push('coaching');
    return h(
      'li',
      Object.assign({ class: classes.join(' ') }, common),
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'who' }, this.who(message)),
        coaching ? h('span', { class: 'tag' }, 'Coaching · not shown to the customer') : null,
        h('time', { datetime: when.iso, title: when.long }, when.short),
      ),
      this.body(message),
    );
  }
}

/**
 * Typing indicator state: who is typing, each expiring after a while in
 * case the "stopped" signal is lost. Calls `render(text)` on change.
 */
export class TypingIndicator {
  constructor(render, expiryMs = 8000) {
    this.render = render;
    this.expiryMs = expiryMs;
    this.people = new Map();
  }

  set(name, typing) {
    if (!name) return;
    clearTimeout(this.people.get(name));
    if (typing) this.people.set(name, setTimeout(() => this.set(name, false), this.expiryMs));
    else this.people.delete(name);
    this.show();
  }

  clear() {
    for (const timer of this.people.values()) clearTimeout(timer);
    this.people.clear();
    this.show();
  }

  show() {
    const names = Array.from(this.people.keys());
    let text = '';
    if (names.length === 1) text = names[0] + ' is typing…';
    else if (names.length > 1) {
      text = names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing…';
    }
    this.render(text);
  }
}

/**
 * Sends "typing" for a text box: started at the first keystroke (repeated
 * every few seconds while typing goes on), stopped after a pause, when the
 * box is emptied or when `stop()` is called (on send).
 */
export class TypingSender {
  constructor(send, { repeatMs = 3000, idleMs = 4000 } = {}) {
    this.send = send;
    this.repeatMs = repeatMs;
    this.idleMs = idleMs;
    this.typing = false;
    this.sentAt = 0;
    this.timer = null;
  }

  input(value) {
    if (!value.trim()) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.typing || now - this.sentAt > this.repeatMs) {
      this.typing = true;
      this.sentAt = now;
      this.send(true);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idleMs);
  }

  stop() {
    clearTimeout(this.timer);
    if (this.typing) {
      this.typing = false;
      this.send(false);
    }
  }
}

/** Announces `text` in the page's polite live log, keeping the last few. */
export function announce(log, text, kind = 'info') {
  const when = timeOf(Date.now());
  const item = h(
    'p',
    { class: 'notice notice-' + kind, 'data-testid': 'notice' },
    h('time', { datetime: when.iso }, when.short),
    ' ',
    text,
  );
  log.prepend(item);
  while (log.children.length > 4) log.lastElementChild.remove();
  // Kept long enough to read, then gone (the log keeps no history).
  setTimeout(() => item.remove(), kind === 'error' ? 15000 : 8000);
}

/**
 * Saves the file at `href` (an API path that needs the token): fetched
 * with it, then handed to the browser from memory as `name`.
 */
export async function saveWithToken(href, name) {
  const response = await fetch(href, {
    headers: { Authorization: 'Bearer ' + auth.token },
    cache: 'no-store',
  });
  if (!response.ok) throw new ApiError(response.status, 'http', 'the file could not be fetched');
  const url = URL.createObjectURL(await response.blob());
  const save = h('a', { href: url, download: name || 'file' });
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Inserts `text` at the caret of `input` (replacing any selection). */
export function insertAtCaret(input, text) {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  const caret = start + text.length;
  input.focus();
  input.setSelectionRange(caret, caret);
}
