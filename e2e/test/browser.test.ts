import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/**
 * The account pages in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), against the built pages served by the gateway in front of the real services.
 * Every page visited is saved to e2e/screenshots/<page>.png for a reviewer to look at.
 */
const root = resolve(import.meta.dirname, '../..');
const screenshots = resolve(import.meta.dirname, '../screenshots');
const chromiumPath = '/usr/bin/chromium';
const run = promisify(execFile);

const username = 'browser-ada';
const firstPassword = 'correct horse battery';
const secondPassword = 'staple battery horse correct';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors and uncaught exceptions of every page, checked after each test. */
const problems: string[] = [];

function watch(target: Page): Page {
  target.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  target.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return target;
}

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: resolve(screenshots, `${name}.png`), fullPage: true });
}

const api = (path: string, init?: RequestInit) => fetch(`${stack.gatewayUrl}${path}`, init);
const exchangeToken = (token: string) => api('/api/v1/auth/token', { method: 'POST', headers: { authorization: `Token ${token}` } });

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`The browser tests drive Debian's Chromium at ${chromiumPath}, which is missing: apt-get install chromium`);
  }
  await mkdir(screenshots, { recursive: true });
  await run('npm', ['run', 'build', '-w', '@tmuxme/web'], { cwd: root, timeout: 100_000 });
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), webRoot: resolve(root, 'web/dist') });
  // launch() gives the browser a fresh temporary user-data dir of its own, removed on close.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ baseURL: stack.gatewayUrl, viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(15_000);
  page = watch(await context.newPage());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the account pages in Chromium', () => {
  it('a logged-out visit to a private page lands on the login page', async () => {
    const visitor = watch(await (await browser.newContext({ baseURL: stack.gatewayUrl })).newPage());
    await visitor.goto('/keys');
    await expectHeading(visitor, 'Log in');
    expect(new URL(visitor.url()).pathname).toBe('/login');
    expect(new URL(visitor.url()).searchParams.get('next')).toBe('/keys');
    await visitor.getByLabel('Username or e-mail address').waitFor();
    await shot('login', visitor);
    await visitor.context().close();
  });

  it('shows the landing page and signs up, showing the API token once', async () => {
    await page.goto('/');
    await expectHeading(page, 'tmux.me');
    await page.getByText('npm install -g @tmuxme/cli').waitFor();
    await shot('landing');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' }).click();
    await expectHeading(page, 'Sign up');
    await shot('signup');
    // An error from the API, shown next to its field.
    await page.getByLabel('Username').fill('Not A Name');
    await page.getByLabel('E-mail address').fill('ada@example.com');
    await page.getByLabel('Password', { exact: true }).fill(firstPassword);
    await page.getByLabel('Password again').fill(firstPassword);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByLabel('Username').and(page.locator('[aria-invalid="true"]')).waitFor();
    await shot('signup-error');

    await page.getByLabel('Username').fill(username);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expectHeading(page, `Welcome, ${username}`);
    const reveal = page.getByRole('region', { name: 'Your new API token “default”' });
    const token = (await reveal.locator('code').last().textContent())!;
    expect(token).toMatch(/^tmx_/);
    await shot('signup-token');
    expect((await exchangeToken(token)).status).toBe(200);
    await expect(page.getByRole('button', { name: `Log out ${username}` }).isVisible()).resolves.toBe(true);

    // Gone once the page is left, and not back with the back button.
    await page.getByRole('link', { name: 'add your SSH key' }).click();
    await expectHeading(page, 'SSH keys');
    await expect(page.getByText(token).count()).resolves.toBe(0);
    await page.goBack();
    await expectHeading(page, 'Sign up');
    await expect(page.getByText(token).count()).resolves.toBe(0);
  });

  it('adds a pasted public key, found in the public keys.json', async () => {
    const key = await generateSshKey('ed25519', undefined, 'ada@laptop');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SSH keys' }).click();
    await expectHeading(page, 'SSH keys');
    await page.getByText('No keys yet: add one below.').waitFor();
    await page.getByLabel('Public key').fill(key.publicKey);
    await page.getByLabel('Title (optional)').fill('laptop');
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.getByRole('status').filter({ hasText: 'Added the key “laptop”.' }).waitFor();
    await page.getByText(key.fingerprint).waitFor();
    await shot('keys');

    const published = await api(`/api/v1/users/${username}/keys.json`);
    expect(published.status).toBe(200);
    expect(await published.json()).toMatchObject([{ fingerprint: key.fingerprint }]);
  });

  it('says plainly that a pasted private key (or a short RSA key) is refused', async () => {
    const key = await generateSshKey('ed25519');
    await page.getByLabel('Public key').fill(key.privateKey);
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.getByText('This looks like a private key. Paste the public key: the contents of the .pub file.').waitFor();
    await page.getByLabel('Public key').and(page.locator('[aria-invalid="true"]')).waitFor();
    await shot('keys-private-key');

    // This one only the server can judge; its words reach the page unchanged.
    const short = await generateSshKey('rsa', 1024);
    await page.getByLabel('Public key').fill(short.publicKey);
    await page.getByRole('button', { name: 'Add key' }).click();
    await page.getByText('RSA keys need 2048 bits or more; this one has 1024.').waitFor();
    expect(await (await api(`/api/v1/users/${username}/keys.json`)).json()).toHaveLength(1);
  });

  it('creates a named API token, shows it once, and revokes it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
    await expectHeading(page, 'API tokens');
    await page.getByLabel('Token name').fill('work-laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const reveal = page.getByRole('region', { name: 'Your new API token “work-laptop”' });
    const token = (await reveal.locator('code').last().textContent())!;
    expect(token).toMatch(/^tmx_/);
    expect((await exchangeToken(token)).status).toBe(200);
    await shot('tokens');

    await reveal.getByRole('button', { name: 'I have copied it' }).click();
    await reveal.waitFor({ state: 'detached' });
    await expect(page.getByText(token).count()).resolves.toBe(0);

    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'work-laptop' }) });
    await card.getByRole('button', { name: 'Revoke' }).click();
    await card.getByRole('button', { name: 'Yes, revoke it' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked the token “work-laptop”; it no longer works.' }).waitFor();
    await card.waitFor({ state: 'detached' });
    expect((await exchangeToken(token)).status).toBe(401);
  });

  it('lists a session the user is invited to, with the join commands to copy and the host key fingerprint', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions' }).click();
    await expectHeading(page, 'Sessions');
    await page.getByText('No live sessions.').waitFor();
    await shot('sessions-empty');

    const { user: host } = await new ApiClient(stack.gatewayUrl).signup('browser-pat');
    const { port } = (await host.request('GET', '/api/v1/pairing/port')).json;
    const hostKey = await generateSshKey('ed25519');
    // Sessions learns of the guest from UserRegistered, which may still be on its way.
    await waitFor(async () => (await host.request('POST', '/api/v1/pairing/sessions',
      { port, guests: [{ username, access: 'ro' }], hostKey: hostKey.publicKey })).status === 201);

    await page.getByRole('button', { name: 'Refresh' }).click();
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Hosted by browser-pat' }) });
    await card.getByText(hostKey.fingerprint).waitFor();
    await card.getByText(`ssh -p ${port} tmuxme@127.0.0.1`, { exact: true }).waitFor();
    await card.getByRole('button', { name: 'Copy the join command of browser-pat’s session', exact: true }).waitFor();
    await card.getByRole('button', { name: 'Copy the join command of browser-pat’s session that pins the host key' }).waitFor();
    await shot('sessions');
  });

  it('works from the keyboard alone, with the focus always visible', async () => {
    await page.goto('/sessions');
    await expectHeading(page, 'Sessions');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ text: 'Skip to the content', outlined: true });
    await page.keyboard.press('Enter');
    expect(await focused(page)).toMatchObject({ tag: 'MAIN' });
    // From the content, on through the page's own controls in reading order.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ text: 'Refresh', outlined: true });

    await page.goto('/tokens');
    await expectHeading(page, 'API tokens');
    await page.getByLabel('Token name').focus();
    expect(await focused(page)).toMatchObject({ tag: 'INPUT', outlined: true });
    await page.keyboard.type('from-the-keyboard');
    await page.keyboard.press('Enter');
    const reveal = page.getByRole('region', { name: 'Your new API token “from-the-keyboard”' });
    await reveal.waitFor();
    // Focus moves to what just appeared, so a screen reader reads the token out.
    expect(await focused(page)).toMatchObject({ tag: 'H2', text: 'Your new API token “from-the-keyboard”' });
  });

  it('reads on a phone and on a wide screen without sideways scrolling', async () => {
    for (const [device, viewport] of [['phone', { width: 360, height: 740 }], ['wide', { width: 1920, height: 1080 }]] as const) {
      const sized = watch(await context.newPage());
      await sized.setViewportSize(viewport);
      for (const [path, heading] of [['/', 'tmux.me'], ['/sessions', 'Sessions'], ['/keys', 'SSH keys'], ['/tokens', 'API tokens'], ['/settings', 'Settings']] as const) {
        await sized.goto(path);
        await expectHeading(sized, heading);
        await sized.locator('main').getByText(/\S/).first().waitFor();
        const overflow = await sized.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect({ device, path, overflow }).toEqual({ device, path, overflow: 0 });
        await shot(`${device}${path === '/' ? '-landing' : path.replace('/', '-')}`, sized);
      }
      await sized.close();
    }
  });

  it('changes the password, logs out, and logs in with the new one only', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await expectHeading(page, 'Settings');
    await expect(page.getByRole('textbox', { name: 'E-mail address' }).inputValue()).resolves.toBe('ada@example.com');
    await shot('settings');

    const form = page.getByRole('form', { name: 'Password' });
    await form.getByLabel('Current password').fill(firstPassword);
    await form.getByLabel('New password', { exact: true }).fill(secondPassword);
    await form.getByLabel('New password again').fill(secondPassword);
    await form.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password has been changed.' }).waitFor();

    await page.getByRole('button', { name: `Log out ${username}` }).click();
    await page.getByText('You have logged out.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).click();
    await expectHeading(page, 'Log in');
    await page.getByLabel('Username or e-mail address').fill(username);
    await page.getByLabel('Password').fill(firstPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
    await shot('login-refused');
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.getByLabel('Password').fill(secondPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectHeading(page, 'Sessions');
    expect(new URL(page.url()).pathname).toBe('/sessions');
  });

  it('deletes the account after the username is typed, and its keys.json is gone', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const form = page.getByRole('form', { name: 'Delete the account' });
    await form.getByLabel(`Type your username, ${username}, to confirm`).fill(username.toUpperCase());
    await form.getByLabel('Password').fill(secondPassword);
    await form.getByRole('button', { name: 'Delete my account' }).click();
    await form.getByText(`Type your username, ${username}, exactly as shown, to confirm.`).waitFor();
    expect((await api(`/api/v1/users/${username}/keys.json`)).status).toBe(200);

    await form.getByLabel(`Type your username, ${username}, to confirm`).fill(username);
    await form.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByText('Your account has been deleted, with its keys and tokens.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' }).isVisible()).resolves.toBe(true);
    await shot('deleted');
    // The keys service learns of the deletion from the broker, so this may take a moment.
    await waitFor(async () => (await api(`/api/v1/users/${username}/keys.json`)).status === 404);
  });

  it('logged no Content-Security-Policy violations nor script errors', () => {
    expect(problems.filter((problem) => /content security policy/i.test(problem))).toEqual([]);
    // What remains is the browser noting the API's expected refusals (the logged-out 401s, the 400s above).
    expect(problems.filter((problem) => !/^console: Failed to load resource: the server responded with a status of 4\d\d /.test(problem))).toEqual([]);
  });
});

async function expectHeading(target: Page, name: string): Promise<void> {
  await target.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** What has the keyboard focus, and whether it is drawn with an outline. */
function focused(target: Page) {
  return target.evaluate(() => {
    const element = document.activeElement as HTMLElement;
    const style = getComputedStyle(element);
    return {
      tag: element.tagName,
      text: element.textContent?.trim(),
      outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    };
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not true within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 200));
  }
}
