// The agent desktop: sign in, chat presence, offers, several chats at once
// with their transcripts, typing, standard responses, transfer and end
// with a disposition. State comes from the REST API once, then live from
// the event stream (offers, transfers, completions) and the chat socket
// (messages, typing).

import {
  ApiError,
  ChatSocket,
  Transcript,
  TypingIndicator,
  TypingSender,
  announce,
  api,
  auth,
  duration,
  eventCursor,
  followEvents,
  h,
  signInFlow,
  signOut,
} from './common.js';

const $ = (id) => document.getElementById(id);

const ui = {
  accountBar: $('account-bar'),
  name: $('agent-name'),
  presence: $('presence'),
  presenceDot: $('presence-dot'),
  connection: $('connection'),
  signOut: $('sign-out'),
  signInView: $('sign-in-view'),
  desk: $('desk'),
  offers: $('offers'),
  noOffers: $('no-offers'),
  tabs: $('chat-tabs'),
  noChats: $('no-chats'),
  panels: $('chat-panels'),
  noChatSelected: $('no-chat-selected'),
  notices: $('notices'),
};

const EMPTY_DIRECTORY = { agents: [], queues: [], dispositions: [], 'not-ready-reasons': [] };

const state = {
  me: null,
  directory: EMPTY_DIRECTORY,
  directoryAt: 0,
  responses: [],
  categories: new Map(),
  presence: {},
  offers: new Map(),
  chats: new Map(),
  selected: null,
  stopEvents: null,
  socket: null,
  links: { events: false, socket: false },
  running: false,
  refresh: null,
};

let domIds = 0;
const nextId = (prefix) => prefix + '-' + ++domIds;

function notify(text, kind) {
  announce(ui.notices, text, kind);
}

function nameOf(agentId) {
  const agent = state.directory.agents.find((a) => a.id === agentId);
  return (agent && agent.name) || agentId;
}

/** A value of the interaction's attached data, as text. */
function attachedText(interaction, key) {
  const list = Array.isArray(interaction && interaction.attached) ? interaction.attached : [];
  const found = list.find((a) => a.key === key);
  if (!found || !found.value) return null;
  const v = found.value;
  return v.text ?? (v.integer !== undefined ? String(v.integer) : null);
}

function updateTitle() {
  let unread = state.offers.size;
  for (const chat of state.chats.values()) unread += chat.unread;
  document.title = (unread ? '(' + unread + ') ' : '') + 'Parley · Agent desktop';
}

function setLink(which, up) {
  state.links[which] = up;
  const all = state.links.events && state.links.socket;
  ui.connection.textContent = all ? 'Connected' : 'Reconnecting…';
  ui.connection.classList.toggle('up', all);
  ui.connection.classList.toggle('down', !all);
}

// --------------------------------------------------------------- presence

function presenceValue(presence) {
  const chat = presence && presence.chat;
  if (!chat) return 'logged-out';
  if (chat.state === 'ready') return 'ready';
  if (chat.state === 'not-ready') return 'not-ready:' + (chat.reason || '');
  return chat.state;
}

function reasonLabel(reason) {
  if (!reason) return 'Not ready';
  const text = reason.replace(/[-_]/g, ' ');
  return 'Not ready · ' + text.charAt(0).toUpperCase() + text.slice(1);
}

function buildPresenceOptions() {
  const options = [h('option', { value: 'ready' }, 'Ready')];
  const reasons = state.directory['not-ready-reasons'] || [];
  if (!reasons.length) options.push(h('option', { value: 'not-ready:' }, 'Not ready'));
  for (const reason of reasons) options.push(h('option', { value: 'not-ready:' + reason }, reasonLabel(reason)));
  options.push(h('option', { value: 'logged-out' }, 'Logged out of chat'));
  ui.presence.replaceChildren(...options);
}

function showPresence(presence) {
  state.presence = presence || {};
  const value = presenceValue(state.presence);
  if (!Array.from(ui.presence.options).some((o) => o.value === value)) {
    let label = value;
    if (value.startsWith('not-ready:')) label = reasonLabel(value.slice(10));
    else if (value === 'after-call-work') label = 'After-call work';
    ui.presence.append(h('option', { value, 'data-dynamic': '' }, label));
  }
  ui.presence.value = value;
  const dotState = value.startsWith('not-ready') ? 'not-ready' : value;
  ui.presenceDot.className = 'presence-dot ' + dotState;
}

