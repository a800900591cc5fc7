// manage.mjs - drives the web manager in Debian's chromium (playwright-core)
// for tests/integration/test_web_manager.py.  One phase per run:
//
//   node manage.mjs lockout  URL USER PASSWORD
//   node manage.mjs live     URL USER PASSWORD N
//   node manage.mjs hangup   URL USER PASSWORD
//   node manage.mjs screens  URL USER PASSWORD OUTDIR
//   node manage.mjs config   URL USER PASSWORD
//   node manage.mjs build    URL USER PASSWORD PORT_A,PORT_B
//   node manage.mjs cdr      URL USER PASSWORD NUMBER,CDR_ID
//   node manage.mjs topup    URL USER PASSWORD ACCOUNT,AMOUNT
//   node manage.mjs lock     URL USER PASSWORD GATEWAY
//   node manage.mjs roles    URL USER PASSWORD OUTDIR
//   node manage.mjs regs     URL USER PASSWORD OUTDIR
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

// boxes whose content spills out of them (a card's value, a form field)
async function spills(page, name) {
  const bad = await page.evaluate(() => [...document.querySelectorAll('.card-value, .field')]
    .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent.slice(0, 40)));
  if (bad.length) fail(`${name}: content wider than its box: ${JSON.stringify(bad)}`);
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

// page as it is now, in both languages, on a desktop and a phone: axe,
// nothing wider than the phone; the PNGs' paths are pushed to shots
async function shootBoth(page, name, dir, shots) {
  for (const lang of ['en', 'zh']) {
    await page.selectOption('[data-testid=lang]', lang);
    await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
    for (const [vname, vp] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 812 }]]) {
      await page.setViewportSize(vp);
      await page.waitForTimeout(300);
      if (vname === 'phone') {
        const over = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        if (over > 0) fail(`${name} is ${over} px wider than the phone`);
        await spills(page, `${name} ${lang}`);
      }
      await axe(page, `${name} ${lang} ${vname}`);
      const f = `${dir}/${name}-${lang}-${vname}.png`;
      await page.screenshot({ path: f, fullPage: true });
      shots.push(f);
    }
  }
  await page.selectOption('[data-testid=lang]', 'en');
  await page.setViewportSize({ width: 1280, height: 800 });
}

// the users of the registration rows shown now, in order
async function regRows(page) {
  return page.$$eval('tr[data-reg]', (rows) => rows.map((r) => r.dataset.reg));
}

async function regRowsAre(page, want) {
  await page.waitForFunction((w) => [...document.querySelectorAll('tr[data-reg]')]
    .map((r) => r.dataset.reg).join(',') === w, want.join(','), { timeout: 10000 });
}

// the rate tables the build phase imports
const CSV = {
  websell: 'prefix,area_name,connect_fee,first_interval,first_rate,next_interval,next_rate\r\n'
    + '1,US,0.0050,6,0.0125,6,0.0133\r\n"1555","US, test",0,1,0.0200,1,0.0200\r\n',
  webbuy: 'prefix,first_interval,first_rate,next_interval,next_rate\n1,6,0.0050,6,0.0050\n1555,1,0.0100,1,0.0100\n',
};

