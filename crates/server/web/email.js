// An e-mail in the agent desktop: its tab, the thread (the customer's
// messages and ours, with attachments and each reply's status), the reply
// editor (prefilled with the quoted original, standard responses, files)
// and, for a reply sent back by the reviewer, its revision. Transfer and
// completion as for chats.

import { api, h, sizeOf, timeOf } from './common.js';
import { attachedText } from './chat-view.js';
import { CaseActions, CaseView, ResponsePicker, caseTab, nextId, showClosedBox, showUnread } from './case.js';

/** What each status of a message means to the agent. */
const STATUS_TEXT = {
  received: 'Received',
  malformed: 'Unreadable, kept for inspection',
  bounce: 'Delivery report',
  review: 'Waiting for review',
  rejected: 'Returned by the reviewer',
  queued: 'Sending…',
  sent: 'Sent',
  failed: 'Not delivered',
  bounced: 'Bounced',
};

/** A file as base64, without the `data:` prefix. */
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error || new Error('the file could not be read'));
    reader.readAsDataURL(file);
  });
}

/** Addresses typed as a list separated by commas or semicolons. */
const addressList = (text) =>
  text
    .split(/[,;]/)
    .map((a) => a.trim())
    .filter(Boolean);

export class EmailView extends CaseView {
  /**
   * `returned`: opened for a reply the reviewer sent back, on an
   * interaction that may no longer be in the agent's hands.
   */
  constructor(interaction, desk, { returned = false } = {}) {
    super(interaction, desk, 'email-dismiss');
    this.returned = returned;
    this.messages = [];
    this.prefilled = false;
    this.revising = null;
    this.files = [];
    this.loadTimer = null;
    const panelId = nextId('email-panel');

    this.tab = caseTab(this, desk, {
      testid: 'email-tab',
      panelId,
      title: this.sender(),
      sub: this.subject() || interaction.queue,
    });

    this.heading = h('h2', { 'data-testid': 'email-from' }, this.sender());
    this.facts = h('ul', { class: 'facts', 'data-testid': 'email-facts' });
    this.thread = h('ol', {
      class: 'email-thread',
      'aria-label': 'Messages',
      tabindex: '0',
      'data-testid': 'email-thread',
    });
    this.thread.addEventListener('click', (e) => desk.download(e));

    this.editor = this.buildEditor();
    this.actions = new CaseActions(desk, this, {
      media: 'email',
      endLabel: 'Complete',
      endTestId: 'complete',
      endLegend: 'Complete the e-mail',
    });
    this.closedBox = h('div', { class: 'chat-closed', role: 'status', hidden: true, 'data-testid': 'email-closed' });
    this.newReply = h(
      'button',
      { type: 'button', class: 'button', hidden: true, 'data-testid': 'email-new-reply' },
      'Write another reply',
    );
    this.newReply.addEventListener('click', () => this.startReply());
    this.panel = h(
      'section',
      {
        class: 'chat email',
        role: 'tabpanel',
        id: panelId,
        'aria-labelledby': this.tab.id,
        hidden: true,
        'data-testid': 'email-view',
        'data-interaction': this.id,
      },
      h('header', { class: 'chat-head' }, this.heading, this.facts),
      this.thread,
      this.closedBox,
      h('div', { class: 'email-more' }, this.newReply),
      this.editor,
      this.actions.el,
    );
    if (returned) this.showReturned();
    this.fillFacts();
  }

