// The supervisor view: queue and agent figures refreshed every few
// seconds, the live chats, and one chat at a time supervised silently
// (monitor), coaching the agents or barging into the conversation; the
// e-mail cards (`supervisor-email.js`): replies to review, mailboxes and
// unreadable mail.

import {
  ChatSocket,
  Transcript,
  TypingIndicator,
  TypingSender,
  announce,
  api,
  duration,
  h,
  signInFlow,
  signOut,
  timeOf,
} from './common.js';
import { EmailCards } from './supervisor-email.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 4000;

const ui = {
  accountBar: $('account-bar'),
  name: $('account-name'),
  connection: $('connection'),
  signOut: $('sign-out'),
  signInView: $('sign-in-view'),
  dashboard: $('dashboard'),
  queues: $('queues'),
  queuesUpdated: $('queues-updated'),
  agents: $('agents'),
  agentsUpdated: $('agents-updated'),
  chats: $('chats'),
  chatsUpdated: $('chats-updated'),
  monitor: $('monitor'),
  monitorTitle: $('monitor-title'),
  monitorFacts: $('monitor-facts'),
  modes: Array.from(document.querySelectorAll('input[name=mode]')),
  monitorStop: $('monitor-stop'),
  transcript: $('monitor-transcript'),
  typing: $('monitor-typing'),
  ended: $('monitor-ended'),
  composer: $('monitor-composer'),
  note: $('monitor-note'),
  error: $('monitor-error'),
  input: $('monitor-input'),
  send: $('monitor-send'),
  notices: $('notices'),
};

const state = {
  me: null,
  running: false,
  timer: null,
  socket: null,
  names: new Map(),
  watched: null, // { id, mode, transcript, typing, sender }
  email: null,
};

const notify = (text, kind) => announce(ui.notices, text, kind);
const nameOf = (id) => (id ? state.names.get(id) || id : '—');

function stamp(el) {
  el.textContent = 'updated ' + timeOf(Date.now()).short;
}

function cell(content, attrs) {
  return h('td', attrs || null, content);
}

function stateText(presence) {
  if (!presence) return 'logged out';
  const text = presence.state.replace(/-/g, ' ');
  return presence.reason ? text + ' (' + presence.reason + ')' : text;
}

// ----------------------------------------------------------------- tables

function showQueues(queues) {
  const rows = (queues || []).map((q) =>
    h(
      'tr',
      { 'data-testid': 'queue-row', 'data-queue': q.queue },
      h('th', { scope: 'row' }, q.queue),
      cell(String(q.waiting ?? 0), { class: 'num' }),
      cell(String(q.offered ?? 0), { class: 'num' }),
      cell(q['oldest-ms'] == null ? '—' : duration(q['oldest-ms']), { class: 'num' }),
      cell(q['estimated-wait-ms'] == null ? '—' : duration(q['estimated-wait-ms']), { class: 'num' }),
    ),
  );
  ui.queues.replaceChildren(
    ...(rows.length ? rows : [h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'No queues.'))]),
  );
  stamp(ui.queuesUpdated);
}

function showAgents(agents) {
  const rows = (agents || []).map((a) => {
    const presence = a.presence || {};
    const media = Object.keys(presence);
    const states = media.length
      ? media.map((m) =>
          h(
            'div',
            null,
            m + ': ',
            h('span', { class: 'state ' + presence[m].state }, stateText(presence[m])),
          ),
        )
      : [h('span', { class: 'state' }, 'logged out')];
    const load = Object.entries(a.load || {})
      .filter(([, n]) => n > 0)
      .map(([m, n]) => m + ' ' + n)
      .join(', ');
    return h(
      'tr',
      { 'data-testid': 'agent-row', 'data-agent': a.agent },
      h('th', { scope: 'row' }, nameOf(a.agent)),
      cell(states),
      cell(load || 'none'),
      cell(duration(a['idle-ms']), { class: 'num' }),
    );
  });
  ui.agents.replaceChildren(
    ...(rows.length ? rows : [h('tr', null, h('td', { colspan: '4', class: 'empty' }, 'No agents.'))]),
  );
  stamp(ui.agentsUpdated);
}

