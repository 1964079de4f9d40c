// End-to-end test of e-mail in the agent desktop and the supervisor view, in
// a real browser (Debian's Chromium driven by playwright-core).
//
// A customer's e-mail with an attachment waits in the server's mailbox. The
// agent (a member of the review group) signs in, goes ready, accepts the
// offer, reads the message and downloads its attachment, replies in the
// editor prefilled with the quoted original: a line of their own, a
// standard response and a file. The reply waits for review; the supervisor
// returns it with a comment; the agent sees the comment, revises and
// resubmits; the supervisor adds a line and approves; the agent sees it
// sent and completes the e-mail. What reached the SMTP server is checked by
// the caller (`tests/all/browser.rs`).
//
// Inputs (environment):
//   PARLEY_URL                                   the server (required)
//   PARLEY_AGENT_ID, PARLEY_AGENT_PASSWORD       the agent (required)
//   PARLEY_SUPERVISOR_ID, PARLEY_SUPERVISOR_PASSWORD   (required)
//   PARLEY_EMAIL_SUBJECT      the customer's subject, to find the offer (required)
//   PARLEY_EMAIL_FROM         the customer's address (required)
//   PARLEY_EMAIL_LINE         a line of the customer's message (required)
//   PARLEY_ATTACHMENT_NAME, PARLEY_ATTACHMENT_TEXT   its attachment (required)
//   PARLEY_RESPONSE_NAME, PARLEY_RESPONSE_TEXT       the standard response and
//                             its text as the server renders it here (required)
//   PARLEY_UPLOAD             a file the agent attaches to the reply (required)
//   PARLEY_ARTIFACTS          where screenshots go (default: ./artifacts)
//   PARLEY_CHROMIUM           the browser (default: /usr/bin/chromium)
//   PARLEY_TIMEOUT_MS         how long each step may wait (default: 20000)
//
// Prints one JSON summary line on stdout; exits 1 with the failed step and
// its reason on stderr when anything goes wrong.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Run, goReady, required, signIn, signInAgent, waitText } from './harness.mjs';

const SCRIPT = 'email.mjs';
const need = (name) => required(SCRIPT, name);
const AGENT = { id: need('PARLEY_AGENT_ID'), password: need('PARLEY_AGENT_PASSWORD') };
const SUPERVISOR = { id: need('PARLEY_SUPERVISOR_ID'), password: need('PARLEY_SUPERVISOR_PASSWORD') };
const SUBJECT = need('PARLEY_EMAIL_SUBJECT');
const FROM = need('PARLEY_EMAIL_FROM');
const LINE = need('PARLEY_EMAIL_LINE');
const ATTACHMENT = { name: need('PARLEY_ATTACHMENT_NAME'), text: need('PARLEY_ATTACHMENT_TEXT') };
const RESPONSE = { name: need('PARLEY_RESPONSE_NAME'), text: need('PARLEY_RESPONSE_TEXT') };
const UPLOAD = need('PARLEY_UPLOAD');
const RUN = Date.now().toString(36);

const TEXT = {
  draft: `Your parcel is late, sorry (${RUN}).`,
  comment: `Please give the tracking number (${RUN}).`,
  revised: `Your parcel left today, tracking number TRK-${RUN}.`,
  supervisor: `We have added a voucher for the delay (${RUN}).`,
};

const run = new Run(SCRIPT, { interaction: null, message: null, texts: TEXT, upload: basename(UPLOAD) });
const { summary } = run;

/** The reply's message item in the agent's thread, once in `status`. */
async function replyIn(view, status) {
  const item = view.locator(`[data-testid=email-message].outbound[data-status="${status}"]`);
  await item.first().waitFor({ state: 'visible' });
  return item.first();
}