async function changePresence() {
  const value = ui.presence.value;
  let body;
  if (value === 'ready') body = { media: ['chat'], state: 'ready' };
  else if (value === 'logged-out') body = { media: ['chat'], state: 'logged-out' };
  else if (value === 'after-call-work') body = { media: ['chat'], state: 'after-call-work' };
  else body = { media: ['chat'], state: 'not-ready', reason: value.slice(10) || undefined };
  ui.presence.disabled = true;
  try {
    const presence = await api('PUT', '/v1/agents/' + encodeURIComponent(state.me.id) + '/presence', { body });
    showPresence(presence);
  } catch (err) {
    notify('Status not changed: ' + err.message, 'error');
    showPresence(state.presence);
  } finally {
    ui.presence.disabled = false;
  }
}

// ------------------------------------------------------------- directory

async function loadDirectory(force = false) {
  if (!force && Date.now() - state.directoryAt < 2000) return;
  state.directoryAt = Date.now();
  try {
    const directory = await api('GET', '/v1/directory');
    state.directory = Object.assign({}, EMPTY_DIRECTORY, directory);
  } catch (err) {
    if (err.status === 401) return;
    state.directory = Object.assign({}, EMPTY_DIRECTORY, state.directory);
  }
  for (const chat of state.chats.values()) chat.fillTargets();
}

async function loadResponses() {
  try {
    const [responses, categories] = await Promise.all([
      api('GET', '/v1/responses'),
      api('GET', '/v1/response-categories'),
    ]);
    state.responses = Array.isArray(responses) ? responses : [];
    state.categories = new Map((Array.isArray(categories) ? categories : []).map((c) => [c.id, c]));
  } catch {
    state.responses = [];
    state.categories = new Map();
  }
}

// The path of a category's names ("Chat / Greetings"), for pick lists.
function categoryPath(id) {
  const names = [];
  const seen = new Set();
  for (let category = state.categories.get(id); category && !seen.has(category.id); ) {
    seen.add(category.id);
    names.unshift(category.name);
    category = category.parent ? state.categories.get(category.parent) : null;
  }
  return names.length ? names.join(' / ') : 'General';
}

// ---------------------------------------------------------------- offers

async function chatDetails(id) {
  try {
    const answer = await api('GET', '/v1/chats/' + encodeURIComponent(id));
    return answer && answer.session ? answer.session : null;
  } catch {
    return null;
  }
}

function addOffer(interaction) {
  if (state.offers.has(interaction.id)) return;
  const titleId = nextId('offer-title');
  const nickname = h('span', null, attachedText(interaction, 'nickname') || 'a customer');
  const subject = h('dd', { 'data-testid': 'offer-subject' }, attachedText(interaction, 'subject') || '—');
  const contact = h('dd', { 'data-testid': 'offer-contact' }, '—');
  const waiting = h('dd', null, '—');
  const accept = h('button', { type: 'button', class: 'button primary', 'data-testid': 'offer-accept' }, 'Accept');
  const reject = h('button', { type: 'button', class: 'button', 'data-testid': 'offer-reject' }, 'Reject');
  const el = h(
    'article',
    { class: 'offer', 'aria-labelledby': titleId, 'data-testid': 'offer', 'data-interaction': interaction.id },
    h('h3', { id: titleId, 'data-testid': 'offer-title' }, 'Chat from ', nickname),
    h(
      'dl',
      null,
      h('dt', null, 'Subject'),
      subject,
      h('dt', null, 'Queue'),
      h('dd', { 'data-testid': 'offer-queue' }, interaction.queue || '—'),
      h('dt', null, 'Contact'),
      contact,
      h('dt', null, 'Waiting'),
      waiting,
    ),
    h('div', { class: 'actions' }, accept, reject),
  );
  const offer = { interaction, el, nickname: nickname.textContent, timer: null, answering: false };
  const since = interaction['submitted-at'] || Date.now();
  const tick = () => {
    waiting.textContent = duration(Date.now() - since);
  };
  tick();
  offer.timer = setInterval(tick, 1000);
  state.offers.set(interaction.id, offer);
  ui.offers.append(el);
  ui.noOffers.hidden = true;
  updateTitle();
  accept.addEventListener('click', () => acceptOffer(interaction.id, accept, reject));
  reject.addEventListener('click', () => rejectOffer(interaction.id, accept, reject));
  chatDetails(interaction.id).then((session) => {
    if (!session || !state.offers.has(interaction.id)) return;
    if (session.nickname) {
      nickname.textContent = session.nickname;
      offer.nickname = session.nickname;
    }
    if (session.subject) subject.textContent = session.subject;
    if (session.email) contact.textContent = session.email;
  });
}

