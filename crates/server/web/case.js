// Pieces every conversation view of the agent desktop shares (a chat, an
// e-mail): its tab in the list, the standard response picker, and the
// transfer and completion actions.
//
// They work through the desk, an object the desktop passes in:
//   me()            the signed-in agent ({ id, name })
//   directory()     { agents, queues, dispositions }
//   responses()     the standard responses; categoryPath(id) names a category
//   nameOf(id)      an agent's name
//   notify(text, kind)
//   loadDirectory() refreshes the directory (throttled)
//   select(id, { focus }), remove(id), tabKeys(event, view)

import { api, h, insertAtCaret } from './common.js';

let domIds = 0;

/** A unique DOM id. */
export const nextId = (prefix) => prefix + '-' + ++domIds;

/**
 * The tab of a view in the list: a title with an unread badge, a line
 * below, and an optional live line (typing). `testid` names the tab kind.
 */
export function caseTab(view, desk, { testid, panelId, title, sub }) {
  const tab = {
    id: nextId(testid),
    title: h('span', { class: 'tab-name', 'data-testid': testid + '-name' }, title),
    badge: h('span', { class: 'unread', hidden: true, 'data-testid': testid + '-unread' }),
    sub: h('span', { class: 'tab-sub' }, sub || ''),
    live: h('span', { class: 'tab-typing', 'aria-hidden': 'true' }),
  };
  tab.el = h(
    'button',
    {
      type: 'button',
      role: 'tab',
      id: tab.id,
      class: 'tab',
      'aria-selected': 'false',
      'aria-controls': panelId,
      tabindex: '-1',
      'data-testid': testid,
      'data-interaction': view.id,
    },
    h('span', { class: 'tab-title' }, tab.title, tab.badge),
    tab.sub,
    tab.live,
  );
  tab.el.addEventListener('click', () => desk.select(view.id));
  tab.el.addEventListener('keydown', (e) => desk.tabKeys(e, view));
  return tab;
}

/** Shows `count` unread items on a tab's badge (hidden at zero). */
export function showUnread(tab, count) {
  tab.badge.hidden = count === 0;
  tab.badge.textContent = String(count);
  tab.badge.setAttribute('aria-label', count + ' unread');
}

/**
 * The standard responses, grouped by category, and an Insert button that
 * puts the chosen one, its field codes filled in by the server for the
 * interaction, at the caret of `input`.
 */
export class ResponsePicker {
  constructor(desk, { interaction, input, onError, onInserted = () => {} }) {
    this.desk = desk;
    this.interaction = interaction;
    this.input = input;
    this.onError = onError;
    this.onInserted = onInserted;
    const selectId = nextId('responses');
    this.select = h('select', { id: selectId, 'data-testid': 'responses' });
    this.insert = h('button', { type: 'button', class: 'button', 'data-testid': 'insert-response' }, 'Insert');
    this.el = h(
      'span',
      { class: 'row' },
      h('label', { for: selectId, class: 'visually-hidden' }, 'Standard response'),
      this.select,
      this.insert,
    );
    this.insert.addEventListener('click', () => this.insertChosen());
    this.fill();
  }

  fill() {
    const responses = this.desk.responses();
    const byCategory = new Map();
    for (const response of responses) {
      const category = this.desk.categoryPath(response.category);
      if (!byCategory.has(category)) byCategory.set(category, []);
      byCategory.get(category).push(response);
    }
    const sorted = Array.from(byCategory).sort(([a], [b]) => a.localeCompare(b));
    const groups = sorted.map(([category, list]) =>
      h('optgroup', { label: category }, list.map((r) => h('option', { value: r.id }, r.name))),
    );
    this.select.replaceChildren(h('option', { value: '' }, 'Standard responses…'), ...groups);
    this.el.hidden = responses.length === 0;
  }

  async insertChosen() {
    const response = this.desk.responses().find((r) => r.id === this.select.value);
    if (!response) {
      this.select.focus();
      return;
    }
    let text;
    try {
      const path = '/v1/responses/' + encodeURIComponent(response.id) + '/render';
      text = (await api('POST', path, { body: { interaction: this.interaction } })).text;
    } catch (err) {
      this.onError('The response could not be inserted: ' + err.message);
      return;
    }
    insertAtCaret(this.input, text);
    this.onInserted(this.input.value);
    this.select.value = '';
  }
}

/**
 * Transfer to an agent (shown ready or not on `media`) or a queue, and
 * completion with a disposition.
 * `view` is the conversation: its `id`, `leaving` flag (set while the
 * interaction is being handed on, so its own events do not close the
 * view), `label()` for notices ("Chat with Ada") and `showError(text)`.
 */