function showChats(chats) {
  const rows = (chats || []).map((c) => {
    const open = h(
      'button',
      { type: 'button', class: 'button', 'data-testid': 'monitor-open', 'data-interaction': c.id },
      state.watched && state.watched.id === c.id ? 'Supervising' : 'Monitor',
    );
    open.setAttribute('aria-label', 'Monitor the chat with ' + (c.nickname || 'the customer'));
    open.addEventListener('click', () => watch(c));
    // `supervisors`: account id -> mode (`monitors` in older answers).
    const watching = c.supervisors || c.monitors;
    let monitors = '';
    if (Array.isArray(watching)) {
      monitors = watching
        .map((m) => (typeof m === 'string' ? nameOf(m) : nameOf(m.id) + ' (' + m.mode + ')'))
        .join(', ');
    } else if (watching && typeof watching === 'object') {
      monitors = Object.entries(watching)
        .map(([id, mode]) => nameOf(id) + ' (' + mode + ')')
        .join(', ');
    }
    return h(
      'tr',
      { 'data-testid': 'chat-row', 'data-interaction': c.id },
      h('th', { scope: 'row' }, c.nickname || 'Customer'),
      cell(c.subject || '—'),
      cell(c.queue || '—'),
      cell(c.state || '—'),
      cell(nameOf(c.owner) + ((c.parties || []).length ? ' + ' + c.parties.map(nameOf).join(', ') : '')),
      cell(String(c.messages ?? 0), { class: 'num' }),
      cell(c['last-at'] ? timeOf(c['last-at']).short : '—'),
      cell(monitors || '—'),
      cell(open),
    );
  });
  ui.chats.replaceChildren(
    ...(rows.length ? rows : [h('tr', null, h('td', { colspan: '9', class: 'empty' }, 'No live chats.'))]),
  );
  stamp(ui.chatsUpdated);
}

async function refresh() {
  if (!state.running) return;
  const results = await Promise.allSettled([
    api('GET', '/v1/stats/queues'),
    api('GET', '/v1/stats/agents'),
    api('GET', '/v1/chats'),
    state.email.refresh(),
  ]);
  if (!state.running) return;
  const [queues, agents, chats, email] = results;
  if (email.status === 'fulfilled') results.push(...email.value);
  if (queues.status === 'fulfilled') showQueues(queues.value);
  if (agents.status === 'fulfilled') showAgents(agents.value);
  if (chats.status === 'fulfilled') showChats(chats.value);
  const failed = results.find((r) => r.status === 'rejected');
  ui.connection.textContent = failed ? 'Not updating: ' + failed.reason.message : 'Live';
  ui.connection.classList.toggle('up', !failed);
  ui.connection.classList.toggle('down', !!failed);
}

async function loadNames() {
  try {
    const directory = await api('GET', '/v1/directory');
    for (const a of (directory && directory.agents) || []) state.names.set(a.id, a.name || a.id);
  } catch {
    try {
      const agents = await api('GET', '/v1/agents');
      for (const a of agents || []) state.names.set(a.id, a.name || a.id);
    } catch {
      /* ids are shown instead of names */
    }
  }
}

// ------------------------------------------------------------ supervision

const NOTES = {
  monitor: 'Monitoring silently: nobody is told, and you cannot write.',
  coach: 'Coaching: only the agents see what you write.',
  barge: 'Barged in: the customer and the agents see what you write.',
};

function showMode(mode) {
  for (const radio of ui.modes) radio.checked = radio.value === mode;
  ui.note.textContent = NOTES[mode] || '';
  const canWrite = mode === 'coach' || mode === 'barge';
  ui.input.disabled = !canWrite;
  ui.send.disabled = !canWrite;
  ui.input.placeholder = canWrite
    ? mode === 'coach'
      ? 'Coach the agent (the customer does not see this)…'
      : 'Write to everyone in the chat…'
    : 'Switch to Coach or Barge in to write';
}

async function setMode(id, mode) {
  await api('PUT', '/v1/chats/' + encodeURIComponent(id) + '/supervision', { body: { mode } });
}

async function watch(chat) {
  if (state.watched && state.watched.id === chat.id) {
    ui.input.focus();
    return;
  }
  await unwatch();
  try {
    await setMode(chat.id, 'monitor');
  } catch (err) {
    notify('Cannot supervise this chat: ' + err.message, 'error');
    return;
  }
  const transcript = new Transcript(ui.transcript, {
    me: state.me.id,
    fileHref: (file) => '/v1/chats/' + encodeURIComponent(chat.id) + '/files/' + encodeURIComponent(file.id),
  });
  ui.transcript.replaceChildren();
  ui.ended.hidden = true;
  ui.error.hidden = true;
  const typing = new TypingIndicator((text) => {
    ui.typing.textContent = text;
  });
  const sender = new TypingSender((on) => {
    const w = state.watched;
    if (!w || w.mode === 'monitor') return;
    if (!(state.socket && state.socket.send({ type: 'typing', session: w.id, typing: on }))) {
      api('POST', '/v1/chats/' + encodeURIComponent(w.id) + '/typing', { body: { typing: on } }).catch(() => {});
    }
  });
  state.watched = { id: chat.id, mode: 'monitor', transcript, typing, sender, chat };
  ui.monitorTitle.textContent = 'Chat with ' + (chat.nickname || 'a customer');
  ui.monitorFacts.replaceChildren(
    ...[
      chat.subject ? h('li', null, 'Subject: ', h('strong', null, chat.subject)) : null,
      h('li', null, 'Agent: ', h('strong', null, nameOf(chat.owner))),
      chat.queue ? h('li', null, 'Queue: ', h('strong', null, chat.queue)) : null,
    ].filter(Boolean),
  );
  showMode('monitor');
  ui.monitor.hidden = false;
  ui.monitor.scrollIntoView({ block: 'nearest' });
  ui.modes[0].focus();
  await loadTranscript();
  refresh();
}