function removeOffer(id, message) {
  const offer = state.offers.get(id);
  if (!offer) return;
  clearInterval(offer.timer);
  const hadFocus = offer.el.contains(document.activeElement);
  offer.el.remove();
  state.offers.delete(id);
  ui.noOffers.hidden = state.offers.size > 0;
  if (message) notify(message.replace('{customer}', offer.nickname));
  if (hadFocus) {
    const next = ui.offers.querySelector('button');
    (next || ui.presence).focus();
  }
  updateTitle();
}

function answering(id, on) {
  const offer = state.offers.get(id);
  if (offer) offer.answering = on;
}

async function acceptOffer(id, ...buttons) {
  buttons.forEach((b) => (b.disabled = true));
  answering(id, true);
  try {
    const interaction = await api('POST', '/v1/interactions/' + encodeURIComponent(id) + '/accept');
    removeOffer(id);
    const chat = openChat(interaction);
    selectChat(chat.id, { focus: 'composer' });
  } catch (err) {
    buttons.forEach((b) => (b.disabled = false));
    answering(id, false);
    if (err.status === 409 || err.status === 404) {
      removeOffer(id, 'The offer from {customer} is no longer available.');
    } else notify('Could not accept: ' + err.message, 'error');
  }
}

async function rejectOffer(id, ...buttons) {
  buttons.forEach((b) => (b.disabled = true));
  const offer = state.offers.get(id);
  const nickname = offer ? offer.nickname : 'the customer';
  answering(id, true);
  try {
    await api('POST', '/v1/interactions/' + encodeURIComponent(id) + '/reject', {
      body: { reason: 'rejected by the agent' },
    });
    removeOffer(id);
    notify('You rejected the chat from ' + nickname + '.');
  } catch (err) {
    buttons.forEach((b) => (b.disabled = false));
    answering(id, false);
    if (err.status === 409 || err.status === 404) removeOffer(id);
    else notify('Could not reject: ' + err.message, 'error');
  }
}

// ----------------------------------------------------------------- chats