  buildEditor() {
    const field = (label, input) => h('label', { class: 'field', for: input.id }, label, input);
    this.to = h('input', { type: 'text', id: nextId('email-to'), 'data-testid': 'email-to', autocomplete: 'off' });
    this.cc = h('input', { type: 'text', id: nextId('email-cc'), 'data-testid': 'email-cc', autocomplete: 'off' });
    this.subjectInput = h('input', { type: 'text', id: nextId('email-subject'), 'data-testid': 'email-subject' });
    this.text = h('textarea', { id: nextId('email-text'), rows: '12', 'data-testid': 'email-text' });
    this.error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'email-error' });
    this.editorTitle = h('h3', { 'data-testid': 'email-editor-title' }, 'Reply');
    this.responses = new ResponsePicker(this.desk, {
      interaction: this.id,
      input: this.text,
      onError: (text) => this.showError(text),
    });
    this.fileInput = h('input', {
      type: 'file',
      multiple: true,
      class: 'visually-hidden',
      id: nextId('email-files'),
      'data-testid': 'email-file-input',
    });
    this.attach = h('button', { type: 'button', class: 'button', 'data-testid': 'email-attach' }, 'Attach files');
    this.fileList = h('ul', { class: 'email-files', 'data-testid': 'email-files' });
    this.sendButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'email-send' }, 'Send');
    this.cancelRevision = h(
      'button',
      { type: 'button', class: 'button', hidden: true, 'data-testid': 'email-revise-cancel' },
      'Cancel',
    );
    const form = h(
      'form',
      { class: 'composer email-editor', 'aria-label': 'Reply by e-mail', 'data-testid': 'email-editor' },
      this.editorTitle,
      this.error,
      field('To', this.to),
      field('Cc', this.cc),
      field('Subject', this.subjectInput),
      h('label', { for: this.text.id, class: 'visually-hidden' }, 'Message'),
      this.text,
      this.fileList,
      h('div', { class: 'row' }, this.responses.el, this.attach, this.fileInput),
      h('div', { class: 'row' }, this.sendButton, this.cancelRevision),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.text.addEventListener('input', () => (this.error.hidden = true));
    this.attach.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      this.files.push(...Array.from(this.fileInput.files || []));
      this.fileInput.value = '';
      this.showFiles();
    });
    this.cancelRevision.addEventListener('click', () => {
      this.endRevision();
      this.showEditor(false);
    });
    return form;
  }

  /** For notices: "E-mail from Ada Lovelace". */
  label() {
    return 'E-mail from ' + this.sender();
  }

  /** Where the focus goes when the view is opened from an offer. */
  get focusTarget() {
    return this.editor.hidden ? null : this.text;
  }

  name() {
    return this.sender();
  }

  sender() {
    return attachedText(this.interaction, 'from-name') || attachedText(this.interaction, 'from') || 'Customer';
  }

  subject() {
    return attachedText(this.interaction, 'subject');
  }

  factList(fact) {
    return [
      fact('Subject', this.subject(), 'email-subject-fact'),
      fact('From', attachedText(this.interaction, 'from'), 'email-address'),
      fact('Queue', this.interaction.queue, 'email-queue'),
      fact('Category', attachedText(this.interaction, 'category'), 'email-category'),
    ];
  }

  /** Reads the thread again soon (several events may come at once). */
  reloadSoon() {
    clearTimeout(this.loadTimer);
    this.loadTimer = setTimeout(() => this.load(), 100);
  }

  async load() {
    try {
      const messages = await api('GET', '/v1/emails/' + encodeURIComponent(this.id));
      const before = new Set(this.messages.map((m) => m.id + ':' + m.status));
      this.messages = Array.isArray(messages) ? messages : [];
      const changed = this.messages.filter((m) => !before.has(m.id + ':' + m.status));
      this.showThread();
      if (changed.length) this.thread.lastElementChild?.scrollIntoView({ block: 'nearest' });
      if (before.size && changed.length && (this.desk.selected() !== this.id || document.hidden)) {
        this.unread += changed.length;
        showUnread(this.tab, this.unread);
        this.desk.updateTitle();
      }
      if (this.returned) this.reviseReturned();
      else if (!this.prefilled) await this.prefill();
    } catch (err) {
      if (err.status !== 401) this.showError('The e-mail could not be loaded: ' + err.message);
    }
  }

  /** The reply editor, filled from the server's template (quote included). */
  async prefill() {
    this.prefilled = true;
    try {
      const template = await api('GET', '/v1/emails/' + encodeURIComponent(this.id) + '/reply');
      this.to.value = (template.to || []).join(', ');
      this.cc.value = (template.cc || []).join(', ');
      this.subjectInput.value = template.subject || '';
      this.text.value = '\n\n' + (template.text || '');
      this.text.setSelectionRange(0, 0);
    } catch (err) {
      this.showError('The reply could not be prepared: ' + err.message);
    }
  }

  showThread() {
    const me = this.desk.me().id;
    this.thread.replaceChildren(...this.messages.map((m) => this.messageItem(m, me)));
  }

  messageItem(message, me) {
    const outbound = message.direction === 'outbound';
    const who = outbound
      ? message.author === 'system'
        ? 'Automatic reply'
        : this.desk.nameOf(message.author)
      : (message['from-name'] ? message['from-name'] + ' <' + message.from + '>' : message.from) || 'Unknown sender';
    const when = timeOf(message.at);
    const status = h(
      'span',
      { class: 'badge status-' + message.status, 'data-testid': 'email-status' },
      STATUS_TEXT[message.status] || message.status,
    );
    const note =
      message.error && ['rejected', 'failed', 'bounced', 'malformed'].includes(message.status)
        ? h(
            'p',
            { class: 'email-note', 'data-testid': 'email-note' },
            (message.status === 'rejected' ? 'Reviewer' + (message.reviewer ? ' ' + this.desk.nameOf(message.reviewer) : '') + ': ' : '') +
              message.error,
          )
        : null;
    const files = (message.attachments || []).map((a) =>
      h(
        'li',
        null,
        h(
          'a',
          {
            href: '/v1/email/attachments/' + encodeURIComponent(a.id),
            download: a.name,
            'data-testid': 'email-attachment',
          },
          a.name,
        ),
        ' ',
        h('span', { class: 'size' }, sizeOf(a.size) + (a.inline ? ', inline' : '')),
      ),
    );
    const revise =
      outbound && message.status === 'rejected' && message.author === me
        ? h('button', { type: 'button', class: 'button', 'data-testid': 'email-revise' }, 'Revise and resubmit')
        : null;
    if (revise) revise.addEventListener('click', () => this.revise(message));
    return h(
      'li',
      {
        class: 'email-message ' + message.direction,
        'data-testid': 'email-message',
        'data-message': message.id,
        'data-status': message.status,
      },
      h(
        'header',
        null,
        h('strong', null, who),
        outbound && message.to && message.to.length ? ' to ' + message.to.join(', ') : '',
        ' · ',
        h('time', { datetime: when.iso, title: when.long }, when.short),
        ' ',
        status,
      ),
      message.subject ? h('p', { class: 'email-subject' }, message.subject) : null,
      note,
      h('div', { class: 'email-body', 'data-testid': 'email-body' }, message.text || ''),
      files.length ? h('ul', { class: 'email-files' }, files) : null,
      revise,
    );
  }

  showFiles() {
    this.fileList.replaceChildren(
      ...this.files.map((file, index) => {
        const remove = h('button', { type: 'button', class: 'button link', 'aria-label': 'Remove ' + file.name }, 'Remove');
        remove.addEventListener('click', () => {
          this.files.splice(index, 1);
          this.showFiles();
        });
        return h('li', { 'data-testid': 'email-file' }, file.name + ' (' + sizeOf(file.size) + ') ', remove);
      }),
    );
  }

  /** Shows the editor, or hides it behind "Write another reply". */
  showEditor(on) {
    this.editor.hidden = !on;
    this.newReply.hidden = on || this.returned || this.closed;
  }

  /** A new reply, prefilled again from the template. */
  async startReply() {
    this.endRevision();
    this.showEditor(true);
    await this.prefill();
    this.text.focus();
  }

  /** Loads a returned reply into the editor for a new version. */
  revise(message) {
    this.revising = message.id;
    this.showEditor(true);
    this.editorTitle.textContent = 'Revise the returned reply';
    this.subjectInput.value = message.subject || '';
    this.text.value = message.text || '';
    this.to.value = (message.to || []).join(', ');
    this.cc.value = (message.cc || []).join(', ');
    for (const input of [this.to, this.cc, this.attach]) input.disabled = true;
    this.responses.el.hidden = true;
    this.sendButton.textContent = 'Resubmit';
    this.cancelRevision.hidden = this.returned;
    this.text.focus();
  }

  endRevision() {
    this.revising = null;
    this.editorTitle.textContent = 'Reply';
    for (const input of [this.to, this.cc, this.attach]) input.disabled = false;
    this.responses.fill();
    this.sendButton.textContent = 'Send';
    this.cancelRevision.hidden = true;
    this.text.value = '';
  }

  /** A returned view: only the revision of the returned reply. */
  showReturned() {
    this.actions.el.hidden = true;
    this.editor.hidden = true;
    showClosedBox(this, 'The reviewer returned a reply you wrote. Revise it below, or close.', 'email-dismiss');
  }

  reviseReturned() {
    if (this.revising) return;
    const me = this.desk.me().id;
    const returned = this.messages.find((m) => m.status === 'rejected' && m.author === me);
    if (returned) this.revise(returned);
  }

  async submit() {
    const text = this.text.value;
    if (!text.trim()) {
      this.showError('Write the message first.');
      this.text.focus();
      return;
    }
    this.error.hidden = true;
    this.sendButton.disabled = true;
    try {
      let message;
      if (this.revising) {
        message = await api('PUT', '/v1/email/messages/' + encodeURIComponent(this.revising), {
          body: { subject: this.subjectInput.value, text },
        });
      } else {
        const attachments = [];
        for (const file of this.files) {
          attachments.push({
            name: file.name,
            'content-type': file.type || 'application/octet-stream',
            data: await base64Of(file),
          });
        }
        message = await api('POST', '/v1/emails/' + encodeURIComponent(this.id) + '/replies', {
          body: {
            to: addressList(this.to.value),
            cc: addressList(this.cc.value),
            subject: this.subjectInput.value,
            text,
            attachments,
          },
        });
      }
      const waiting = message.status === 'review';
      this.desk.notify(
        (this.revising ? 'Revised reply' : 'Reply') +
          (waiting ? ' to ' + this.sender() + ' is waiting for review.' : ' to ' + this.sender() + ' is on its way.'),
      );
      this.files = [];
      this.showFiles();
      this.endRevision();
      this.showEditor(false);
      await this.load();
    } catch (err) {
      this.showError('Not sent: ' + err.message);
    } finally {
      this.sendButton.disabled = false;
    }
  }

  shown() {}

  stop() {
    clearTimeout(this.loadTimer);
  }

  hideWork() {
    this.showEditor(false);
  }
}