async function loadTranscript() {
  const w = state.watched;
  if (!w) return;
  try {
    const answer = await api('GET', '/v1/chats/' + encodeURIComponent(w.id));
    if (state.watched !== w) return;
    w.transcript.addAll(answer && answer.messages);
    if (answer && answer.session && answer.session.ended) showEnded();
  } catch (err) {
    notify('The transcript could not be loaded: ' + err.message, 'error');
  }
}

async function unwatch() {
  const w = state.watched;
  if (!w) return;
  state.watched = null;
  w.sender.stop();
  w.typing.clear();
  ui.monitor.hidden = true;
  await api('DELETE', '/v1/chats/' + encodeURIComponent(w.id) + '/supervision').catch(() => {});
}

function showEnded(reason) {
  ui.ended.textContent = 'The chat has ended' + (reason ? ' (' + reason + ')' : '') + '.';
  ui.ended.hidden = false;
  ui.input.disabled = true;
  ui.send.disabled = true;
}

async function changeMode(event) {
  const w = state.watched;
  if (!w) return;
  const mode = event.target.value;
  try {
    await setMode(w.id, mode);
    w.mode = mode;
    showMode(mode);
    notify(mode === 'monitor' ? 'Monitoring silently.' : mode === 'coach' ? 'Coaching the agents.' : 'You joined the chat.');
  } catch (err) {
    showMode(w.mode);
    notify('Mode not changed: ' + err.message, 'error');
  }
}

async function sendText() {
  const w = state.watched;
  const text = ui.input.value.trim();
  if (!w || !text || w.mode === 'monitor') return;
  ui.error.hidden = true;
  w.sender.stop();
  ui.input.value = '';
  try {
    const message = await api('POST', '/v1/chats/' + encodeURIComponent(w.id) + '/messages', { body: { text } });
    w.transcript.add(message);
  } catch (err) {
    if (!ui.input.value) ui.input.value = text;
    ui.error.textContent = 'Not sent: ' + err.message;
    ui.error.hidden = false;
  }
}

function onFrame(frame) {
  const w = state.watched;
  if (!w) return;
  if ((frame.type === 'message' || frame.type === 'ack') && frame.message && frame.message.session === w.id) {
    w.transcript.add(frame.message);
    if (frame.message.from && frame.message.from.name) w.typing.set(frame.message.from.name, false);
  } else if (frame.type === 'typing' && frame.session === w.id) {
    const from = frame.from || {};
    if (from.id !== state.me.id) w.typing.set(from.name || from.id || 'Someone', !!frame.typing);
  } else if (frame.type === 'ended' && frame.session === w.id) {
    showEnded(frame.reason);
  } else if (frame.type === 'resync') {
    loadTranscript();
  } else if (frame.type === 'error') {
    notify(frame.message || frame.code, 'error');
  }
}

// ------------------------------------------------------------ life cycle

async function start(account) {
  state.me = account;
  state.running = true;
  ui.signInView.hidden = true;
  ui.dashboard.hidden = false;
  ui.accountBar.hidden = false;
  ui.name.textContent = account.name || account.id;
  await loadNames();
  state.email = new EmailCards({ notify, nameOf });
  state.socket = new ChatSocket({
    onFrame,
    onOpen: (reopened) => {
      if (reopened) loadTranscript();
    },
  });
  await refresh();
  state.timer = setInterval(refresh, REFRESH_MS);
}

function stop() {
  state.running = false;
  clearInterval(state.timer);
  if (state.socket) state.socket.stop();
  state.socket = null;
  if (state.watched) {
    state.watched.sender.stop();
    state.watched = null;
  }
  ui.monitor.hidden = true;
  ui.dashboard.hidden = true;
  ui.accountBar.hidden = true;
  ui.signInView.hidden = false;
}

for (const radio of ui.modes) radio.addEventListener('change', changeMode);
ui.monitorStop.addEventListener('click', () => unwatch().then(refresh));
ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  sendText();
});
ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendText();
  }
});
ui.input.addEventListener('input', () => {
  if (state.watched) state.watched.sender.input(ui.input.value);
});
ui.signOut.addEventListener('click', async () => {
  await unwatch();
  await signOut();
  showSignIn();
});

const showSignIn = signInFlow({
  roles: ['supervisor', 'admin'],
  start,
  stop,
  running: () => state.running,
});
