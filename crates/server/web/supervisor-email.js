// The supervisor's e-mail cards: replies waiting for review (approved as
// written or edited, or returned to their author with a comment), the
// mailboxes' state, and the unreadable messages kept for inspection.

import { api, h, saveWithToken, timeOf } from './common.js';

const $ = (id) => document.getElementById(id);

function stamp(el) {
  el.textContent = 'updated ' + timeOf(Date.now()).short;
}

function emptyRow(columns, text) {
  return h('tr', null, h('td', { colspan: String(columns), class: 'empty' }, text));
}

export class EmailCards {
  /** `notify(text, kind)` and `nameOf(id)` come from the supervisor view. */
  constructor({ notify, nameOf }) {
    this.notify = notify;
    this.nameOf = nameOf;
    this.ui = {
      reviews: $('reviews'),
      reviewsUpdated: $('reviews-updated'),
      mailboxes: $('mailboxes'),
      mailboxesUpdated: $('mailboxes-updated'),
      malformed: $('malformed'),
      malformedUpdated: $('malformed-updated'),
    };
    // Review cards by message id, kept across refreshes so that what a
    // supervisor is editing is not replaced under their hands.
    this.cards = new Map();
  }

  async refresh() {
    const results = await Promise.allSettled([
      api('GET', '/v1/email/reviews'),
      api('GET', '/v1/email/mailboxes'),
      api('GET', '/v1/email/malformed'),
    ]);
    const [reviews, mailboxes, malformed] = results;
    if (reviews.status === 'fulfilled') this.showReviews(reviews.value || []);
    if (mailboxes.status === 'fulfilled') this.showMailboxes((mailboxes.value && mailboxes.value.mailboxes) || []);
    if (malformed.status === 'fulfilled') this.showMalformed(malformed.value || []);
    return results;
  }

  showReviews(messages) {
    const wanted = new Set(messages.map((m) => m.id));
    for (const [id, card] of this.cards) {
      if (!wanted.has(id) && !card.busy) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    for (const message of messages) {
      if (!this.cards.has(message.id)) {
        const card = this.reviewCard(message);
        this.cards.set(message.id, card);
        this.ui.reviews.append(card.el);
      }
    }
    this.ui.reviews.querySelector('[data-placeholder]')?.remove();
    if (!this.cards.size) {
      this.ui.reviews.append(h('p', { class: 'empty', 'data-placeholder': '' }, 'No replies waiting.'));
    }
    stamp(this.ui.reviewsUpdated);
  }

  reviewCard(message) {
    const titleId = 'review-' + message.id;
    const subject = h('input', { type: 'text', value: message.subject || '', 'data-testid': 'review-subject', 'aria-label': 'Subject' });
    const text = h('textarea', { 'data-testid': 'review-text', 'aria-label': 'Reply text' });
    text.value = message.text || '';
    const comment = h('input', {
      type: 'text',
      'data-testid': 'review-comment',
      'aria-label': 'Why it goes back to the author',
      placeholder: 'Why it goes back to the author',
    });
    const approve = h('button', { type: 'button', class: 'button primary', 'data-testid': 'review-approve' }, 'Approve and send');
    const reject = h('button', { type: 'button', class: 'button danger', 'data-testid': 'review-reject' }, 'Return to author');
    const error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'review-error' });
    const files = (message.attachments || []).map((a) => a.name).join(', ');
    const el = h(
      'article',
      { class: 'review', 'aria-labelledby': titleId, 'data-testid': 'review', 'data-message': message.id },
      h(
        'h3',
        { id: titleId },
        'Reply by ',
        this.nameOf(message.author),
        ' to ',
        (message.to || []).join(', ') || '—',
      ),
      h('p', { class: 'empty' }, 'Written ' + timeOf(message['updated-at'] || message.at).long + (files ? ' · files: ' + files : '')),
      error,
      subject,
      text,
      h('div', { class: 'row' }, approve, comment, reject),
    );
    const card = { el, busy: false };
    const verdict = async (path, body, done) => {
      card.busy = true;
      approve.disabled = reject.disabled = true;
      error.hidden = true;
      try {
        await api('POST', '/v1/email/messages/' + encodeURIComponent(message.id) + path, { body });
        this.notify(done);
        el.remove();
        this.cards.delete(message.id);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        approve.disabled = reject.disabled = false;
      } finally {
        card.busy = false;
      }
    };
    approve.addEventListener('click', () => {
      const edited = text.value !== (message.text || '') || subject.value !== (message.subject || '');
      const body = edited ? { subject: subject.value, text: text.value } : {};
      verdict('/approve', body, 'Reply approved' + (edited ? ' with your edits' : '') + ' and sent.');
    });
    reject.addEventListener('click', () => {
      if (!comment.value.trim()) {
        error.textContent = 'Say why the reply goes back.';
        error.hidden = false;
        comment.focus();
        return;
      }
      verdict('/reject', { comment: comment.value.trim() }, 'Reply returned to ' + this.nameOf(message.author) + '.');
    });
    return card;
  }

  showMailboxes(mailboxes) {
    const rows = mailboxes.map((m) =>
      h(
        'tr',
        { 'data-testid': 'mailbox-row', 'data-mailbox': m.name },
        h('th', { scope: 'row' }, m.name + ' (' + m.protocol + ')'),
        h(
          'td',
          null,
          h('span', { class: 'state ' + (m.error ? 'not-ready' : 'ready') }, m.error ? 'failing: ' + m.error : m.connected ? 'connected' : 'idle'),
        ),
        h('td', { class: 'num' }, String(m.taken ?? 0)),
        h('td', null, m['last-round-at'] ? timeOf(m['last-round-at']).short : '—'),
      ),
    );
    this.ui.mailboxes.replaceChildren(...(rows.length ? rows : [emptyRow(4, 'No mailboxes configured.')]));
    stamp(this.ui.mailboxesUpdated);
  }

  showMalformed(messages) {
    const rows = messages.map((m) => {
      const raw = h(
        'a',
        { href: '/v1/email/messages/' + encodeURIComponent(m.id) + '/mime', download: m.id + '.eml', 'data-testid': 'malformed-download' },
        'Raw message',
      );
      raw.addEventListener('click', (event) => {
        event.preventDefault();
        saveWithToken(raw.getAttribute('href'), raw.getAttribute('download')).catch((err) =>
          this.notify('Not downloaded: ' + err.message, 'error'),
        );
      });
      return h(
        'tr',
        { 'data-testid': 'malformed-row', 'data-message': m.id },
        h('td', null, timeOf(m.at).long),
        h('td', null, m.from || m.source || '—'),
        h('td', null, m.error || '—'),
        h('td', null, raw),
      );
    });
    this.ui.malformed.replaceChildren(...(rows.length ? rows : [emptyRow(4, 'None.')]));
    stamp(this.ui.malformedUpdated);
  }
}