/** The e-mail channel's view, for the desktop (`views.js`). */
export const view = {
  offer: 'E-mail from ',
  noun: 'e-mail',
  customer: (interaction) => attachedText(interaction, 'from-name') || attachedText(interaction, 'from'),
  address: (interaction) => attachedText(interaction, 'from'),
  open: (interaction, desk, options) => new EmailView(interaction, desk, options),
  /** The e-mail channel's own events, handled by `onEvent`. */
  events: 'email-',
  /**
   * An e-mail event: the open view reads its thread again; a reply of ours
   * the reviewer returned opens a view for its revision, even when the
   * interaction is no longer in our hands.
   */
  onEvent: async (event, desk) => {
    const id = event['interaction-id'];
    if (!id) return;
    const returned = event.kind === 'email-status' && event.data && event.data.status === 'rejected';
    const view = desk.opened(id);
    if (view instanceof EmailView) {
      view.reloadSoon();
      if (returned) desk.notify(view.label() + ': the reviewer returned your reply.');
      return;
    }
    if (!returned) return;
    try {
      const interaction = await api('GET', '/v1/interactions/' + encodeURIComponent(id));
      const opened = desk.open(interaction, { returned: true });
      desk.notify(opened.label() + ': the reviewer returned your reply.');
    } catch (err) {
      desk.notify('A returned reply could not be opened: ' + err.message, 'error');
    }
  },
};