class Chat {
  constructor(interaction) {
    this.id = interaction.id;
    this.interaction = interaction;
    this.session = null;
    this.unread = 0;
    this.closed = false;
    this.leaving = false;
    this.customerGone = false;
    const tabId = nextId('chat-tab');
    const panelId = nextId('chat-panel');
    const composerId = nextId('composer');

    // Tab.
    this.tabTitle = h('span', { class: 'tab-name', 'data-testid': 'chat-tab-name' }, this.nickname());
    this.badge = h('span', { class: 'unread', hidden: true, 'data-testid': 'chat-tab-unread' });
    this.tabSub = h('span', { class: 'tab-sub' }, this.subject() || interaction.queue || '');
    this.tabTyping = h('span', { class: 'tab-typing', 'aria-hidden': 'true' });
    this.tab = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: tabId,
        class: 'tab',
        'aria-selected': 'false',
        'aria-controls': panelId,
        tabindex: '-1',
        'data-testid': 'chat-tab',
        'data-interaction': this.id,
      },
      h('span', { class: 'tab-title' }, this.tabTitle, this.badge),
      this.tabSub,
      this.tabTyping,
    );
    this.tab.addEventListener('click', () => selectChat(this.id));
    this.tab.addEventListener('keydown', (e) => tabKeys(e, this));

    // Header.
    this.heading = h('h2', { 'data-testid': 'chat-nickname' }, this.nickname());
    this.facts = h('ul', { class: 'facts', 'data-testid': 'chat-facts' });

    // Transcript.
    this.list = h('ol', {
      class: 'transcript',
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': 'Conversation',
      tabindex: '0',
      'data-testid': 'transcript',
    });
    this.transcript = new Transcript(this.list, {
      me: state.me.id,
      fileHref: (file) =>
        '/v1/chats/' + encodeURIComponent(this.id) + '/files/' + encodeURIComponent(file.id),
      onAdded: (message) => this.arrived(message),
    });
    this.list.addEventListener('click', (e) => downloadFile(e));
    this.typingLine = h('div', { class: 'typing', role: 'status', 'aria-live': 'polite', 'data-testid': 'typing' });
    this.typing = new TypingIndicator((text) => {
      this.typingLine.textContent = text;
      this.tabTyping.textContent = text ? 'typing…' : '';
    });

    // Composer.
    this.input = h('textarea', {
      id: composerId,
      rows: '3',
      maxlength: '4000',
      placeholder: 'Write a reply… (Enter sends, Shift+Enter for a new line)',
      'data-testid': 'composer',
    });
    this.send = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'send' }, 'Send');
    this.fileInput = h('input', { type: 'file', class: 'visually-hidden', id: nextId('file'), 'data-testid': 'file-input' });
    this.attach = h('button', { type: 'button', class: 'button', 'data-testid': 'attach' }, 'Attach a file');
    this.error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'chat-error' });
    const responsesId = nextId('responses');
    this.responses = h('select', { id: responsesId, 'data-testid': 'responses' });
    this.insert = h('button', { type: 'button', class: 'button', 'data-testid': 'insert-response' }, 'Insert');
    this.responseBox = h(
      'span',
      { class: 'row' },
      h('label', { for: responsesId, class: 'visually-hidden' }, 'Standard response'),
      this.responses,
      this.insert,
    );
    this.composer = h(
      'form',
      { class: 'composer', 'aria-label': 'Reply', 'data-testid': 'composer-form' },
      this.error,
      h(
        'div',
        { class: 'row' },
        h('label', { for: composerId, class: 'visually-hidden' }, 'Reply to the customer'),
        this.input,
        this.send,
      ),
      h('div', { class: 'row' }, this.responseBox, this.attach, this.fileInput),
    );
    this.sender = new TypingSender((typing) => this.sendTyping(typing));

    // Actions.
    const targetId = nextId('transfer-target');
    const dispositionId = nextId('disposition');
    this.target = h('select', { id: targetId, 'data-testid': 'transfer-target' });
    this.transferButton = h('button', { type: 'button', class: 'button', 'data-testid': 'transfer' }, 'Transfer');
    this.disposition = h('select', { id: dispositionId, 'data-testid': 'disposition' });
    this.endButton = h('button', { type: 'button', class: 'button danger', 'data-testid': 'end-chat' }, 'End chat');
    this.actions = h(
      'div',
      { class: 'chat-actions' },
      h(
        'fieldset',
        null,
        h('legend', null, 'Transfer'),
        h('label', { for: targetId }, 'To', this.target),
        this.transferButton,
      ),
      h(
        'fieldset',
        null,
        h('legend', null, 'End the chat'),
        h('label', { for: dispositionId }, 'Disposition', this.disposition),
        this.endButton,
      ),
    );
    this.closedBox = h('div', { class: 'chat-closed', role: 'status', hidden: true, 'data-testid': 'chat-closed' });

    this.panel = h(
      'section',
      {
        class: 'chat',
        role: 'tabpanel',
        id: panelId,
        'aria-labelledby': tabId,
        hidden: true,
        'data-testid': 'chat-view',
        'data-interaction': this.id,
      },
      h('header', { class: 'chat-head' }, this.heading, this.facts),
      this.list,
      this.typingLine,
      this.closedBox,
      this.composer,
      this.actions,
    );

    this.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendText();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.sendText();
      }
    });
    this.input.addEventListener('input', () => {
      this.error.hidden = true;
      this.sender.input(this.input.value);
    });
    this.input.addEventListener('blur', () => this.sender.stop());
    this.insert.addEventListener('click', () => this.insertResponse());
    this.attach.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      this.fileInput.value = '';
      if (file) this.sendFile(file);
    });
    this.target.addEventListener('focus', () => loadDirectory());
    this.transferButton.addEventListener('click', () => this.transfer());
    this.endButton.addEventListener('click', () => this.complete());

    this.fillFacts();
    this.fillResponses();
    this.fillTargets();
    this.fillDispositions();
  }

  nickname() {
    return (this.session && this.session.nickname) || attachedText(this.interaction, 'nickname') || 'Customer';
  }

  subject() {
    return (this.session && this.session.subject) || attachedText(this.interaction, 'subject');
  }

  fillFacts() {
    const fact = (label, value, testid) =>
      value ? h('li', { 'data-testid': testid }, label + ': ', h('strong', null, value)) : null;
    this.heading.textContent = this.nickname();
    this.tabTitle.textContent = this.nickname();
    if (!this.closed) this.tabSub.textContent = this.subject() || this.interaction.queue || '';
    this.facts.replaceChildren(
      ...[
        fact('Subject', this.subject(), 'chat-subject'),
        fact('Queue', this.interaction.queue, 'chat-queue'),
        fact('Contact', this.session && this.session.email, 'chat-contact'),
        fact(
          'Also here',
          (this.interaction.parties || []).filter((p) => p !== state.me.id).map(nameOf).join(', '),
          'chat-parties',
        ),
      ].filter(Boolean),
    );
  }

  fillResponses() {
    const byCategory = new Map();
    for (const response of state.responses) {
      const category = categoryPath(response.category);
      if (!byCategory.has(category)) byCategory.set(category, []);
      byCategory.get(category).push(response);
    }
    const sorted = Array.from(byCategory).sort(([a], [b]) => a.localeCompare(b));
    const groups = sorted.map(([category, list]) =>
      h('optgroup', { label: category }, list.map((r) => h('option', { value: r.id }, r.name))),
    );
    this.responses.replaceChildren(h('option', { value: '' }, 'Standard responses…'), ...groups);
    this.responseBox.hidden = state.responses.length === 0;
  }

  fillTargets() {
    const previous = this.target.value;
    const agents = state.directory.agents
      .filter((a) => a.id !== state.me.id)
      .map((a) => {
        const ready = a.ready && a.ready.chat;
        return h('option', { value: 'agent:' + a.id }, (a.name || a.id) + (ready ? ' (ready)' : ' (not ready)'));
      });
    const queues = (state.directory.queues || []).map((q) => h('option', { value: 'queue:' + q }, q));
    this.target.replaceChildren(
      h('option', { value: '' }, 'Choose…'),
      agents.length ? h('optgroup', { label: 'Agents' }, agents) : null,
      queues.length ? h('optgroup', { label: 'Queues' }, queues) : null,
    );
    if (Array.from(this.target.options).some((o) => o.value === previous)) this.target.value = previous;
  }

  fillDispositions() {
    const dispositions = state.directory.dispositions || [];
    this.disposition.replaceChildren(
      ...(dispositions.length
        ? dispositions.map((d) => h('option', { value: d }, d))
        : [h('option', { value: '' }, 'None')]),
    );
  }

  async load() {
    try {
      const answer = await api('GET', '/v1/chats/' + encodeURIComponent(this.id));
      if (answer && answer.session) {
        this.session = answer.session;
        this.fillFacts();
        if (answer.session.ended) this.customerEnded();
      }
      const quiet = this.transcript.seqs.size === 0;
      this.loading = quiet;
      this.transcript.addAll(answer && answer.messages);
      this.loading = false;
    } catch (err) {
      this.loading = false;
      if (err.status !== 401) this.showError('The transcript could not be loaded: ' + err.message);
    }
  }

  arrived(message) {
    const from = message.from || {};
    if (from.name) this.typing.set(from.name, false);
    if (this.loading || from.id === state.me.id || message.kind === 'system') return;
    if (state.selected !== this.id || document.hidden) {
      this.unread += 1;
      this.badge.hidden = false;
      this.badge.textContent = String(this.unread);
      this.badge.setAttribute('aria-label', this.unread + ' unread');
      updateTitle();
    }
  }

  read() {
    this.unread = 0;
    this.badge.hidden = true;
    updateTitle();
  }

  update(interaction) {
    this.interaction = interaction;
    this.fillFacts();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  sendTyping(typing) {
    if (this.closed || this.customerGone) return;
    if (!(state.socket && state.socket.send({ type: 'typing', session: this.id, typing }))) {
      api('POST', '/v1/chats/' + encodeURIComponent(this.id) + '/typing', { body: { typing } }).catch(() => {});
    }
  }

  async sendText() {
    const text = this.input.value.trim();
    if (!text || this.closed) return;
    this.error.hidden = true;
    this.sender.stop();
    this.input.value = '';
    this.send.disabled = true;
    try {
      const message = await api('POST', '/v1/chats/' + encodeURIComponent(this.id) + '/messages', { body: { text } });
      this.transcript.add(message);
    } catch (err) {
      if (!this.input.value) this.input.value = text;
      this.showError('Not sent: ' + err.message);
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }

  async sendFile(file) {
    this.error.hidden = true;
    this.attach.disabled = true;
    try {
      const message = await api(
        'POST',
        '/v1/chats/' + encodeURIComponent(this.id) + '/files?name=' + encodeURIComponent(file.name),
        { raw: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } },
      );
      this.transcript.add(message);
    } catch (err) {
      this.showError('File not sent: ' + err.message);
    } finally {
      this.attach.disabled = false;
    }
  }

  // The server fills in the response's field codes for this chat.
  async insertResponse() {
    const response = state.responses.find((r) => r.id === this.responses.value);
    if (!response) {
      this.responses.focus();
      return;
    }
    let text;
    try {
      const path = '/v1/responses/' + encodeURIComponent(response.id) + '/render';
      text = (await api('POST', path, { body: { interaction: this.id } })).text;
    } catch (err) {
      this.showError('The response could not be inserted: ' + err.message);
      return;
    }
    const input = this.input;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    const caret = start + text.length;
    input.focus();
    input.setSelectionRange(caret, caret);
    this.sender.input(input.value);
    this.responses.value = '';
  }

  async transfer() {
    const value = this.target.value;
    if (!value) {
      this.showError('Choose an agent or a queue to transfer to.');
      this.target.focus();
      return;
    }
    const [kind, target] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
    const body = kind === 'agent' ? { agent: target } : { queue: target };
    const where = kind === 'agent' ? nameOf(target) : 'queue ' + target;
    this.leaving = true;
    this.transferButton.disabled = true;
    try {
      this.sender.stop();
      await api('POST', '/v1/interactions/' + encodeURIComponent(this.id) + '/transfer', { body });
      notify('Chat with ' + this.nickname() + ' transferred to ' + where + '.');
      removeChat(this.id);
    } catch (err) {
      this.leaving = false;
      this.transferButton.disabled = false;
      this.showError(
        err.code === 'agent-unavailable'
          ? where + ' cannot take it now (not ready or no room).'
          : 'Not transferred: ' + err.message,
      );
    }
  }

  async complete() {
    const disposition = this.disposition.value || undefined;
    this.leaving = true;
    this.endButton.disabled = true;
    try {
      this.sender.stop();
      await api('POST', '/v1/interactions/' + encodeURIComponent(this.id) + '/complete', {
        body: disposition ? { disposition } : {},
      });
      notify('Chat with ' + this.nickname() + ' ended' + (disposition ? ' (' + disposition + ').' : '.'));
      removeChat(this.id);
    } catch (err) {
      this.leaving = false;
      this.endButton.disabled = false;
      this.showError('Not ended: ' + err.message);
    }
  }

  /** The customer left, or the session ended: the agent still completes it. */
  customerEnded(reason) {
    if (this.customerGone) return;
    this.customerGone = true;
    this.typing.clear();
    this.input.disabled = true;
    this.send.disabled = true;
    this.attach.disabled = true;
    this.closedBox.hidden = false;
    this.closedBox.replaceChildren(
      h('span', null, 'The customer has left' + (reason ? ' (' + reason + ')' : '') + '. End the chat with a disposition.'),
    );
  }

  /** The chat went away from this agent (transferred, completed elsewhere). */
  close(text) {
    if (this.closed) return;
    this.closed = true;
    this.sender.stop();
    this.typing.clear();
    this.composer.hidden = true;
    this.actions.hidden = true;
    const dismiss = h('button', { type: 'button', class: 'button', 'data-testid': 'chat-dismiss' }, 'Close');
    dismiss.addEventListener('click', () => removeChat(this.id));
    this.closedBox.replaceChildren(h('span', null, text), dismiss);
    this.closedBox.hidden = false;
    this.tab.classList.add('closed');
    this.tabSub.textContent = text;
    notify('Chat with ' + this.nickname() + ': ' + text);
  }

  destroy() {
    this.sender.stop();
    this.typing.clear();
    this.tab.remove();
    this.panel.remove();
  }
}

