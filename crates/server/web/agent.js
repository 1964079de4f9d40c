// The agent desktop: sign in, presence, offers, and several conversations
// at once, chats (`chat-view.js`) and e-mails (`email.js`), each in its
// tab. State comes from the REST API once, then live from the event stream
// (offers, transfers, completions, e-mail statuses) and the chat socket
// (messages, typing).

import {
  ChatSocket,
  announce,
  api,
  duration,
  eventCursor,
  followEvents,
  h,
  saveWithToken,
  signInFlow,
  signOut,
} from './common.js';
import { nextId } from './case.js';
import { attachedText } from './chat-view.js';
import { views } from './views.js';

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

function notify(text, kind) {
  announce(ui.notices, text, kind);
}

function nameOf(agentId) {
  const agent = state.directory.agents.find((a) => a.id === agentId);
  return (agent && agent.name) || agentId;
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

// One status for every media type the agent handles (chat, e-mail...):
// shown from chat's, or the first one logged in.
function presenceValue(presence) {
  const all = presence || {};
  const one = all.chat || all.email || Object.values(all)[0];
  if (!one) return 'logged-out';
  if (one.state === 'ready') return 'ready';
  if (one.state === 'not-ready') return 'not-ready:' + (one.reason || '');
  return one.state;
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
  options.push(h('option', { value: 'logged-out' }, 'Logged out'));
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
  // Without `media`: every media type the agent handles.
  let body;
  if (value === 'ready' || value === 'logged-out' || value === 'after-call-work') body = { state: value };
  else body = { state: 'not-ready', reason: value.slice(10) || undefined };
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
  for (const view of state.chats.values()) view.refill();
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

/** The channel view of an interaction's media type (each channel's
 * `view`: what offers call it, and how to open it); media types without a
 * channel are shown as chats. */
const viewOf = (interaction) => views[interaction['media-type']] || views.chat;
const mediaOf = (interaction) => (views[interaction['media-type']] ? interaction['media-type'] : 'chat');

function addOffer(interaction) {
  if (state.offers.has(interaction.id)) return;
  const media = mediaOf(interaction);
  const view = viewOf(interaction);
  const titleId = nextId('offer-title');
  const nickname = h('span', null, view.customer(interaction) || 'a customer');
  const subject = h('dd', { 'data-testid': 'offer-subject' }, attachedText(interaction, 'subject') || '—');
  const contact = h('dd', { 'data-testid': 'offer-contact' }, view.address(interaction) || '—');
  const waiting = h('dd', null, '—');
  const accept = h('button', { type: 'button', class: 'button primary', 'data-testid': 'offer-accept' }, 'Accept');
  const reject = h('button', { type: 'button', class: 'button', 'data-testid': 'offer-reject' }, 'Reject');
  const el = h(
    'article',
    {
      class: 'offer offer-' + media,
      'aria-labelledby': titleId,
      'data-testid': 'offer',
      'data-interaction': interaction.id,
      'data-media': media,
    },
    h('h3', { id: titleId, 'data-testid': 'offer-title' }, view.offer, nickname),
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
  if (!view.details) return;
  view.details(interaction.id).then((found) => {
    if (!found || !state.offers.has(interaction.id)) return;
    if (found.customer) {
      nickname.textContent = found.customer;
      offer.nickname = found.customer;
    }
    if (found.subject) subject.textContent = found.subject;
    if (found.address) contact.textContent = found.address;
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
    const view = openView(interaction);
    selectView(view.id, { focus: 'work' });
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
  const noun = offer ? viewOf(offer.interaction).noun : 'offer';
  answering(id, true);
  try {
    await api('POST', '/v1/interactions/' + encodeURIComponent(id) + '/reject', {
      body: { reason: 'rejected by the agent' },
    });
    removeOffer(id);
    notify('You rejected the ' + noun + ' from ' + nickname + '.');
  } catch (err) {
    buttons.forEach((b) => (b.disabled = false));
    answering(id, false);
    if (err.status === 409 || err.status === 404) removeOffer(id);
    else notify('Could not reject: ' + err.message, 'error');
  }
}

// ----------------------------------------------------------------- views

/** What the conversation views reach the desktop through (see case.js). */
const desk = {
  me: () => state.me,
  directory: () => state.directory,
  responses: () => state.responses,
  categoryPath,
  nameOf,
  notify,
  loadDirectory,
  selected: () => state.selected,
  socket: () => state.socket,
  updateTitle,
  select: (id, options) => selectView(id, options),
  remove: (id) => removeView(id),
  tabKeys: (event, view) => tabKeys(event, view),
  download: (event) => downloadFile(event),
  opened: (id) => state.chats.get(id),
  open: (interaction, options) => openView(interaction, options),
};

/** The view of an interaction (a chat or an e-mail), opened if need be. */
function openView(interaction, options) {
  let view = state.chats.get(interaction.id);
  if (view) {
    view.update(interaction);
    return view;
  }
  view = viewOf(interaction).open(interaction, desk, options);
  state.chats.set(view.id, view);
  ui.tabs.append(view.tab.el);
  ui.panels.append(view.panel);
  ui.noChats.hidden = true;
  if (!state.selected) selectView(view.id);
  view.load();
  updateTitle();
  return view;
}

function removeView(id) {
  const view = state.chats.get(id);
  if (!view) return;
  const wasSelected = state.selected === id;
  const hadFocus = view.panel.contains(document.activeElement) || view.tab.el === document.activeElement;
  view.destroy();
  state.chats.delete(id);
  ui.noChats.hidden = state.chats.size > 0;
  if (wasSelected) {
    state.selected = null;
    const next = state.chats.keys().next();
    if (!next.done) selectView(next.value, { focus: hadFocus ? 'tab' : null });
    else {
      ui.noChatSelected.hidden = false;
      if (hadFocus) ui.presence.focus();
    }
  }
  updateTitle();
}

/** Shows view `id`; `focus`: `work` (its composer) or `tab`. */
function selectView(id, { focus } = {}) {
  const view = state.chats.get(id);
  if (!view) return;
  state.selected = id;
  for (const other of state.chats.values()) {
    const on = other === view;
    other.tab.el.setAttribute('aria-selected', String(on));
    other.tab.el.tabIndex = on ? 0 : -1;
    other.panel.hidden = !on;
  }
  ui.noChatSelected.hidden = true;
  view.read();
  view.shown();
  if (focus === 'work' && view.focusTarget) view.focusTarget.focus();
  else if (focus === 'tab') view.tab.el.focus();
}

function tabKeys(event, view) {
  const list = Array.from(state.chats.values());
  const index = list.indexOf(view);
  let next = null;
  if (event.key === 'ArrowDown' || event.key === 'ArrowRight') next = list[(index + 1) % list.length];
  else if (event.key === 'ArrowUp' || event.key === 'ArrowLeft') next = list[(index - 1 + list.length) % list.length];
  else if (event.key === 'Home') next = list[0];
  else if (event.key === 'End') next = list[list.length - 1];
  if (!next) return;
  event.preventDefault();
  selectView(next.id, { focus: 'tab' });
}

/** File links need the token: fetched with it, then saved from memory. */
async function downloadFile(event) {
  const link = event.target.closest('a[download]');
  if (!link) return;
  event.preventDefault();
  try {
    await saveWithToken(link.getAttribute('href'), link.getAttribute('download'));
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
  if (interaction.state === 'stopped' || interaction.state === 'completed') {
    return 'The ' + viewOf(interaction).noun + ' from {customer} ended.';
  }
  return 'The offer from {customer} was withdrawn.';
}

/** Brings the desktop in line with one interaction's new state. */
function reconcile(interaction, event) {
  if (!interaction) return;
  const me = state.me.id;
  const mine = interaction.owner === me;
  const party = (interaction.parties || []).includes(me);
  if (interaction.state === 'offered' && mine) addOffer(interaction);
  else if (state.offers.has(interaction.id)) {
    // Answered here (the event may beat the answer to the call), or gone.
    const answered = state.offers.get(interaction.id).answering || (interaction.state === 'accepted' && (mine || party));
    removeOffer(interaction.id, event && !answered ? offerGoneText(interaction, event) : null);
  }
  const view = state.chats.get(interaction.id);
  if (interaction.state === 'accepted' && (mine || party)) {
    if (view && !view.closed && !view.returned) view.update(interaction);
    else {
      if (view) removeView(view.id);
      openView(interaction);
    }
  } else if (view && !view.closed && !view.leaving && !view.returned) {
    view.close(closingText(interaction, event));
  }
}

/** The channel view whose own events (`email-status`...) `event` is. */
const channelOfEvent = (event) =>
  Object.values(views).find((view) => view.events && event.kind.startsWith(view.events));

function onEvent(event) {
  if (event.kind === 'presence') {
    if (event['agent-id'] === state.me.id && event.data) showPresence(event.data.presence);
    return;
  }
  const channel = channelOfEvent(event);
  if (channel) {
    channel.onEvent(event, desk);
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
      for (const view of state.chats.values()) if (view instanceof ChatView) view.load();
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
      if (reopened) for (const view of state.chats.values()) if (view instanceof ChatView) view.load();
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
  for (const id of Array.from(state.chats.keys())) removeView(id);
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
      body: { state: 'logged-out' },
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
