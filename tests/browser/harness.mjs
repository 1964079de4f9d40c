// What the browser tests share: Debian's Chromium driven by playwright-core,
// named steps, screenshots per page, the agent desktop's sign-in, and one
// JSON summary line on stdout (exit 1 with the failed step on stderr).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const env = process.env;

/** The value of environment variable `name`; exits 2 when unset. */
export function required(script, name) {
  const value = env[name];
  if (!value) {
    console.error(`${script}: set ${name} (see the header of tests/browser/${script})`);
    process.exit(2);
  }
  return value;
}

export const TIMEOUT = Number(env.PARLEY_TIMEOUT_MS || 20000);

/**
 * One browser run: `summary` (printed at the end) starts with `fields`;
 * `pages` maps a short name to its page.
 */
export class Run {
  constructor(script, fields) {
    this.script = script;
    this.server = required(script, 'PARLEY_URL').replace(/\/+$/, '');
    this.artifacts = resolve(env.PARLEY_ARTIFACTS || 'artifacts');
    mkdirSync(this.artifacts, { recursive: true });
    this.started = Date.now();
    this.pages = {};
    this.shot = 0;
    this.currentStep = 'setup';
    this.browser = null;
    this.summary = {
      ok: false,
      server: this.server,
      browser: null,
      ...fields,
      steps: [],
      screenshots: [],
      errors: [],
      artifacts: this.artifacts,
      ms: 0,
    };
  }

  async launch() {
    this.browser = await chromium.launch({
      executablePath: env.PARLEY_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 60000,
    });
    this.summary.browser = this.browser.version();
    return this.browser;
  }

  /** A new page `who` in its own browser context, watched for errors. */
  async page(who, contextOptions = {}) {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
    const page = await context.newPage();
    this.watch(who, page);
    return page;
  }

  watch(who, page) {
    this.pages[who] = page;
    page.setDefaultTimeout(TIMEOUT);
    page.on('pageerror', (err) => this.summary.errors.push({ page: who, kind: 'pageerror', text: String(err) }));
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.summary.errors.push({ page: who, kind: 'console', text: msg.text() });
    });
  }

  /** A screenshot of the page named by the first word of `name`. */
  async screenshot(name) {
    const [who] = name.split('-');
    const page = this.pages[who];
    if (!page) return;
    const file = join(this.artifacts, `${String(++this.shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, animations: 'disabled' });
    this.summary.screenshots.push(file);
  }

  async step(name, body) {
    this.currentStep = name;
    const t0 = Date.now();
    await body();
    this.summary.steps.push({ step: name, ms: Date.now() - t0 });
  }

  /** Runs `body`, then prints the summary; fails on uncaught page errors. */
  async run(body) {
    try {
      await body();
      const uncaught = this.summary.errors.filter((e) => e.kind === 'pageerror');
      if (uncaught.length) {
        this.currentStep = 'no uncaught errors in the pages';
        throw new Error(uncaught.map((e) => `${e.page}: ${e.text}`).join('; '));
      }
      this.summary.ok = true;
    } catch (err) {
      this.summary.failedStep = this.currentStep;
      this.summary.failure = String((err && err.message) || err).split('\n')[0];
      for (const [who, page] of Object.entries(this.pages)) {
        try {
          const file = join(this.artifacts, `failure-${who}.png`);
          await page.screenshot({ path: file });
          this.summary.screenshots.push(file);
        } catch {
          /* the page may be gone */
        }
      }
      console.error(`${this.script}: FAILED at step "${this.currentStep}": ${err && err.stack ? err.stack : err}`);
    } finally {
      this.summary.ms = Date.now() - this.started;
      if (this.browser) await this.browser.close().catch(() => {});
      console.log(JSON.stringify(this.summary));
      process.exitCode = this.summary.ok ? 0 : 1;
    }
  }
}

/** Signs `agent` ({ id, password }) in to `path` (the desktop by default). */
export async function signIn(run, page, agent, path = '/agent') {
  await page.goto(`${run.server}${path}`);
  await page.getByTestId('sign-in-id').fill(agent.id);
  await page.getByTestId('sign-in-password').fill(agent.password);
  await page.getByTestId('sign-in-submit').click();
}

/** Signs in to the agent desktop and waits until it is connected. */
export async function signInAgent(run, page, agent) {
  await signIn(run, page, agent);
  await page.getByTestId('presence').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'Connected');
}

export async function goReady(page) {
  await page.getByTestId('presence').selectOption('ready');
  await page.waitForFunction(() => document.querySelector('[data-testid=presence]').value === 'ready');
}

/** Waits until `locator`'s text contains `text`; returns the text seen. */
export async function waitText(locator, text) {
  const deadline = Date.now() + TIMEOUT;
  let seen = '';
  while (Date.now() < deadline) {
    seen = (await locator.textContent().catch(() => '')) || '';
    if (seen.includes(text)) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected "${text}" in ${locator}, saw "${seen}"`);
}