function openChat(interaction) {
  let chat = state.chats.get(interaction.id);
  if (chat) {
    chat.update(interaction);
    return chat;
  }
  chat = new Chat(interaction);
  state.chats.set(chat.id, chat);
  ui.tabs.append(chat.tab);
  ui.panels.append(chat.panel);
  ui.noChats.hidden = true;
  if (!state.selected) selectChat(chat.id);
  chat.load();
  updateTitle();
  return chat;
}

function removeChat(id) {
  const chat = state.chats.get(id);
  if (!chat) return;
  const wasSelected = state.selected === id;
  const hadFocus = chat.panel.contains(document.activeElement) || chat.tab === document.activeElement;
  chat.destroy();
  state.chats.delete(id);
  ui.noChats.hidden = state.chats.size > 0;
  if (wasSelected) {
    state.selected = null;
    const next = state.chats.keys().next();
    if (!next.done) selectChat(next.value, { focus: hadFocus ? 'tab' : null });
    else {
      ui.noChatSelected.hidden = false;
      if (hadFocus) ui.presence.focus();
    }
  }
  updateTitle();
}

function selectChat(id, { focus } = {}) {
  const chat = state.chats.get(id);
  if (!chat) return;
  state.selected = id;
  for (const other of state.chats.values()) {
    const on = other === chat;
    other.tab.setAttribute('aria-selected', String(on));
    other.tab.tabIndex = on ? 0 : -1;
    other.panel.hidden = !on;
  }
  ui.noChatSelected.hidden = true;
  chat.read();
  chat.list.scrollTop = chat.list.scrollHeight;
  if (focus === 'composer' && !chat.input.disabled) chat.input.focus();
  else if (focus === 'tab') chat.tab.focus();
}

