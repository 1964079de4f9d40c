// End-to-end test of the web chat channel in a real browser (Debian's
// Chromium driven by playwright-core).
//
// A pretend shop page, served here on its own origin, carries only the
// widget's script tag pointing at the Parley server. A customer starts a
// chat from it; agent 1 signs in to the agent desktop, goes ready, accepts
// the offer; they exchange messages, each seeing the other type; agent 1
// transfers the chat to agent 2, who accepts, sees the earlier transcript,
// writes and ends the chat with a disposition; the customer sees it end.
//
// Inputs (environment):
//   PARLEY_URL                 the server, e.g. http://127.0.0.1:8080 (required)
//   PARLEY_AGENT1_ID, PARLEY_AGENT1_PASSWORD   (required)
//   PARLEY_AGENT2_ID, PARLEY_AGENT2_PASSWORD   (required)
//   PARLEY_ARTIFACTS           where screenshots go (default: ./artifacts)
//   PARLEY_CUSTOMER_EMAIL      the customer's e-mail (default: a new one)
//   PARLEY_CUSTOMER_NAME       the customer's nickname (default: Ada)
//   PARLEY_DISPOSITION         disposition to end with (default: the first offered)
//   PARLEY_CHROMIUM            the browser (default: /usr/bin/chromium)
//   PARLEY_TIMEOUT_MS          how long each step may wait (default: 20000)
//
// Prints one JSON summary line on stdout; exits 1 with the failed step and
// its reason on stderr when anything goes wrong.

import { createServer } from 'node:http';
import { Run, goReady, required, signInAgent, waitText } from './harness.mjs';

const env = process.env;
const SCRIPT = 'chat.mjs';
const AGENTS = [
  { key: 'agent1', id: required(SCRIPT, 'PARLEY_AGENT1_ID'), password: required(SCRIPT, 'PARLEY_AGENT1_PASSWORD') },
  { key: 'agent2', id: required(SCRIPT, 'PARLEY_AGENT2_ID'), password: required(SCRIPT, 'PARLEY_AGENT2_PASSWORD') },
];
const RUN = Date.now().toString(36);
const EMAIL = env.PARLEY_CUSTOMER_EMAIL || `ada-${RUN}@example.com`;
const NICKNAME = env.PARLEY_CUSTOMER_NAME || 'Ada';
const SUBJECT = `Order AB12 (${RUN})`;
const POLLER = 'Grace';

const TEXT = {
  customer1: `Hello, my order AB12 has not arrived (${RUN})`,
  agent1: `Hi ${NICKNAME}, let me look into order AB12 for you (${RUN})`,
  customer2: `Thank you, it was due on Monday (${RUN})`,
  agent1b: `I am passing you to our delivery team, one moment (${RUN})`,
  agent2: `Hello ${NICKNAME}, I am from deliveries: it leaves today (${RUN})`,
  customer3: `Great, thanks a lot (${RUN})`,
  poller: `Hello from a browser without WebSocket (${RUN})`,
  pollerReply: `Hello Grace, long polling works too (${RUN})`,
};

const run = new Run(SCRIPT, {
  shop: null,
  email: EMAIL,
  nickname: NICKNAME,
  subject: SUBJECT,
  interaction: null,
  disposition: null,
  messages: {
    customer: [TEXT.customer1, TEXT.customer2, TEXT.customer3],
    [AGENTS[0].id]: [TEXT.agent1, TEXT.agent1b],
    [AGENTS[1].id]: [TEXT.agent2],
  },
  typing: {},
});
const { summary, pages } = run;
const SERVER = run.server;
const screenshot = (name) => run.screenshot(name);
const step = (name, body) => run.step(name, body);

