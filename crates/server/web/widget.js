/*
 * Parley web chat widget.
 *
 * One tag in any page adds a launcher button and a chat panel, isolated in
 * a Shadow DOM:
 *
 *   <script src="https://parley.example/chat/widget.js" async
 *           data-widget="shop" data-queue="inbound" data-title="Chat with us"></script>
 *
 * `data-widget` names the site's `[[chat.widget]]` in the server's
 * settings, which says which queues (`data-queue`) its customers may pick.
 *
 * The server's origin is taken from the script's own `src`. The session
 * (`id`, `key`, last `seq`, the transcript) is kept in sessionStorage, so a
 * reload or a dropped connection resumes the same chat. Messages arrive over
 * the session's WebSocket; when the socket cannot be used the widget falls
 * back to long polling. Every text is rendered as text, never as markup.
 */
(() => {
  'use strict';

  if (window.__parleyChatWidget) return;
  window.__parleyChatWidget = true;

  const script =
    document.currentScript ||
    Array.from(document.scripts).find((s) => /\/chat\/widget\.js(?:[?#]|$)/.test(s.src));
  if (!script || !script.src) return;

  const ORIGIN = new URL(script.src, location.href).origin;
  const WIDGET = script.dataset.widget || null;
  const QUEUE = script.dataset.queue || null;
  const TITLE = script.dataset.title || 'Chat with us';
  const STORE_KEY = 'parley-chat:' + ORIGIN;
  const MAX_STORED_MESSAGES = 300;
  const TYPING_IDLE_MS = 4000;
  const TYPING_REPEAT_MS = 3000;
  const TYPING_EXPIRY_MS = 8000;
  const POLL_WAIT_S = 25;

  // ---------------------------------------------------------------- helpers

  /** Creates an element; strings among the children become text nodes. */
  function h(tag, attrs, ...children) {
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

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Reconnection delay: exponential, capped, with jitter. */
  const backoff = (attempt) =>
    Math.min(15000, 500 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() * 0.5);

  function timeOf(ms) {
    const date = new Date(ms);
    return {
      iso: date.toISOString(),
      short: date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      long: date.toLocaleString(),
    };
  }

  function sizeOf(bytes) {
    if (!Number.isFinite(bytes)) return '';
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  /** An http(s) URL as a string, or null for anything else. */
  function safeUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch {
      return null;
    }
  }

  /** Text with its http(s) links as anchors, built node by node. */
  function linkified(text) {
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

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const FRIENDLY = {
    'file-too-large': 'That file is too large to send.',
    'file-type-refused': 'This type of file cannot be sent.',
    'message-too-long': 'Your message is too long.',
    'message-withheld':
      'Your message was not sent: it seems to contain information that must not be shared here.',
    'session-ended': 'This chat has ended.',
    network: 'The chat service cannot be reached. Check your connection and try again.',
  };

  function describe(error) {
    const friendly = FRIENDLY[error.code];
    if (friendly && error.message && error.message !== friendly && error.code !== 'network') {
      return friendly + ' (' + error.message + ')';
    }
    return friendly || error.message || 'Something went wrong.';
  }

  // ------------------------------------------------------------------ state

  /** @type {{id: string, key: string, seq: number, nickname: string, open: boolean, messages: object[]} | null} */
  let session = load();
  let ended = false;
  let socket = null;
  let mode = 'idle'; // 'socket' | 'poll' | 'idle'
  let attempt = 0;
  let socketFailures = 0;
  let reconnectTimer = null;
  let pollAbort = null;
  let generation = 0; // bumps when a session starts or stops: stale loops quit
  const messages = new Map(); // seq -> message
  const typingPeople = new Map(); // name -> expiry timer
  let typingSent = false;
  let typingSentAt = 0;
  let typingIdleTimer = null;
  let agentNames = [];
  let unread = 0;
  let pendingRef = 0;

  function load() {
    try {
      const raw = sessionStorage.getItem(STORE_KEY);
      const value = raw ? JSON.parse(raw) : null;
      return value && value.id && value.key ? value : null;
    } catch {
      return null;
    }
  }

  function save() {
    if (!session) {
      try {
        sessionStorage.removeItem(STORE_KEY);
      } catch {
        /* storage unavailable: nothing to forget */
      }
      return;
    }
    const kept = Array.from(messages.values()).slice(-MAX_STORED_MESSAGES);
    session.messages = kept;
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(session));
    } catch {
      /* storage full or unavailable: the chat goes on without resume */
    }
  }

  // -------------------------------------------------------------------- API

  async function api(method, path, options = {}) {
    const headers = Object.assign({}, options.headers);
    const init = { method, headers, cache: 'no-store', signal: options.signal, mode: 'cors' };
    if (session && options.key !== false) headers['X-Chat-Key'] = session.key;
    if (options.raw !== undefined) init.body = options.raw;
    else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    let response;
    try {
      response = await fetch(ORIGIN + path, init);
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network', FRIENDLY.network);
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
      throw new ApiError(
        response.status,
        (data && data.code) || 'http-' + response.status,
        (data && data.message) || response.statusText || 'request failed',
      );
    }
    return data;
  }

  const sessionPath = (suffix = '') =>
    '/v1/chat/sessions/' + encodeURIComponent(session.id) + suffix;

  // --------------------------------------------------------------------- UI

  const STYLE = `
:host { all: initial; }
* { box-sizing: border-box; }
.root {
  --accent: #1d4ed8; --accent-dark: #1e3a8a; --ink: #111827; --muted: #4b5563;
  --line: #d1d5db; --paper: #ffffff; --soft: #f3f4f6; --mine: #dbeafe; --danger: #b91c1c;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  display: flex; flex-direction: column; align-items: flex-end; gap: 12px;
}
button, input, textarea { font: inherit; color: inherit; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.launcher {
  display: inline-flex; align-items: center; gap: 8px; border: 0; border-radius: 999px;
  background: var(--accent); color: #fff; padding: 12px 18px; font-weight: 600; cursor: pointer;
  box-shadow: 0 6px 20px rgba(0,0,0,.25); transition: transform .15s ease, background .15s ease;
}
.launcher:hover { background: var(--accent-dark); transform: translateY(-1px); }
.launcher svg { width: 20px; height: 20px; fill: currentColor; }
.badge {
  min-width: 20px; height: 20px; border-radius: 10px; background: #fff; color: var(--accent-dark);
  font-size: 12px; font-weight: 700; display: inline-flex; align-items: center; justify-content: center; padding: 0 6px;
}
.panel {
  width: min(380px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px));
  background: var(--paper); border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.3);
  display: flex; flex-direction: column; overflow: hidden; border: 1px solid var(--line);
  animation: rise .18s ease-out;
}
@keyframes rise { from { opacity: 0; transform: translateY(8px); } to { opacity: 1; transform: none; } }
.panel[hidden], [hidden] { display: none !important; }
header.top {
  background: var(--accent); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 10px;
}
header.top .titles { flex: 1; min-width: 0; }
header.top h2 { font-size: 16px; margin: 0; font-weight: 700; }
header.top .status { font-size: 13px; opacity: .95; margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.icon-button {
  background: transparent; border: 1px solid rgba(255,255,255,.6); color: #fff; border-radius: 8px;
  padding: 4px 10px; cursor: pointer; font-size: 13px;
}
.icon-button:hover { background: rgba(255,255,255,.15); }
.body { flex: 1; min-height: 0; display: flex; flex-direction: column; }
form.prechat { padding: 16px; display: flex; flex-direction: column; gap: 12px; overflow: auto; }
form.prechat p.intro { margin: 0; color: var(--muted); }
label.field { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 14px; }
label.field span.hint { font-weight: 400; color: var(--muted); }
input[type=text], input[type=email], textarea {
  border: 1px solid #9ca3af; border-radius: 8px; padding: 8px 10px; background: #fff; width: 100%;
}
input:focus, textarea:focus { border-color: var(--accent); }
.primary {
  background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 10px 14px;
  font-weight: 600; cursor: pointer;
}
.primary:hover { background: var(--accent-dark); }
.primary:disabled { background: #6b7280; cursor: not-allowed; }
.secondary {
  background: #fff; color: var(--accent-dark); border: 1px solid var(--accent); border-radius: 8px;
  padding: 8px 12px; cursor: pointer; font-weight: 600;
}
.secondary:hover { background: var(--soft); }
.error { color: var(--danger); background: #fef2f2; border: 1px solid #fecaca; border-radius: 8px; padding: 8px 10px; margin: 0; font-size: 14px; }
ol.transcript { list-style: none; margin: 0; padding: 12px; overflow-y: auto; flex: 1; display: flex; flex-direction: column; gap: 8px; background: var(--soft); }
li.msg { max-width: 85%; align-self: flex-start; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 6px 10px; overflow-wrap: anywhere; }
li.msg.mine { align-self: flex-end; background: var(--mine); border-color: #bfdbfe; }
li.msg.pending { opacity: .65; }
li.msg .meta { display: flex; gap: 8px; font-size: 12px; color: var(--muted); }
li.msg .meta .who { font-weight: 700; color: var(--ink); }
li.msg .text { white-space: pre-wrap; margin: 2px 0 0; }
li.msg a { color: var(--accent-dark); }
li.system { align-self: center; color: var(--muted); font-size: 13px; text-align: center; background: transparent; border: 0; padding: 2px 8px; }
li.system.ended { color: var(--ink); font-weight: 700; }
.typing { min-height: 22px; padding: 2px 12px; font-size: 13px; color: var(--muted); font-style: italic; background: var(--soft); }
form.composer { border-top: 1px solid var(--line); padding: 8px; display: flex; flex-direction: column; gap: 6px; }
form.composer .row { display: flex; gap: 6px; align-items: flex-end; }
form.composer textarea { resize: none; height: 44px; max-height: 120px; flex: 1; }
.tools { display: flex; gap: 6px; justify-content: space-between; align-items: center; }
.attach-label { cursor: pointer; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); border: 0; white-space: nowrap; }
.ended-box { border-top: 1px solid var(--line); padding: 12px; display: flex; flex-direction: column; gap: 8px; align-items: stretch; }
.ended-box p { margin: 0; font-weight: 700; text-align: center; }
.conn { font-size: 12px; text-align: center; color: var(--muted); padding: 2px; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; }
}
@media (forced-colors: active) {
  .launcher, .primary { border: 1px solid ButtonText; }
}
`;

  const BUBBLE_ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

  let ui = null;

  function buildUi() {
    const host = h('div', { 'data-parley-chat': '', 'data-testid': 'parley-widget' });
    const shadow = host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet === 'function') {
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
        shadow.adoptedStyleSheets = [sheet];
      } catch {
        shadow.append(h('style', { text: STYLE }));
      }
    } else {
      shadow.append(h('style', { text: STYLE }));
    }

    const panelId = 'parley-chat-panel';
    const badge = h('span', { class: 'badge', hidden: true, 'data-testid': 'chat-unread' });
    const launcherText = h('span', { text: TITLE });
    const launcher = h(
      'button',
      {
        type: 'button',
        class: 'launcher',
        'aria-expanded': 'false',
        'aria-controls': panelId,
        'data-testid': 'chat-launcher',
      },
      launcherText,
      badge,
    );
    const iconHolder = document.createElement('template');
    iconHolder.innerHTML = BUBBLE_ICON; // a constant: no data in it
    launcher.prepend(iconHolder.content.firstChild);

    const status = h('p', { class: 'status', 'data-testid': 'chat-status', 'aria-live': 'polite' });
    const minimise = h(
      'button',
      { type: 'button', class: 'icon-button', 'aria-label': 'Minimise chat', 'data-testid': 'chat-minimise' },
      'Close',
    );
    const header = h(
      'header',
      { class: 'top' },
      h('div', { class: 'titles' }, h('h2', { id: 'parley-chat-title', text: TITLE }), status),
      minimise,
    );

    // Pre-chat form.
    const nickname = h('input', {
      type: 'text',
      id: 'parley-nickname',
      name: 'nickname',
      required: true,
      maxlength: '80',
      autocomplete: 'nickname',
      'data-testid': 'prechat-nickname',
    });
    const email = h('input', {
      type: 'email',
      id: 'parley-email',
      name: 'email',
      maxlength: '200',
      autocomplete: 'email',
      'data-testid': 'prechat-email',
    });
    const subject = h('input', {
      type: 'text',
      id: 'parley-subject',
      name: 'subject',
      maxlength: '200',
      'data-testid': 'prechat-subject',
    });
    const prechatError = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'prechat-error' });
    const start = h('button', { type: 'submit', class: 'primary', 'data-testid': 'prechat-start' }, 'Start chat');
    const prechat = h(
      'form',
      { class: 'prechat', 'data-testid': 'prechat', novalidate: true, 'aria-label': 'Start a chat' },
      h('p', { class: 'intro' }, 'Tell us who you are and an agent will be with you shortly.'),
      h('label', { class: 'field', for: 'parley-nickname' }, 'Your name', nickname),
      h(
        'label',
        { class: 'field', for: 'parley-email' },
        h('span', null, 'E-mail ', h('span', { class: 'hint' }, '(optional, to find this chat later)')),
        email,
      ),
      h(
        'label',
        { class: 'field', for: 'parley-subject' },
        h('span', null, 'Subject ', h('span', { class: 'hint' }, '(optional)')),
        subject,
      ),
      prechatError,
      start,
    );

    // Conversation.
    const transcript = h('ol', {
      class: 'transcript',
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': 'Conversation',
      tabindex: '0',
      'data-testid': 'chat-transcript',
    });
    const typing = h('div', { class: 'typing', role: 'status', 'aria-live': 'polite', 'data-testid': 'chat-typing' });
    const conn = h('div', { class: 'conn', role: 'status', hidden: true, 'data-testid': 'chat-connection' });
    const input = h('textarea', {
      id: 'parley-input',
      rows: '2',
      maxlength: '4000',
      placeholder: 'Write a message…',
      'aria-describedby': 'parley-input-help',
      'data-testid': 'chat-input',
    });
    const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'chat-send' }, 'Send');
    const fileInput = h('input', {
      type: 'file',
      id: 'parley-file',
      class: 'visually-hidden',
      'data-testid': 'chat-file-input',
    });
    const attach = h(
      'button',
      { type: 'button', class: 'secondary', 'data-testid': 'chat-attach', 'aria-controls': 'parley-file' },
      'Attach a file',
    );
    const leave = h('button', { type: 'button', class: 'secondary', 'data-testid': 'chat-end' }, 'End chat');
    const sendError = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'chat-error' });
    const composer = h(
      'form',
      { class: 'composer', 'data-testid': 'chat-composer', 'aria-label': 'Send a message' },
      sendError,
      h(
        'div',
        { class: 'row' },
        h('label', { class: 'visually-hidden', for: 'parley-input' }, 'Message'),
        input,
        send,
      ),
      h('span', { id: 'parley-input-help', class: 'visually-hidden' }, 'Enter sends, Shift+Enter starts a new line.'),
      h('div', { class: 'tools' }, h('span', null, attach, fileInput), leave),
    );
    const endedText = h('p', { 'data-testid': 'chat-ended-text' }, 'Chat ended');
    const again = h('button', { type: 'button', class: 'primary', 'data-testid': 'chat-new' }, 'Start a new chat');
    const endedBox = h('div', { class: 'ended-box', hidden: true, 'data-testid': 'chat-ended' }, endedText, again);
    const conversation = h(
      'div',
      { class: 'body', hidden: true, 'data-testid': 'conversation' },
      transcript,
      typing,
      conn,
      composer,
      endedBox,
    );

    const panel = h(
      'section',
      {
        id: panelId,
        class: 'panel',
        role: 'dialog',
        'aria-modal': 'false',
        'aria-labelledby': 'parley-chat-title',
        hidden: true,
        'data-testid': 'chat-panel',
      },
      header,
      h('div', { class: 'body' }, prechat, conversation),
    );
    const root = h('div', { class: 'root' }, panel, launcher);
    shadow.append(root);
    document.body.append(host);

    ui = {
      host, shadow, launcher, launcherText, badge, panel, status, minimise, prechat, nickname, email,
      subject, prechatError, start, conversation, transcript, typing, conn, composer, input, send,
      fileInput, attach, leave, sendError, endedBox, endedText, again,
    };

    launcher.addEventListener('click', () => setOpen(ui.panel.hidden));
    minimise.addEventListener('click', () => setOpen(false));
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        setOpen(false);
      }
    });
    prechat.addEventListener('submit', (e) => {
      e.preventDefault();
      startChat();
    });
    composer.addEventListener('submit', (e) => {
      e.preventDefault();
      sendText();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        sendText();
      }
    });
    input.addEventListener('input', onInput);
    input.addEventListener('blur', () => stopTyping());
    attach.addEventListener('click', () => fileInput.click());
    fileInput.addEventListener('change', () => {
      const file = fileInput.files && fileInput.files[0];
      fileInput.value = '';
      if (file) sendFile(file);
    });
    leave.addEventListener('click', leaveChat);
    again.addEventListener('click', newChat);
  }

  function setOpen(open, { focus = true } = {}) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute('aria-expanded', String(open));
    ui.launcherText.textContent = open ? 'Hide chat' : TITLE;
    if (session) {
      session.open = open;
      save();
    }
    if (open) {
      unread = 0;
      showUnread();
      const target = session ? (ended ? ui.again : ui.input) : ui.nickname;
      if (focus) requestAnimationFrame(() => target.focus());
      scrollToEnd();
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  function showUnread() {
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = String(unread);
    ui.badge.setAttribute('aria-label', unread + ' new ' + (unread === 1 ? 'message' : 'messages'));
  }

  function setStatus(text) {
    ui.status.textContent = text;
  }

  function setConnection(text) {
    ui.conn.hidden = !text;
    ui.conn.textContent = text || '';
  }

  function showConversation() {
    ui.prechat.hidden = true;
    ui.conversation.hidden = false;
    ui.composer.hidden = ended;
    ui.endedBox.hidden = !ended;
  }

  function showPrechat() {
    ui.prechat.hidden = false;
    ui.conversation.hidden = true;
    ui.prechatError.hidden = true;
    ui.start.disabled = false;
    setStatus('We usually answer within minutes');
  }

  function scrollToEnd() {
    const t = ui.transcript;
    t.scrollTop = t.scrollHeight;
  }

  // ---------------------------------------------------------------- messages

  function senderName(message) {
    const from = message.from || {};
    if (from.role === 'customer') return 'You';
    if (from.role === 'supervisor') return (from.name || 'Supervisor') + ' (supervisor)';
    return from.name || (from.role === 'agent' ? 'Agent' : 'Parley');
  }

  function fileLink(file) {
    const href =
      ORIGIN + sessionPath('/files/' + encodeURIComponent(file.id)) + '?key=' + encodeURIComponent(session.key);
    return h(
      'a',
      { href, target: '_blank', rel: 'noopener noreferrer', download: file.name || 'file' },
      (file.name || 'file') + (file.size !== undefined ? ' (' + sizeOf(file.size) + ')' : ''),
    );
  }

  function messageBody(message) {
    if (message.kind === 'url') {
      const href = safeUrl(message.url || '');
      return h(
        'p',
        { class: 'text' },
        href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, message.url) : message.url || '',
      );
    }
    if (message.kind === 'file' && message.file) {
      return h('p', { class: 'text' }, 'Sent a file: ', fileLink(message.file));
    }
    return h('p', { class: 'text' }, linkified(message.text || ''));
  }

  function renderMessage(message) {
    const when = timeOf(message.at || Date.now());
    const role = (message.from && message.from.role) || 'system';
    if (message.kind === 'system' || role === 'system') {
      return h(
        'li',
        {
          class: 'system',
          'data-seq': message.seq,
          'data-kind': 'system',
          'data-role': role,
          'data-testid': 'chat-message',
        },
        h('span', { class: 'visually-hidden' }, 'Notice: '),
        message.text || '',
        ' ',
        h('time', { datetime: when.iso, title: when.long, class: 'visually-hidden' }, when.short),
      );
    }
    const mine = role === 'customer';
    return h(
      'li',
      {
        class: 'msg' + (mine ? ' mine' : ''),
        'data-seq': message.seq,
        'data-kind': message.kind,
        'data-role': role,
        'data-testid': 'chat-message',
      },
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'who' }, senderName(message)),
        h('time', { datetime: when.iso, title: when.long }, when.short),
      ),
      messageBody(message),
    );
  }

  /**
   * Adds a stored message once, in `seq` order. Only messages that came
   * through the stream (socket or long poll) move its cursor: the answer to
   * one's own message may carry a later `seq` than messages not yet seen.
   */
  function addMessage(message, options = {}) {
    if (!message || typeof message.seq !== 'number') return;
    if (options.streamed && session && message.seq > (session.seq || 0)) {
      session.seq = message.seq;
      if (messages.has(message.seq)) save();
    }
    if (message.visibility && message.visibility !== 'all') return;
    if (messages.has(message.seq)) return;
    messages.set(message.seq, message);
    const el = renderMessage(message);
    const after = Array.from(ui.transcript.querySelectorAll('li[data-seq]')).find(
      (li) => Number(li.dataset.seq) > message.seq,
    );
    const firstPending = ui.transcript.querySelector('li.pending');
    ui.transcript.insertBefore(el, after || firstPending || null);
    const role = message.from && message.from.role;
    if (role === 'agent' || role === 'supervisor') {
      agentJoined(message.from.name);
      clearTyping(message.from.name);
    }
    // Joins, transfers and departures come as notices: who is here now?
    if (message.kind === 'system' && !options.quiet) refreshAgents();
    if (!options.quiet) {
      if (ui.panel.hidden && role !== 'customer') {
        unread += 1;
        showUnread();
      }
      scrollToEnd();
      save();
    }
  }

  function agentJoined(name) {
    if (name && !agentNames.includes(name)) agentNames = agentNames.concat(name);
    showAgents();
  }

  function showAgents() {
    if (!ended) setStatus(agentNames.length ? 'Chatting with ' + agentNames.join(', ') : 'Waiting for an agent…');
  }

  let agentsTimer = null;

  /** Reads who is in the chat now (soon, once for a burst of notices). */
  function refreshAgents() {
    clearTimeout(agentsTimer);
    const mine = generation;
    agentsTimer = setTimeout(async () => {
      if (!session || ended || mine !== generation) return;
      try {
        const info = await api('GET', sessionPath());
        if (mine !== generation || !info || !Array.isArray(info.agents)) return;
        agentNames = info.agents.slice();
        showAgents();
      } catch {
        /* the stream tells if the chat ended */
      }
    }, 150);
  }

  function notice(text, extraClass) {
    const when = timeOf(Date.now());
    const li = h(
      'li',
      { class: 'system' + (extraClass ? ' ' + extraClass : ''), 'data-testid': 'chat-notice' },
      text,
      ' ',
      h('time', { datetime: when.iso, class: 'visually-hidden' }, when.short),
    );
    ui.transcript.append(li);
    scrollToEnd();
  }

  // ----------------------------------------------------------------- typing

  function renderTyping() {
    const names = Array.from(typingPeople.keys());
    let text = '';
    if (names.length === 1) text = names[0] + ' is typing…';
    else if (names.length > 1) text = names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing…';
    ui.typing.textContent = text;
  }

  function setTyping(name, typing) {
    if (!name) return;
    clearTimeout(typingPeople.get(name));
    if (typing) {
      typingPeople.set(
        name,
        setTimeout(() => clearTyping(name), TYPING_EXPIRY_MS),
      );
    } else typingPeople.delete(name);
    renderTyping();
  }

  function clearTyping(name) {
    if (!typingPeople.has(name)) return;
    clearTimeout(typingPeople.get(name));
    typingPeople.delete(name);
    renderTyping();
  }

  function clearAllTyping() {
    for (const timer of typingPeople.values()) clearTimeout(timer);
    typingPeople.clear();
    renderTyping();
  }

  /** Whose typing the long poll reports (names; the customer's own is left out). */
  function setTypingNames(names) {
    const wanted = new Set((names || []).filter((n) => n && n !== (session && session.nickname)));
    for (const name of Array.from(typingPeople.keys())) if (!wanted.has(name)) clearTyping(name);
    for (const name of wanted) setTyping(name, true);
  }

  function sendTyping(typing) {
    if (!session || ended) return;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'typing', typing }));
    } else {
      api('POST', sessionPath('/typing'), { body: { typing } }).catch(() => {});
    }
  }

  function onInput() {
    ui.sendError.hidden = true;
    if (!ui.input.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (!typingSent || now - typingSentAt > TYPING_REPEAT_MS) {
      typingSent = true;
      typingSentAt = now;
      sendTyping(true);
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (typingSent) {
      typingSent = false;
      sendTyping(false);
    }
  }

  // ---------------------------------------------------------------- sending

  function showError(target, error) {
    target.textContent = describe(error);
    target.hidden = false;
  }

  async function sendText() {
    const text = ui.input.value.trim();
    if (!text || !session || ended) return;
    ui.sendError.hidden = true;
    stopTyping();
    ui.input.value = '';
    const pending = h(
      'li',
      { class: 'msg mine pending', 'data-testid': 'chat-pending', 'data-ref': 'p' + ++pendingRef },
      h('div', { class: 'meta' }, h('span', { class: 'who' }, 'You'), h('span', null, 'sending…')),
      h('p', { class: 'text' }, text),
    );
    ui.transcript.append(pending);
    scrollToEnd();
    try {
      const stored = await api('POST', sessionPath('/messages'), { body: { text } });
      pending.remove();
      addMessage(stored);
    } catch (err) {
      pending.remove();
      if (err.status === 410) {
        chatEnded();
        return;
      }
      if (!ui.input.value) ui.input.value = text;
      showError(ui.sendError, err);
    }
  }

  async function sendFile(file) {
    if (!session || ended) return;
    ui.sendError.hidden = true;
    ui.attach.disabled = true;
    const label = ui.attach.textContent;
    ui.attach.textContent = 'Sending ' + file.name + '…';
    try {
      const stored = await api('POST', sessionPath('/files') + '?name=' + encodeURIComponent(file.name), {
        raw: file,
        headers: { 'Content-Type': file.type || 'application/octet-stream' },
      });
      addMessage(stored);
    } catch (err) {
      if (err.status === 410) chatEnded();
      else showError(ui.sendError, err);
    } finally {
      ui.attach.disabled = false;
      ui.attach.textContent = label;
    }
  }

  // ------------------------------------------------------------ connection

  function handleFrame(frame) {
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'message':
        addMessage(frame.message, { streamed: true });
        break;
      case 'ack':
        addMessage(frame.message);
        break;
      case 'typing': {
        const from = frame.from || {};
        if (from.role !== 'customer') setTyping(from.name || 'The agent', !!frame.typing);
        break;
      }
      case 'ended':
        chatEnded(frame.reason);
        break;
      case 'error':
        showError(ui.sendError, new ApiError(0, frame.code, frame.message));
        break;
      default:
        break;
    }
  }

  function connect() {
    if (!session || ended) return;
    clearTimeout(reconnectTimer);
    if (mode === 'poll') return;
    openSocket();
  }

  function openSocket() {
    const mine = generation;
    const url =
      ORIGIN.replace(/^http/, 'ws') +
      sessionPath('/ws') +
      '?key=' +
      encodeURIComponent(session.key) +
      '&after=' +
      (session.seq || 0);
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      socketFailed(mine, false);
      return;
    }
    socket = ws;
    mode = 'socket';
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      attempt = 0;
      socketFailures = 0;
      setConnection('');
    });
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      handleFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = null;
      socketFailed(mine, opened);
    });
  }

  async function socketFailed(mine, hadOpened) {
    if (mine !== generation || ended || !session) return;
    if (!hadOpened) socketFailures += 1;
    clearAllTyping();
    // Why did it close? The session may have ended or gone.
    const alive = await checkSession(mine);
    if (!alive || mine !== generation) return;
    if (socketFailures >= 2) {
      startPolling(mine);
      return;
    }
    setConnection('Reconnecting…');
    reconnectTimer = setTimeout(() => {
      if (mine === generation) openSocket();
    }, backoff(attempt++));
  }

  /** Reads the session: false when it has ended or is gone. */
  async function checkSession(mine) {
    try {
      const info = await api('GET', sessionPath());
      if (mine !== generation) return false;
      if (info && Array.isArray(info.agents)) {
        agentNames = info.agents.slice();
        showAgents();
      }
      if (info && info.ended) {
        chatEnded();
        return false;
      }
      return true;
    } catch (err) {
      if (mine !== generation) return false;
      if (err.status === 410) {
        chatEnded();
        return false;
      }
      if (err.status === 404 || err.status === 403) {
        sessionLost();
        return false;
      }
      return true; // unreachable for now: keep trying
    }
  }

  async function startPolling(mine) {
    mode = 'poll';
    setConnection('');
    let socketRetryAt = Date.now() + 120000;
    while (mine === generation && session && !ended) {
      pollAbort = new AbortController();
      try {
        const answer = await api(
          'GET',
          sessionPath('/messages') + '?after=' + (session.seq || 0) + '&wait=' + POLL_WAIT_S,
          { signal: pollAbort.signal },
        );
        if (mine !== generation) return;
        attempt = 0;
        setConnection('');
        for (const message of (answer && answer.messages) || []) addMessage(message, { streamed: true });
        setTypingNames(answer && answer.typing);
        if (answer && answer.ended) {
          chatEnded();
          return;
        }
        if (Date.now() > socketRetryAt) {
          // Try the socket again now and then; back to polling if it fails.
          socketFailures = 1;
          socketRetryAt = Date.now() + 120000;
          mode = 'socket';
          openSocket();
          return;
        }
      } catch (err) {
        if (mine !== generation) return;
        if (err && err.name === 'AbortError') return;
        if (err.status === 410) {
          chatEnded();
          return;
        }
        if (err.status === 404 || err.status === 403) {
          sessionLost();
          return;
        }
        setConnection('Reconnecting…');
        await sleep(backoff(attempt++));
      }
    }
  }

  function disconnect() {
    generation += 1;
    clearTimeout(reconnectTimer);
    if (socket) {
      const ws = socket;
      socket = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    if (pollAbort) pollAbort.abort();
    mode = 'idle';
    attempt = 0;
    socketFailures = 0;
    setConnection('');
  }

  // -------------------------------------------------------------- lifecycle

  async function startChat() {
    const nickname = ui.nickname.value.trim();
    ui.prechatError.hidden = true;
    if (!nickname) {
      ui.prechatError.textContent = 'Please enter your name.';
      ui.prechatError.hidden = false;
      ui.nickname.setAttribute('aria-invalid', 'true');
      ui.nickname.focus();
      return;
    }
    ui.nickname.removeAttribute('aria-invalid');
    const email = ui.email.value.trim();
    if (email && !ui.email.checkValidity()) {
      ui.prechatError.textContent = 'Please check your e-mail address.';
      ui.prechatError.hidden = false;
      ui.email.setAttribute('aria-invalid', 'true');
      ui.email.focus();
      return;
    }
    ui.email.removeAttribute('aria-invalid');
    const body = { nickname };
    if (email) body.email = email;
    const subject = ui.subject.value.trim();
    if (subject) body.subject = subject;
    if (WIDGET) body.widget = WIDGET;
    if (QUEUE) body.queue = QUEUE;
    ui.start.disabled = true;
    ui.start.textContent = 'Starting…';
    try {
      const started = await api('POST', '/v1/chat/sessions', { body, key: false });
      disconnect();
      messages.clear();
      ui.transcript.replaceChildren();
      ended = false;
      agentNames = [];
      session = { id: started.id, key: started.key, seq: 0, nickname, open: true, messages: [] };
      save();
      showConversation();
      setStatus('Waiting for an agent…');
      ui.input.focus();
      connect();
    } catch (err) {
      ui.prechatError.textContent = describe(err);
      ui.prechatError.hidden = false;
    } finally {
      ui.start.disabled = false;
      ui.start.textContent = 'Start chat';
    }
  }

  function chatEnded(reason, options = {}) {
    if (ended) return;
    ended = true;
    disconnect();
    clearAllTyping();
    stopTypingTimers();
    ui.composer.hidden = true;
    ui.endedBox.hidden = false;
    ui.endedText.textContent = 'Chat ended';
    // The server's own notice (who ended it) is in the transcript already;
    // one's own leaving is told here.
    if (reason && options.notice) notice(reason, 'ended');
    setStatus('Chat ended');
    // The session is over: a reload starts afresh.
    session = null;
    save();
    if (!ui.panel.hidden) ui.again.focus();
    else {
      unread += 1;
      showUnread();
    }
  }

  function stopTypingTimers() {
    clearTimeout(typingIdleTimer);
    typingSent = false;
  }

  /** Drops the session and its transcript from the panel and storage. */
  function forgetSession() {
    disconnect();
    session = null;
    save();
    messages.clear();
    ui.transcript.replaceChildren();
    ended = false;
  }

  function sessionLost() {
    // Unknown id or wrong key: nothing to resume.
    forgetSession();
    showPrechat();
  }

  async function leaveChat() {
    if (!session || ended) return;
    ui.leave.disabled = true;
    stopTyping();
    try {
      await api('POST', sessionPath('/leave'));
      chatEnded('You left the chat', { notice: true });
    } catch (err) {
      if (err.status === 410 || err.status === 404) chatEnded();
      else showError(ui.sendError, err);
    } finally {
      ui.leave.disabled = false;
    }
  }

  function newChat() {
    forgetSession();
    agentNames = [];
    ui.composer.hidden = false;
    ui.endedBox.hidden = true;
    showPrechat();
    ui.nickname.focus();
  }

  function resume() {
    ended = false;
    for (const message of session.messages || []) addMessage(message, { quiet: true });
    showConversation();
    setStatus('Reconnecting…');
    // Reopened as it was, without taking the focus from the page.
    if (session.open) setOpen(true, { focus: false });
    scrollToEnd();
    const mine = generation;
    checkSession(mine).then((alive) => {
      if (!alive || mine !== generation) return;
      if (!agentNames.length) setStatus('Waiting for an agent…');
      connect();
    });
  }

  function mount() {
    buildUi();
    if (session) resume();
    else showPrechat();
    window.addEventListener('online', () => {
      if (session && !ended && mode === 'socket' && !socket) {
        attempt = 0;
        connect();
      }
    });
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