function tabKeys(event, chat) {
  const list = Array.from(state.chats.values());
  const index = list.indexOf(chat);
  let next = null;
  if (event.key === 'ArrowDown' || event.key === 'ArrowRight') next = list[(index + 1) % list.length];
  else if (event.key === 'ArrowUp' || event.key === 'ArrowLeft') next = list[(index - 1 + list.length) % list.length];
  else if (event.key === 'Home') next = list[0];
  else if (event.key === 'End') next = list[list.length - 1];
  if (!next) return;
  event.preventDefault();
  selectChat(next.id, { focus: 'tab' });
}

/** File links need the token: fetched with it, then saved from memory. */
async function downloadFile(event) {
  const link = event.target.closest('a[download]');
  if (!link) return;
  event.preventDefault();
  try {
    const response = await fetch(link.getAttribute('href'), {
      headers: { Authorization: 'Bearer ' + auth.token },
      cache: 'no-store',
    });
    if (!response.ok) throw new ApiError(response.status, 'http', 'the file could not be fetched');
    const url = URL.createObjectURL(await response.blob());
    const save = h('a', { href: url, download: link.getAttribute('download') || 'file' });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    notify('File not downloaded: ' + err.message, 'error');
  }
}

// ---------------------------------------------------------------- events

function closingText(interaction, event) {
  const reason = event && event.data && event.data.reason;
  switch (interaction.state) {
    case 'completed':
      return 'Completed' + (interaction.disposition ? ' (' + interaction.disposition + ')' : '') + '.';
    case 'stopped':
      return 'Stopped' + (reason ? ': ' + reason : '') + '.';
    case 'parked':
      return 'Parked in a workbin.';
    case 'offered':
    case 'accepted':
      return 'Transferred to ' + nameOf(interaction.owner) + '.';
    case 'queued':
    case 'routing':
      return 'Transferred to queue ' + (interaction.queue || '') + '.';
    default:
      return 'No longer yours.';
  }
}

