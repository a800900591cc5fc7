// manage.mjs - drives the web manager in Debian's chromium (playwright-core)
// for tests/integration/test_web_manager.py.  One phase per run:
//
//   node manage.mjs lockout  URL USER PASSWORD
//   node manage.mjs live     URL USER PASSWORD N
//   node manage.mjs hangup   URL USER PASSWORD
//   node manage.mjs screens  URL USER PASSWORD OUTDIR
//   node manage.mjs config   URL USER PASSWORD
//
// Prints one JSON line with what it saw; exits 1 (with the reason on
// stderr) when the page did not do what the phase expects.
import { createRequire } from 'node:module';
import { readFileSync, mkdirSync } from 'node:fs';

const require = createRequire(new URL('../../billingd/web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const [phase, url, user, password, arg] = process.argv.slice(2);
const base = `${url.replace(/\/$/, '')}/manage/`;
const out = {};
const problems = [];

function fail(why) {
  problems.push(why);
}

async function newPage(browser, viewport) {
  const ctx = await browser.newContext({ viewport: viewport || { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  // script errors fail the phase; the browser's own line for an HTTP
  // error answer (401 before sign-in, 429 locked) is the API working
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded/.test(m.text())) {
      fail(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  return page;
}

async function signIn(page, pass) {
  await page.goto(base);
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('button[type=submit]');
}

async function value(page, id) {
  const t = await page.textContent(`[data-value="${id}"]`);
  return Number((t || '').replace(/[^0-9.-]/g, ''));
}

async function axe(page, name) {
  // page.evaluate runs outside the page's CSP, as a browser extension would
  const res = await page.evaluate(async (src) => {
    // eslint-disable-next-line no-eval
    (0, eval)(src);
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length }));
  }, AXE);
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) fail(`axe on ${name}: ${JSON.stringify(bad)}`);
  return res;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'],
});
try {
  if (phase === 'lockout') {
    const page = await newPage(browser);
    const seen = [];
    for (let i = 0; i < 5; i++) {
      await signIn(page, `wrong-${i}`);
      await page.waitForFunction(
        (n) => document.querySelector('[data-testid=login-error]')?.textContent.length > 0, i);
      seen.push(await page.textContent('[data-testid=login-error]'));
      await page.fill('#login-user', '');
    }
    await signIn(page, password); // the right one, too late
    await page.waitForTimeout(500);
    const last = await page.textContent('[data-testid=login-error]');
    out.messages = [...seen, last];
    if (!/locked/i.test(last)) fail(`the right password after 5 wrong ones got: ${last}`);
    if (await page.$('[data-testid=logout]')) fail('signed in while locked');
  } else if (phase === 'live') {
    const want = Number(arg);
    const page = await newPage(browser);
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
    await signIn(page, password);
    await page.waitForSelector('[data-value="live-calls"]');
    const n0 = navigations;
    const samples = [];
    let max = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 40000) {
      const v = await value(page, 'live-calls');
      samples.push(v);
      max = Math.max(max, v);
      if (max >= want && v === 0) break;
      await page.waitForTimeout(500);
    }
    out.max = max;
    out.last = samples[samples.length - 1];
    out.reloads = navigations - n0;
    if (max < want) fail(`live calls reached ${max}, not ${want}`);
    if (out.last !== 0) fail(`live calls did not come back to 0: ${out.last}`);
    if (out.reloads) fail(`the page reloaded ${out.reloads} times`);
  } else if (phase === 'hangup') {
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    await page.goto(`${base}#/calls`);
    const row = await page.waitForSelector('tr[data-call]', { timeout: 20000 });
    const id = await row.getAttribute('data-call');
    page.once('dialog', (d) => { out.confirm = d.message(); d.accept(); });
    await row.$eval('button', (b) => b.click());
    await page.waitForSelector(`tr[data-call="${id}"]`, { state: 'detached', timeout: 15000 });
    out.hung_up = id;
    if (!out.confirm) fail('no confirmation asked before hanging up');
  } else if (phase === 'config') {
    // an account through the form: every bad input shows its field's
    // error and writes nothing (the test counts the rows), then a good one
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    const form = async () => {
      await page.goto(`${base}#/accounts/new`);
      await page.waitForSelector('#f-name');
    };
    const fieldError = async (name) => {
      const el = await page.waitForSelector(`[data-error="${name}"]`, { timeout: 10000 });
      return el.textContent();
    };
    out.errors = {};
    await form();
    await page.click('[data-testid=save]');
    out.errors.empty_name = await fieldError('name');
    await page.fill('#f-name', 'webcust');
    await page.selectOption('#f-type', 'customer');
    await page.selectOption('#f-billing_type', 'prepaid');
    await page.fill('#f-balance', 'abc');
    await page.click('[data-testid=save]');
    out.errors.bad_money = await fieldError('balance');
    await page.fill('#f-balance', '5');
    await page.fill('#f-max_concurrent_calls', '-1');
    await page.click('[data-testid=save]');
    out.errors.out_of_range = await fieldError('max_concurrent_calls');
    await page.fill('#f-max_concurrent_calls', '3');
    await page.click('[data-testid=save]');
    await page.waitForSelector('tr[data-row="webcust"]', { timeout: 10000 });
    await form();
    await page.fill('#f-name', 'webcust');
    await page.selectOption('#f-type', 'customer');
    await page.click('[data-testid=save]');
    await page.waitForFunction(() => document.querySelector('[data-testid=form-note]')?.textContent.length > 0);
    out.errors.duplicate = (await page.$('[data-error="name"]'))
      ? await fieldError('name') : await page.textContent('[data-testid=form-note]');
    // edit: only the changed field is sent, with If-Match
    await page.goto(`${base}#/accounts/webcust`);
    await page.waitForSelector('#f-credit_limit');
    await page.waitForFunction(() => document.querySelector('#f-balance').value !== '');
    await page.fill('#f-credit_limit', '2');
    await page.click('[data-testid=save]');
    await page.waitForSelector('tr[data-row="webcust"]', { timeout: 10000 });
    // delete, after a confirmation
    await form();
    await page.fill('#f-name', 'webtmp');
    await page.selectOption('#f-type', 'vendor');
    await page.click('[data-testid=save]');
    await page.waitForSelector('tr[data-row="webtmp"]', { timeout: 10000 });
    await page.goto(`${base}#/accounts/webtmp`);
    await page.waitForSelector('[data-testid=delete]');
    page.once('dialog', (d) => { out.confirm = d.message(); d.accept(); });
    await page.click('[data-testid=delete]');
    await page.waitForSelector('tr[data-row="webcust"]', { timeout: 10000 });
    out.left = await page.$$eval('tr[data-row]', (rows) => rows.map((r) => r.dataset.row));
    for (const [k, v] of Object.entries(out.errors)) if (!v) fail(`no field error for ${k}`);
    if (!out.confirm) fail('no confirmation asked before deleting');
  } else if (phase === 'screens') {
    mkdirSync(arg, { recursive: true });
    out.shots = [];
    const views = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 812 } };
    for (const lang of ['en', 'zh']) {
      for (const [vname, vp] of Object.entries(views)) {
        const page = await newPage(browser, vp);
        await page.goto(base);
        await page.waitForSelector('#login-user');
        await page.selectOption('[data-testid=lang]', lang);
        await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
        await axe(page, `login ${lang} ${vname}`);
        let f = `${arg}/login-${lang}-${vname}.png`;
        await page.screenshot({ path: f, fullPage: true });
        out.shots.push(f);
        await page.fill('#login-user', user);
        await page.fill('#login-pass', password);
        await page.click('button[type=submit]');
        await page.waitForSelector('[data-value="live-calls"]');
        await page.selectOption('[data-testid=lang]', lang);
        const ready = {
          dashboard: '.chart-box canvas, .chart-box .u-wrap', calls: '#call-filter',
          accounts: 'tr[data-row]', 'accounts/new': '#f-name', routing_gateways: 'tr[data-row]',
        };
        for (const p of Object.keys(ready)) {
          await page.goto(`${base}#/${p}`);
          await page.waitForSelector(ready[p]);
          await page.waitForTimeout(300);
          if (vname === 'phone') {
            const over = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
            if (over > 0) fail(`${p} ${lang} is ${over} px wider than the phone`);
          }
          await axe(page, `${p} ${lang} ${vname}`);
          f = `${arg}/${p.replace('/', '-')}-${lang}-${vname}.png`;
          await page.screenshot({ path: f, fullPage: true });
          out.shots.push(f);
        }
        await page.selectOption('[data-testid=lang]', 'en');
        await page.click('[data-testid=logout]');
        await page.waitForSelector('#login-user');
        await page.context().close();
      }
    }
  } else {
    fail(`unknown phase ${phase}`);
  }
} catch (e) {
  fail(`${phase}: ${e.message}`);
} finally {
  await browser.close();
}
out.problems = problems;
console.log(JSON.stringify(out));
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