/** The shop: a plain page of another origin with only the widget's tag. */
function startShop() {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Bicycle Parts Shop</title><link rel="icon" href="data:,">
<style>body{font:16px/1.5 Georgia,serif;margin:0;background:#fffdf7;color:#222}
header{background:#14532d;color:#fff;padding:16px 24px}main{padding:24px;max-width:700px}
.product{border:1px solid #ddd;border-radius:8px;padding:12px;margin:12px 0;background:#fff}</style>
</head>
<body>
<header><h1>Bicycle Parts Shop</h1></header>
<main>
<p>Everything for your bike, delivered in two days.</p>
<div class="product"><h2>Chain, 11 speed</h2><p>24.90 EUR</p></div>
<div class="product"><h2>Brake pads</h2><p>9.50 EUR</p></div>
</main>
<script src="${SERVER}/chat/widget.js" async></script>
</body>
</html>`;
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen(server));
  });
}

async function acceptOffer(page, who) {
  const offer = page.getByTestId('offer').first();
  await offer.waitFor({ state: 'visible' });
  await offer.getByTestId('offer-title').filter({ hasText: NICKNAME }).waitFor();
  const id = await offer.getAttribute('data-interaction');
  await screenshot(`${who}-offer`);
  await offer.getByTestId('offer-accept').click();
  const view = page.locator(`[data-testid=chat-view][data-interaction="${id}"]`);
  await view.waitFor({ state: 'visible' });
  return { id, view };
}

async function waitMessage(scope, testid, text) {
  await scope.locator(`[data-testid=${testid}]`).filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

// ---------------------------------------------------------------- run

let shop;
await run.run(async () => {
  shop = await startShop();
  const shopUrl = `http://127.0.0.1:${shop.address().port}/`;
  summary.shop = shopUrl;
  if (new URL(shopUrl).origin === new URL(SERVER).origin) throw new Error('the shop must be of another origin');

  const browser = await run.launch();
  for (const who of ['customer', 'agent1', 'agent2']) await run.page(who);
  const { customer, agent1, agent2 } = pages;
  const [one, two] = AGENTS;

  await step('customer opens the widget on the shop page and starts a chat', async () => {
    await customer.goto(shopUrl);
    await customer.getByTestId('chat-launcher').click();
    await customer.getByTestId('prechat-nickname').fill(NICKNAME);
    await customer.getByTestId('prechat-email').fill(EMAIL);
    await customer.getByTestId('prechat-subject').fill(SUBJECT);
    await screenshot('customer-prechat');
    await customer.getByTestId('prechat-start').click();
    await customer.getByTestId('chat-input').waitFor({ state: 'visible' });
    await screenshot('customer-waiting');
  });

  await step('agent 1 signs in, goes ready and accepts the offer', async () => {
    await signInAgent(run, agent1, one);
    await goReady(agent1);
    const { id } = await acceptOffer(agent1, 'agent1');
    summary.interaction = id;
    await screenshot('agent1-accepted');
  });
  const view1 = agent1.locator(`[data-testid=chat-view][data-interaction="${summary.interaction}"]`);

  await step('agent 1 sees the customer typing, then the message', async () => {
    const input = customer.getByTestId('chat-input');
    await input.click();
    await input.pressSequentially(TEXT.customer1, { delay: 15 });
    summary.typing.agent1Saw = await waitText(view1.getByTestId('typing'), 'typing');
    await screenshot('agent1-sees-typing');
    await input.press('Enter');
    await waitMessage(view1, 'message', TEXT.customer1);
    await waitMessage(customer, 'chat-message', TEXT.customer1);
  });

  await step('the customer sees agent 1 typing, then the reply', async () => {
    const composer = view1.getByTestId('composer');
    await composer.click();
    await composer.pressSequentially(TEXT.agent1, { delay: 15 });
    summary.typing.customerSaw = await waitText(customer.getByTestId('chat-typing'), 'typing');
    await screenshot('customer-sees-typing');
    await composer.press('Enter');
    await waitMessage(customer, 'chat-message', TEXT.agent1);
    await waitMessage(view1, 'message', TEXT.agent1);
    const input = customer.getByTestId('chat-input');
    await input.fill(TEXT.customer2);
    await input.press('Enter');
    await waitMessage(view1, 'message', TEXT.customer2);
    await screenshot('customer-conversation');
    await screenshot('agent1-conversation');
  });

  await step('the customer reloads the shop page and the chat resumes', async () => {
    await customer.reload();
    await customer.getByTestId('chat-input').waitFor({ state: 'visible' });
    for (const text of [TEXT.customer1, TEXT.agent1, TEXT.customer2]) {
      await waitMessage(customer, 'chat-message', text);
    }
    const composer = view1.getByTestId('composer');
    await composer.fill(TEXT.agent1b);
    await composer.press('Enter');
    await waitMessage(customer, 'chat-message', TEXT.agent1b);
    for (const text of Object.values(TEXT).slice(0, 3)) {
      const copies = await customer.getByTestId('chat-message').filter({ hasText: text }).count();
      if (copies !== 1) throw new Error(`the customer sees "${text}" ${copies} times after the reload`);
    }
    await screenshot('customer-resumed');
  });

  await step('agent 2 signs in and goes ready', async () => {
    await signInAgent(run, agent2, two);
    await goReady(agent2);
    await screenshot('agent2-ready');
  });

  await step('agent 1 transfers the chat to agent 2', async () => {
    const target = view1.getByTestId('transfer-target');
    await target.focus();
    await target.locator(`option[value="agent:${two.id}"]`).waitFor({ state: 'attached' });
    await target.selectOption(`agent:${two.id}`);
    await screenshot('agent1-transfer');
    await view1.getByTestId('transfer').click();
    await view1.waitFor({ state: 'detached' });
    await screenshot('agent1-transferred');
  });

  let view2;
  await step('agent 2 accepts and sees the earlier transcript', async () => {
    const { id, view } = await acceptOffer(agent2, 'agent2');
    if (id !== summary.interaction) throw new Error(`agent 2 was offered ${id}, not ${summary.interaction}`);
    view2 = view;
    for (const text of [TEXT.customer1, TEXT.agent1, TEXT.customer2, TEXT.agent1b]) {
      await waitMessage(view2, 'message', text);
    }
    await screenshot('agent2-transcript');
  });

  await step('agent 2 and the customer write to each other', async () => {
    const composer = view2.getByTestId('composer');
    await composer.click();
    await composer.pressSequentially(TEXT.agent2, { delay: 10 });
    summary.typing.customerSawAgent2 = await waitText(customer.getByTestId('chat-typing'), 'typing');
    await composer.press('Enter');
    await waitMessage(customer, 'chat-message', TEXT.agent2);
    const input = customer.getByTestId('chat-input');
    await input.fill(TEXT.customer3);
    await input.press('Enter');
    await waitMessage(view2, 'message', TEXT.customer3);
    await screenshot('customer-after-transfer');
  });

  await step('agent 2 ends the chat with a disposition', async () => {
    const select = view2.getByTestId('disposition');
    const options = await select.locator('option').evaluateAll((list) => list.map((o) => o.value));
    const wanted = env.PARLEY_DISPOSITION || options.find((v) => v) || '';
    if (env.PARLEY_DISPOSITION && !options.includes(wanted)) {
      throw new Error(`disposition "${wanted}" is not offered (${options.join(', ')})`);
    }
    if (wanted) await select.selectOption(wanted);
    summary.disposition = wanted || null;
    await screenshot('agent2-ending');
    await view2.getByTestId('end-chat').click();
    await view2.waitFor({ state: 'detached' });
    await screenshot('agent2-ended');
  });

  await step('the customer sees the chat ended', async () => {
    await customer.getByTestId('chat-ended').waitFor({ state: 'visible' });
    await waitText(customer.getByTestId('chat-ended'), 'Chat ended');
    await screenshot('customer-ended');
  });

  await step('agent 2 signs out', async () => {
    await agent2.getByTestId('sign-out').click();
    await agent2.getByTestId('sign-in-form').waitFor({ state: 'visible' });
  });

  await step('a customer whose browser cannot open WebSockets chats over long polling', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // As behind a proxy that refuses WebSocket upgrades: every socket closes unopened.
    await context.addInitScript(() => {
      window.WebSocket = class extends EventTarget {
        constructor(url) {
          super();
          this.url = url;
          this.readyState = 3;
          setTimeout(() => this.dispatchEvent(new Event('close')), 5);
        }
        send() {
          throw new Error('not open');
        }
        close() {}
      };
      window.WebSocket.OPEN = 1;
    });
    const page = await context.newPage();
    run.watch('poller', page);
    let polls = 0;
    page.on('request', (request) => {
      if (/\/v1\/chat\/sessions\/[^/]+\/messages\?after=/.test(request.url())) polls += 1;
    });
    await page.goto(shopUrl);
    await page.getByTestId('chat-launcher').click();
    await page.getByTestId('prechat-nickname').fill(POLLER);
    await page.getByTestId('prechat-start').click();
    await page.getByTestId('chat-input').waitFor({ state: 'visible' });
    const offer = agent1.getByTestId('offer').filter({ hasText: POLLER });
    await offer.waitFor({ state: 'visible' });
    const id = await offer.getAttribute('data-interaction');
    await offer.getByTestId('offer-accept').click();
    const view = agent1.locator(`[data-testid=chat-view][data-interaction="${id}"]`);
    await view.waitFor({ state: 'visible' });
    const input = page.getByTestId('chat-input');
    await input.fill(TEXT.poller);
    await input.press('Enter');
    await waitMessage(view, 'message', TEXT.poller);
    const composer = view.getByTestId('composer');
    await composer.fill(TEXT.pollerReply);
    await composer.press('Enter');
    await waitMessage(page, 'chat-message', TEXT.pollerReply);
    await screenshot('poller-conversation');
    await view.getByTestId('end-chat').click();
    await view.waitFor({ state: 'detached' });
    await page.getByTestId('chat-ended').waitFor({ state: 'visible' });
    await screenshot('poller-ended');
    if (polls < 2) throw new Error(`the widget long-polled ${polls} times`);
    summary.longPoll = { interaction: id, polls };
  });
});
if (shop) shop.close();