function offerGoneText(interaction, event) {
  const reason = (event && event.data && event.data.reason) || '';
  if (/time/i.test(reason)) return 'The offer from {customer} timed out.';
  if (interaction.state === 'stopped' || interaction.state === 'completed') return 'The chat from {customer} ended.';
  return 'The offer from {customer} was withdrawn.';
}

/** Brings the desktop in line with one interaction's new state. */
function reconcile(interaction, event) {
  if (!interaction || (interaction['media-type'] && interaction['media-type'] !== 'chat')) return;
  const me = state.me.id;
  const mine = interaction.owner === me;
  const party = (interaction.parties || []).includes(me);
  if (interaction.state === 'offered' && mine) addOffer(interaction);
  else if (state.offers.has(interaction.id)) {
    // Answered here (the event may beat the answer to the call), or gone.
    const answered = state.offers.get(interaction.id).answering || (interaction.state === 'accepted' && (mine || party));
    removeOffer(interaction.id, event && !answered ? offerGoneText(interaction, event) : null);
  }
  const chat = state.chats.get(interaction.id);
  if (interaction.state === 'accepted' && (mine || party)) {
    if (chat && !chat.closed) chat.update(interaction);
    else {
      if (chat) removeChat(chat.id);
      openChat(interaction);
    }
  } else if (chat && !chat.closed && !chat.leaving) {
    chat.close(closingText(interaction, event));
  }
}