/** The supervisor's review card holding `text`. */
async function reviewCard(page, text) {
  const deadline = Date.now() + 20000;
  const cards = page.getByTestId('review');
  for (;;) {
    for (const card of await cards.all()) {
      if ((await card.getByTestId('review-text').inputValue()).includes(text)) return card;
    }
    if (Date.now() > deadline) throw new Error(`no review card holds "${text}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await run.run(async () => {
  await run.launch();
  const agent = await run.page('agent', { acceptDownloads: true });
  const supervisor = await run.page('supervisor');
  let view;

  await run.step('the agent signs in, goes ready and accepts the e-mail offer', async () => {
    await signInAgent(run, agent, AGENT);
    await goReady(agent);
    const offer = agent.locator('[data-testid=offer][data-media=email]').filter({ hasText: SUBJECT });
    await offer.waitFor({ state: 'visible' });
    await waitText(offer.getByTestId('offer-contact'), FROM);
    summary.interaction = await offer.getAttribute('data-interaction');
    await run.screenshot('agent-offer');
    await offer.getByTestId('offer-accept').click();
    view = agent.locator(`[data-testid=email-view][data-interaction="${summary.interaction}"]`);
    await view.waitFor({ state: 'visible' });
  });

  await run.step('the agent reads the message and downloads its attachment', async () => {
    const inbound = view.locator('[data-testid=email-message].inbound').first();
    await waitText(inbound.getByTestId('email-body'), LINE);
    const link = inbound.getByTestId('email-attachment').filter({ hasText: ATTACHMENT.name });
    const [download] = await Promise.all([agent.waitForEvent('download'), link.click()]);
    if (download.suggestedFilename() !== ATTACHMENT.name) {
      throw new Error(`the download is named ${download.suggestedFilename()}`);
    }
    const content = await readFile(await download.path(), 'utf8');
    if (content !== ATTACHMENT.text) throw new Error(`the attachment downloaded holds ${JSON.stringify(content)}`);
    summary.downloaded = content.length;
    await run.screenshot('agent-thread');
  });

  await run.step('the reply editor holds the quoted original; the agent writes, inserts a response, attaches a file', async () => {
    const text = view.getByTestId('email-text');
    await agent.waitForFunction((el) => el.value.includes('wrote:'), await text.elementHandle());
    const prefilled = await text.inputValue();
    if (!prefilled.includes('> ' + LINE)) throw new Error(`the original is not quoted: ${prefilled}`);
    const subject = await view.getByTestId('email-subject').inputValue();
    if (subject !== 'Re: ' + SUBJECT) throw new Error(`the subject is "${subject}"`);
    const to = await view.getByTestId('email-to').inputValue();
    if (to !== FROM) throw new Error(`the reply goes to "${to}"`);
    await text.click();
    await text.press('Control+Home');
    await text.pressSequentially(TEXT.draft + '\n', { delay: 5 });
    await view.getByTestId('responses').selectOption({ label: RESPONSE.name });
    await view.getByTestId('insert-response').click();
    await agent.waitForFunction(([el, wanted]) => el.value.includes(wanted), [await text.elementHandle(), RESPONSE.text]);
    const written = await text.inputValue();
    if (!written.startsWith(TEXT.draft + '\n' + RESPONSE.text)) {
      throw new Error(`the response was not inserted after the agent's line: ${JSON.stringify(written.slice(0, 200))}`);
    }
    await view.getByTestId('email-file-input').setInputFiles(UPLOAD);
    await view.getByTestId('email-file').filter({ hasText: basename(UPLOAD) }).waitFor();
    await run.screenshot('agent-editor');
    await view.getByTestId('email-send').click();
    const pending = await replyIn(view, 'review');
    summary.message = await pending.getAttribute('data-message');
    await waitText(pending.getByTestId('email-status'), 'Waiting for review');
    await run.screenshot('agent-waiting');
  });

  await run.step('the supervisor returns the reply with a comment', async () => {
    await signIn(run, supervisor, SUPERVISOR, '/supervisor');
    const card = await reviewCard(supervisor, TEXT.draft);
    if ((await card.getAttribute('data-message')) !== summary.message) throw new Error('the card is of another message');
    await run.screenshot('supervisor-review');
    await card.getByTestId('review-comment').fill(TEXT.comment);
    await card.getByTestId('review-reject').click();
    await card.waitFor({ state: 'detached' });
  });

  await run.step('the agent sees the comment, revises and resubmits', async () => {
    const returned = await replyIn(view, 'rejected');
    await waitText(returned.getByTestId('email-note'), TEXT.comment);
    await run.screenshot('agent-returned');
    await returned.getByTestId('email-revise').click();
    await waitText(view.getByTestId('email-editor-title'), 'Revise');
    const text = view.getByTestId('email-text');
    const before = await text.inputValue();
    if (!before.startsWith(TEXT.draft)) throw new Error(`the editor does not hold the returned reply: ${before.slice(0, 80)}`);
    await text.fill(before.replace(TEXT.draft, TEXT.revised));
    await view.getByTestId('email-send').click();
    await replyIn(view, 'review');
  });

  await run.step('the supervisor adds a line and approves', async () => {
    const card = await reviewCard(supervisor, TEXT.revised);
    const text = card.getByTestId('review-text');
    const written = await text.inputValue();
    await text.fill(written.replace(TEXT.revised, TEXT.revised + '\n' + TEXT.supervisor));
    await run.screenshot('supervisor-approve');
    await card.getByTestId('review-approve').click();
    await card.waitFor({ state: 'detached' });
  });

  await run.step('the agent sees the reply sent and completes the e-mail', async () => {
    const sent = await replyIn(view, 'sent');
    await waitText(sent.getByTestId('email-body'), TEXT.supervisor);
    await waitText(sent, basename(UPLOAD));
    await run.screenshot('agent-sent');
    await view.getByTestId('complete').click();
    await view.waitFor({ state: 'detached' });
  });

  await run.step("the supervisor sees the mailbox's state", async () => {
    const row = supervisor.getByTestId('mailbox-row').first();
    await waitText(row, 'connected');
    await run.screenshot('supervisor-mailboxes');
  });
});
