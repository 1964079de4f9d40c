// A chat in the agent desktop: its tab, the transcript, the customer's
// typing, the composer with standard responses and files, transfer and end
// with a disposition. Messages and typing come from the chat socket the
// desktop holds; the view only shows them.

import { Transcript, TypingIndicator, TypingSender, api, h } from './common.js';
import { CaseActions, CaseView, ResponsePicker, caseTab, nextId, showUnread } from './case.js';

/** A value of the interaction's attached data, as text. */
export function attachedText(interaction, key) {
  const list = Array.isArray(interaction && interaction.attached) ? interaction.attached : [];
  const found = list.find((a) => a.key === key);
  if (!found || !found.value) return null;
  const v = found.value;
  return v.text ?? (v.integer !== undefined ? String(v.integer) : null);
}

export class ChatView extends CaseView {
  constructor(interaction, desk) {
    super(interaction, desk, 'chat-dismiss');
    this.session = null;
    this.customerGone = false;
    const panelId = nextId('chat-panel');
    const composerId = nextId('composer');

    this.tab = caseTab(this, desk, {
      testid: 'chat-tab',
      panelId,
      title: this.nickname(),
      sub: this.subject() || interaction.queue,
    });

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
      me: desk.me().id,
      fileHref: (file) =>
        '/v1/chats/' + encodeURIComponent(this.id) + '/files/' + encodeURIComponent(file.id),
      onAdded: (message) => this.arrived(message),
    });
    this.list.addEventListener('click', (e) => desk.download(e));
    this.typingLine = h('div', { class: 'typing', role: 'status', 'aria-live': 'polite', 'data-testid': 'typing' });
    this.typing = new TypingIndicator((text) => {
      this.typingLine.textContent = text;
      this.tab.live.textContent = text ? 'typing…' : '';
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
    this.sender = new TypingSender((typing) => this.sendTyping(typing));
    this.responses = new ResponsePicker(desk, {
      interaction: this.id,
      input: this.input,
      onError: (text) => this.showError(text),
      onInserted: (value) => this.sender.input(value),
    });
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
      h('div', { class: 'row' }, this.responses.el, this.attach, this.fileInput),
    );

    this.actions = new CaseActions(desk, this, {
      media: 'chat',
      endLabel: 'End chat',
      endTestId: 'end-chat',
      endLegend: 'End the chat',
      beforeLeave: () => this.sender.stop(),
    });
    this.closedBox = h('div', { class: 'chat-closed', role: 'status', hidden: true, 'data-testid': 'chat-closed' });

    this.panel = h(
      'section',
      {
        class: 'chat',
        role: 'tabpanel',
        id: panelId,
        'aria-labelledby': this.tab.id,
        hidden: true,
        'data-testid': 'chat-view',
        'data-interaction': this.id,
      },
      h('header', { class: 'chat-head' }, this.heading, this.facts),
      this.list,
      this.typingLine,
      this.closedBox,
      this.composer,
      this.actions.el,
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
    this.attach.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      this.fileInput.value = '';
      if (file) this.sendFile(file);
    });

    this.fillFacts();
  }

  /** For notices: "Chat with Ada". */
  label() {
    return 'Chat with ' + this.nickname();
  }

  /** Where the focus goes when the view is opened from an offer. */
  get focusTarget() {
    return this.input.disabled ? null : this.input;
  }

  name() {
    return this.nickname();
  }

  nickname() {
    return (this.session && this.session.nickname) || attachedText(this.interaction, 'nickname') || 'Customer';
  }

  subject() {
    return (this.session && this.session.subject) || attachedText(this.interaction, 'subject');
  }

  factList(fact) {
    const me = this.desk.me().id;
    return [
      fact('Subject', this.subject(), 'chat-subject'),
      fact('Queue', this.interaction.queue, 'chat-queue'),
      fact('Contact', this.session && this.session.email, 'chat-contact'),
      fact(
        'Also here',
        (this.interaction.parties || [])
          .filter((p) => p !== me)
          .map((p) => this.desk.nameOf(p))
          .join(', '),
        'chat-parties',
      ),
    ];
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
    if (this.loading || from.id === this.desk.me().id || message.kind === 'system') return;
    if (this.desk.selected() !== this.id || document.hidden) {
      this.unread += 1;
      showUnread(this.tab, this.unread);
      this.desk.updateTitle();
    }
  }

  /** Shown: the transcript scrolled to its end. */
  shown() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  sendTyping(typing) {
    if (this.closed || this.customerGone) return;
    const socket = this.desk.socket();
    if (!(socket && socket.send({ type: 'typing', session: this.id, typing }))) {
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

  stop() {
    this.sender.stop();
    this.typing.clear();
  }

  hideWork() {
    this.composer.hidden = true;
  }
}

/** The chat channel's view, for the desktop (`views.js`). */
export const view = {
  offer: 'Chat from ',
  noun: 'chat',
  customer: (interaction) => attachedText(interaction, 'nickname'),
  address: () => null,
  /** What the chat session adds to an offer: nickname, subject, address. */
  details: async (id) => {
    try {
      const answer = await api('GET', '/v1/chats/' + encodeURIComponent(id));
      const session = answer && answer.session;
      return session ? { customer: session.nickname, subject: session.subject, address: session.email } : null;
    } catch {
      return null;
    }
  },
  open: (interaction, desk) => new ChatView(interaction, desk),
};