function onEvent(event) {
  if (event.kind === 'presence') {
    if (event['agent-id'] === state.me.id && event.data) showPresence(event.data.presence);
    return;
  }
  const interaction = event.data && event.data.interaction;
  if (interaction) reconcile(interaction, event);
}

function onFrame(frame) {
  switch (frame.type) {
    case 'message':
    case 'ack': {
      const message = frame.message;
      const chat = message && state.chats.get(message.session);
      if (chat) chat.transcript.add(message);
      break;
    }
    case 'typing': {
      const chat = state.chats.get(frame.session);
      const from = frame.from || {};
      if (chat && from.id !== state.me.id) {
        chat.typing.set(from.name || from.id || 'Someone', !!frame.typing);
      }
      break;
    }
    case 'ended': {
      const chat = state.chats.get(frame.session);
      if (chat) chat.customerEnded(frame.reason);
      break;
    }
    case 'left':
      // Moved away from this agent (e.g. a supervisor's transfer).
      if (frame.interaction) reconcile(frame.interaction, null);
      break;
    case 'resync':
      // The socket fell behind: read the transcripts again.
      for (const chat of state.chats.values()) chat.load();
      break;
    case 'error':
      notify('Chat: ' + (frame.message || frame.code), 'error');
      break;
    default:
      break;
  }
}

// ------------------------------------------------------------ life cycle

async function start(account) {
  state.me = account;
  state.running = true;
  ui.signInView.hidden = true;
  ui.desk.hidden = false;
  ui.accountBar.hidden = false;
  ui.name.textContent = account.name || account.id;
  ui.noOffers.hidden = false;
  ui.noChats.hidden = false;
  await Promise.all([loadDirectory(true), loadResponses()]);
  buildPresenceOptions();
  const me = await api('GET', '/v1/me');
  if (me && me.agent) {
    state.me = Object.assign({}, account, me.agent);
    ui.name.textContent = state.me.name || state.me.id;
  }
  showPresence((me && me.agent && me.agent.presence) || account.presence || {});
  // The cursor first, then the state: what changes in between comes again
  // on the stream and is applied once more, harmlessly.
  const cursor = await eventCursor();
  setLink('events', false);
  setLink('socket', false);
  state.socket = new ChatSocket({
    onFrame,
    onOpen: (reopened) => {
      if (reopened) for (const chat of state.chats.values()) chat.load();
    },
    onStatus: (up) => setLink('socket', up),
  });
  for (const wanted of ['offered', 'accepted']) {
    const list = await api('GET', '/v1/interactions?state=' + wanted + '&limit=100');
    for (const interaction of list || []) reconcile(interaction, null);
  }
  if (!state.running) return;
  state.stopEvents = followEvents(cursor, onEvent, (up) => setLink('events', up));
  state.refresh = setInterval(() => loadDirectory(), 30000);
}

function stop() {
  state.running = false;
  clearInterval(state.refresh);
  if (state.stopEvents) state.stopEvents();
  state.stopEvents = null;
  if (state.socket) state.socket.stop();
  state.socket = null;
  for (const id of Array.from(state.offers.keys())) removeOffer(id);
  for (const id of Array.from(state.chats.keys())) removeChat(id);
  state.selected = null;
  ui.desk.hidden = true;
  ui.accountBar.hidden = true;
  ui.signInView.hidden = false;
  document.title = 'Parley · Agent desktop';
}

ui.presence.addEventListener('change', changePresence);
ui.signOut.addEventListener('click', async () => {
  ui.signOut.disabled = true;
  if (state.me) {
    await api('PUT', '/v1/agents/' + encodeURIComponent(state.me.id) + '/presence', {
      body: { media: ['chat'], state: 'logged-out' },
    }).catch(() => {});
  }
  await signOut();
  ui.signOut.disabled = false;
  showSignIn();
});
document.addEventListener('visibilitychange', () => {
  const chat = state.selected && state.chats.get(state.selected);
  if (!document.hidden && chat) chat.read();
});

const showSignIn = signInFlow({
  roles: ['agent', 'supervisor', 'admin'],
  start,
  stop,
  running: () => state.running,
});