// every page of an administrator, and what shows it is ready
const LIST = '[data-testid=new]';
const SCREENS = {
  dashboard: '.chart-box canvas, .chart-box .u-wrap', calls: '#call-filter',
  alarms: '[data-testid=no-alarms], table[data-testid=alarms]', performance: '.host',
  analysis: '#route-callee', cdrs: 'table.cdrs, [data-testid=no-cdrs]',
  revenue: '[data-testid=rev-income]', stats: '#stats-span', payments: '#pay-amount',
  accounts: 'tr[data-row]', 'accounts/new': '#f-name', mapping_gateways: 'tr[data-row]',
  routing_gateways: 'tr[data-row]', gateway_groups: LIST, rate_tables: LIST,
  'rate_tables/new': '[data-testid=rate-csv]', work_calendars: LIST, package_period_rates: LIST,
  phones: LIST, registrations: 'table[data-testid=registrations], [data-testid=no-registrations]',
  card_batches: '#batch-name', params: 'table.params', access: '#wac',
  users: 'tr[data-row]',
};

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
    console.log('WATCHING'); // the test starts its calls now
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
  } else if (phase === 'build') {
    // the done-when scenario's switch, through the forms only: a rate
    // table by CSV import, a vendor, a customer, a mapping gateway and
    // two routing gateways (ports in arg as "A,B")
    const [portA, portB] = arg.split(',');
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    const create = async (section, fields) => {
      await page.goto(`${base}#/${section}/new`);
      await page.waitForSelector('#f-name');
      for (const [k, v] of Object.entries(fields)) {
        const sel = `#f-${k}`;
        const tag = await page.$eval(sel, (e) => `${e.tagName}:${e.type || ''}`);
        if (tag.startsWith('SELECT')) await page.selectOption(sel, v);
        else if (tag === 'INPUT:checkbox') await page.setChecked(sel, v);
        else await page.fill(sel, String(v));
      }
      if (section === 'rate_tables') {
        await page.setInputFiles('#rate-csv-file', {
          name: `${fields.name}.csv`, mimeType: 'text/csv', buffer: Buffer.from(CSV[fields.name]),
        });
        await page.waitForFunction(() => /2/.test(document.querySelector('[data-testid=rate-csv-note]')?.textContent || ''));
      }
      await page.click('[data-testid=save]');
      await page.waitForSelector(`tr[data-row="${fields.name}"]`, { timeout: 10000 });
    };
    await create('rate_tables', { name: 'websell' });
    await create('rate_tables', { name: 'webbuy' });
    // bad input in another form: a port out of range, a duplicate name
    out.errors = {};
    const refused = async (section, fields, field) => {
      await page.goto(`${base}#/${section}/new`);
      await page.waitForSelector('#f-name');
      for (const [k, v] of Object.entries(fields)) await page.fill(`#f-${k}`, String(v));
      await page.click('[data-testid=save]');
      await page.waitForFunction(() => document.querySelector('[data-testid=form-note]')?.textContent.length > 0);
      const el = await page.$(`[data-error="${field}"]`);
      out.errors[`${section}.${field}`] = el ? await el.textContent() : '';
      if (!el) fail(`${section}: no error next to ${field}`);
    };
    await refused('routing_gateways', { name: 'webbad', address: '127.0.0.1', port: 70000 }, 'port');
    await refused('rate_tables', { name: 'websell' }, 'name');
    await create('accounts', { name: 'webvend', type: 'vendor', buy_rate_table: 'webbuy' });
    await create('accounts', {
      name: 'webcust', type: 'customer', billing_type: 'prepaid', balance: '10', rate_table: 'websell',
    });
    await create('mapping_gateways', { name: 'webmg', account: 'webcust', auth_mode: 'ip', ips: '127.0.0.1' });
    for (const [n, port, prio] of [['webgwA', portA, 1], ['webgwB', portB, 2]]) {
      await create('routing_gateways', {
        name: n, account: 'webvend', address: '127.0.0.1', port, transport: 'udp', prefixes: '1', priority: prio,
        switch_until_connect: true,
      });
    }
    out.made = ['websell', 'webbuy', 'webvend', 'webcust', 'webmg', 'webgwA', 'webgwB'];
  } else if (phase === 'cdr') {
    // find a call's CDR by number (arg: "NUMBER,CDR_ID")
    const [number, id] = arg.split(',');
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    await page.goto(`${base}#/cdrs`);
    await page.waitForSelector('#cdr-number');
    await page.fill('#cdr-number', number);
    await page.click('[data-testid=cdr-search]');
    await page.waitForSelector(`tr[data-cdr="${id}"]`, { timeout: 10000 });
    out.rows = await page.$$eval('tr[data-cdr]', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    out.export = await page.getAttribute('[data-testid=cdr-export]', 'href');
    await page.fill('#cdr-number', '999999999');
    await page.click('[data-testid=cdr-search]');
    await page.waitForSelector('[data-testid=no-cdrs]', { timeout: 10000 });
  } else if (phase === 'topup') {
    // top up an account (arg: "ACCOUNT,AMOUNT") and read its balance
    // in the accounts list before and after
    const [acc, amount] = arg.split(',');
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    const balance = async () => {
      await page.goto(`${base}#/accounts`);
      const row = await page.waitForSelector(`tr[data-row="${acc}"]`);
      return row.$eval('td:nth-child(4)', (c) => c.textContent);
    };
    out.before = await balance();
    await page.goto(`${base}#/payments`);
    await page.waitForSelector('#pay-amount');
    await page.selectOption('#pay-kind', 'topup');
    await page.fill('#pay-account', acc);
    await page.fill('#pay-amount', 'ten');
    await page.click('[data-testid=pay]');
    out.bad_amount = await (await page.waitForSelector('[data-error="pay-amount"]')).textContent();
    await page.fill('#pay-amount', amount);
    page.once('dialog', (d) => { out.confirm = d.message(); d.accept(); });
    await page.click('[data-testid=pay]');
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid=pay-note]')?.textContent || ''));
    out.note = await page.textContent('[data-testid=pay-note]');
    out.after = await balance();
    if (out.after === out.before) fail(`the balance did not change: ${out.before}`);
    if (!out.confirm) fail('no confirmation asked before paying');
  } else if (phase === 'lock') {
    // lock a routing gateway (arg) through its form
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    await page.goto(`${base}#/routing_gateways/${arg}`);
    await page.waitForFunction(() => document.querySelector('#f-address')?.value !== '');
    await page.setChecked('#f-locked', true);
    await page.click('[data-testid=save]');
    const row = await page.waitForSelector(`tr[data-row="${arg}"]`, { timeout: 10000 });
    out.locked = await row.$eval('td:last-child', (c) => c.textContent);
  } else if (phase === 'regs') {
    // the registrations page (arg: OUTDIR): every row's cells, the
    // filter, the kind, and the dashboard's phones online beside it
    mkdirSync(arg, { recursive: true });
    out.shots = [];
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-value="phones"]');
    out.dash_phones = await page.textContent('[data-value="phones"]');
    out.dash_mg = await page.textContent('[data-testid="mapping-gateways"] .card-sub');
    await page.click('[data-testid="phones"] a[href="#/registrations"]');
    await page.waitForSelector('table[data-testid=registrations] tr[data-reg]');
    out.menu = await page.$$eval('nav a[data-page]', (as) => as.map((a) => a.dataset.page));
    out.rows = await page.$$eval('tr[data-reg]', (rows) => rows.map((r) => {
      const o = { reg: r.dataset.reg, kind_attr: r.dataset.kind };
      for (const c of r.querySelectorAll('td[data-col]')) o[c.dataset.col] = c.textContent.trim();
      o.gateway_link = r.querySelector('td[data-col=kind] a')?.getAttribute('href') || '';
      return o;
    }));
    out.headers = await page.$$eval('table[data-testid=registrations] thead th', (ths) => ths.map((h) => h.textContent.trim()));
    await shootBoth(page, 'registrations-rows', arg, out.shots);
    // the filter, on the server: a gateway's username in capitals
    await page.fill('#reg-filter', 'PBX');
    await regRowsAre(page, ['pbx1']);
    out.filtered = await regRows(page);
    await page.fill('#reg-filter', '');
    await page.selectOption('#reg-kind', 'phone');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('tr[data-reg]')];
      return rows.length > 0 && rows.every((r) => r.dataset.kind === 'phone');
    }, null, { timeout: 10000 });
    out.phones_only = await regRows(page);
    await page.selectOption('#reg-kind', '');
    await page.fill('#reg-filter', 'no-such-user');
    await page.waitForSelector('[data-testid=no-registrations]', { timeout: 10000 });
    out.nothing = await page.textContent('[data-testid=no-registrations]');
  } else if (phase === 'roles') {
    // what an agent or a customer sees (arg: OUTDIR for screenshots):
    // the menu, the rows of the lists, and the API's answer to a page
    // the menu does not offer
    mkdirSync(arg, { recursive: true });
    out.shots = [];
    const page = await newPage(browser);
    await signIn(page, password);
    await page.waitForSelector('[data-testid=logout]');
    await page.waitForSelector('nav a[data-page]');
    out.menu = await page.$$eval('nav a[data-page]', (as) => as.map((a) => a.dataset.page));
    const shot = (name) => shootBoth(page, name, arg, out.shots);
    const role = await page.textContent('.who');
    const who = /customer/.test(role) ? 'customer' : 'agent';
    await page.goto(`${base}#/my_account`);
    await page.waitForSelector('[data-testid=my-balance]');
    out.balance = await page.textContent('[data-testid=my-balance] .card-value');
    await shot(`${who}-my_account`);
    await page.goto(`${base}#/cdrs`);
    await page.waitForSelector('table.cdrs, [data-testid=no-cdrs]');
    out.cdr_accounts = await page.$$eval('tr[data-cdr]', (rows) => rows.map((r) => r.cells[1].textContent));
    await shot(`${who}-cdrs`);
    if (out.menu.includes('accounts')) {
      await page.goto(`${base}#/accounts`);
      await page.waitForSelector('tr[data-row]');
      out.accounts = await page.$$eval('tr[data-row]', (rows) => rows.map((r) => r.dataset.row));
      out.can_create = !!(await page.$('[data-testid=new]'));
      await shot(`${who}-accounts`);
      await page.click('[data-testid=tree]');
      await page.waitForSelector('[data-testid=account-tree] li');
      out.tree = await page.$$eval('[data-testid=account-tree] li', (ls) => ls.map((l) => {
        const up = l.parentElement.closest('li');
        return [l.dataset.node, up ? up.dataset.node : ''];
      }));
      await shot(`${who}-accounts-tree`);
    }
    await page.goto(`${base}#/payments`);
    await page.waitForSelector('h1');
    await shot(`${who}-payments`);
    out.refused = await page.evaluate(async () => {
      const r = await fetch('/api/v1/routing_gateways', { credentials: 'same-origin' });
      return r.status;
    });
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
        const ready = SCREENS;
        for (const p of Object.keys(ready)) {
          await page.goto(`${base}#/${p}`);
          await page.waitForSelector(ready[p]);
          await page.waitForTimeout(300);
          if (vname === 'phone') {
            const over = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
            if (over > 0) fail(`${p} ${lang} is ${over} px wider than the phone`);
            await spills(page, `${p} ${lang}`);
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