export class CaseActions {
  constructor(desk, view, { media, endLabel, endTestId, endLegend, beforeLeave = () => {} }) {
    this.desk = desk;
    this.view = view;
    this.media = media;
    this.beforeLeave = beforeLeave;
    const targetId = nextId('transfer-target');
    const dispositionId = nextId('disposition');
    this.target = h('select', { id: targetId, 'data-testid': 'transfer-target' });
    this.transferButton = h('button', { type: 'button', class: 'button', 'data-testid': 'transfer' }, 'Transfer');
    this.disposition = h('select', { id: dispositionId, 'data-testid': 'disposition' });
    this.endButton = h('button', { type: 'button', class: 'button danger', 'data-testid': endTestId }, endLabel);
    this.el = h(
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
        h('legend', null, endLegend),
        h('label', { for: dispositionId }, 'Disposition', this.disposition),
        this.endButton,
      ),
    );
    this.target.addEventListener('focus', () => desk.loadDirectory());
    this.transferButton.addEventListener('click', () => this.transfer());
    this.endButton.addEventListener('click', () => this.complete());
    this.fillTargets();
    this.fillDispositions();
  }

  fillTargets() {
    const me = this.desk.me().id;
    const directory = this.desk.directory();
    const previous = this.target.value;
    const agents = directory.agents
      .filter((a) => a.id !== me)
      .map((a) => {
        const ready = a.ready && a.ready[this.media];
        return h('option', { value: 'agent:' + a.id }, (a.name || a.id) + (ready ? ' (ready)' : ' (not ready)'));
      });
    const queues = (directory.queues || []).map((q) => h('option', { value: 'queue:' + q }, q));
    this.target.replaceChildren(
      h('option', { value: '' }, 'Choose…'),
      agents.length ? h('optgroup', { label: 'Agents' }, agents) : null,
      queues.length ? h('optgroup', { label: 'Queues' }, queues) : null,
    );
    if (Array.from(this.target.options).some((o) => o.value === previous)) this.target.value = previous;
  }

  fillDispositions() {
    const dispositions = this.desk.directory().dispositions || [];
    this.disposition.replaceChildren(
      ...(dispositions.length
        ? dispositions.map((d) => h('option', { value: d }, d))
        : [h('option', { value: '' }, 'None')]),
    );
  }

  async transfer() {
    const value = this.target.value;
    if (!value) {
      this.view.showError('Choose an agent or a queue to transfer to.');
      this.target.focus();
      return;
    }
    const kind = value.slice(0, value.indexOf(':'));
    const target = value.slice(value.indexOf(':') + 1);
    const body = kind === 'agent' ? { agent: target } : { queue: target };
    const where = kind === 'agent' ? this.desk.nameOf(target) : 'queue ' + target;
    this.view.leaving = true;
    this.transferButton.disabled = true;
    try {
      this.beforeLeave();
      await api('POST', '/v1/interactions/' + encodeURIComponent(this.view.id) + '/transfer', { body });
      this.desk.notify(this.view.label() + ' transferred to ' + where + '.');
      this.desk.remove(this.view.id);
    } catch (err) {
      this.view.leaving = false;
      this.transferButton.disabled = false;
      this.view.showError(
        err.code === 'agent-unavailable'
          ? where + ' cannot take it now (not ready or no room).'
          : 'Not transferred: ' + err.message,
      );
    }
  }

  async complete() {
    const disposition = this.disposition.value || undefined;
    this.view.leaving = true;
    this.endButton.disabled = true;
    try {
      this.beforeLeave();
      await api('POST', '/v1/interactions/' + encodeURIComponent(this.view.id) + '/complete', {
        body: disposition ? { disposition } : {},
      });
      this.desk.notify(this.view.label() + ' ended' + (disposition ? ' (' + disposition + ').' : '.'));
      this.desk.remove(this.view.id);
    } catch (err) {
      this.view.leaving = false;
      this.endButton.disabled = false;
      this.view.showError('Not ended: ' + err.message);
    }
  }
}

/** Shows `text` in the view's closed box with a button that removes the view. */
export function showClosedBox(view, text, dismissTestId) {
  const dismiss = h('button', { type: 'button', class: 'button', 'data-testid': dismissTestId }, 'Close');
  dismiss.addEventListener('click', () => view.desk.remove(view.id));
  view.closedBox.replaceChildren(h('span', null, text), dismiss);
  view.closedBox.hidden = false;
}

/**
 * What chat and e-mail views have in common. A subclass builds `tab`,
 * `heading`, `facts`, `error`, `closedBox`, `responses`, `actions` and
 * `panel`, and provides `name()` (the customer), `subject()`,
 * `factList(fact)` (the header's facts, `fact(label, value, testid)` each),
 * `label()` (for notices), `stop()` (its timers and live state) and
 * `hideWork()` (its composer, once the interaction is gone).
 */
export class CaseView {
  constructor(interaction, desk, dismissTestId) {
    this.desk = desk;
    this.id = interaction.id;
    this.interaction = interaction;
    this.dismissTestId = dismissTestId;
    this.unread = 0;
    this.closed = false;
    this.leaving = false;
  }

  fillFacts() {
    const fact = (label, value, testid) =>
      value ? h('li', { 'data-testid': testid }, label + ': ', h('strong', null, value)) : null;
    this.heading.textContent = this.name();
    this.tab.title.textContent = this.name();
    if (!this.closed) this.tab.sub.textContent = this.subject() || this.interaction.queue || '';
    this.facts.replaceChildren(...this.factList(fact).filter(Boolean));
  }

  /** The directory or the responses changed. */
  refill() {
    this.responses.fill();
    this.actions.fillTargets();
    this.actions.fillDispositions();
  }

  read() {
    this.unread = 0;
    showUnread(this.tab, 0);
    this.desk.updateTitle();
  }

  update(interaction) {
    this.interaction = interaction;
    this.fillFacts();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  /** The interaction went away from this agent (transferred, completed elsewhere). */
  close(text) {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.hideWork();
    this.actions.el.hidden = true;
    showClosedBox(this, text, this.dismissTestId);
    this.tab.el.classList.add('closed');
    this.tab.sub.textContent = text;
    this.desk.notify(this.label() + ': ' + text);
  }

  destroy() {
    this.stop();
    this.tab.el.remove();
    this.panel.remove();
  }
}
