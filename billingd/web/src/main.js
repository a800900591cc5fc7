// main.js - Tandem's web manager: a single page on billingd's API.
//
// Routing is by hash (#/dashboard, #/calls) so billingd serves one
// index.html.  Live values are polled (docs/decisions.md "Web manager").
import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, login, logout, me, ApiError } from './api.js';
import { ConfigList, ConfigForm } from './config.js';
import { LANGS, t, setLang, getLang, langOf, apiLang } from './i18n.js';
import {
  html, usePoll, useLoad, Loading, Money, fmtInt, fmtDuration, fmtTime,
} from './ui.js';
import { Cdrs } from './cdrs.js';
import { Payments, MyAccount } from './money.js';
import { Analysis } from './tools.js';
import { Alarms, Stats, Revenue, Performance } from './monitor.js';
import { Params, Access } from './system.js';
import { CardBatches } from './cards.js';
import { Registrations } from './registrations.js';
// pages: the menu shows those the user's role (and, for an agent, its
// authorizations) may open; the API refuses the rest anyway
const STAFF = ['admin', 'operator'];
const ALL = [...STAFF, 'agent', 'customer'];
const GW_AUTHS = ['add_delete_gateways', 'modify_gateway_info', 'modify_gateway_capacity'];
const GROUPS = ['monitor', 'billing', 'config', 'system'];
const PAGES = [
  { id: 'dashboard', group: 'monitor', roles: STAFF, view: Dashboard },
  { id: 'calls', group: 'monitor', roles: STAFF, view: Calls },
  { id: 'registrations', group: 'monitor', roles: STAFF, view: Registrations },
  { id: 'alarms', label: 'alarms_page', group: 'monitor', roles: STAFF, view: Alarms },
  { id: 'performance', group: 'monitor', roles: STAFF, view: Performance },
  { id: 'analysis', group: 'monitor', roles: STAFF, view: Analysis },
  { id: 'my_account', group: 'billing', roles: ['agent', 'customer'], view: MyAccount },
  { id: 'cdrs', group: 'billing', roles: ALL, view: Cdrs },
  { id: 'revenue', group: 'billing', roles: STAFF, view: Revenue },
  { id: 'stats', group: 'billing', roles: [...STAFF, 'agent'], view: Stats },
  { id: 'payments', group: 'billing', roles: ALL, view: Payments },
  { id: 'accounts', group: 'config', config: true, roles: [...STAFF, 'agent'], write: ['manage_accounts'] },
  { id: 'mapping_gateways', group: 'config', config: true, roles: [...STAFF, 'agent'], need: GW_AUTHS,
    write: ['add_delete_gateways'] },
  { id: 'routing_gateways', group: 'config', config: true, roles: STAFF },
  { id: 'gateway_groups', group: 'config', config: true, roles: STAFF },
  { id: 'rate_tables', group: 'config', config: true, roles: STAFF },
  { id: 'work_calendars', group: 'config', config: true, roles: STAFF },
  { id: 'package_period_rates', group: 'config', config: true, roles: STAFF },
  { id: 'phones', group: 'config', config: true, roles: [...STAFF, 'agent'], need: ['manage_phones'],
    write: ['manage_phones'] },
  { id: 'card_batches', group: 'config', roles: [...STAFF, 'agent'], need: ['manage_phone_cards'], view: CardBatches },
  { id: 'params', group: 'system', roles: ['admin'], view: Params },
  { id: 'access', group: 'system', roles: ['admin'], view: Access },
  { id: 'users', group: 'system', config: true, roles: ['admin'] },
];

function auths(acct) {
  return (acct && acct.agent_authorizations) || [];
}

function pagesFor(user, acct) {
  return PAGES.filter((p) => p.roles.includes(user.role) &&
    (user.role !== 'agent' || !p.need || p.need.some((a) => auths(acct).includes(a))));
}

function canCreate(p, user, acct) {
  return user.role !== 'agent' || !p.write || p.write.some((a) => auths(acct).includes(a));
}

// [page, object] of the hash: #/accounts/cust1 -> ['accounts', 'cust1']
function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('?')[0].split('/');
  return [parts[0], parts[1] ? decodeURIComponent(parts[1]) : ''];
}

const LIVE_MS = 2000;	   // dashboard and calls refresh
const TIMELINE_MS = 30000; // the hour's chart from the CDRs

// ---- pages ----

function Card({ label, value, sub, id, tone }) {
  return html`<div class="card ${tone || ''}" data-testid=${id}>
    <div class="card-label">${label}</div>
    <div class="card-value" data-value=${id}>${value}</div>
    ${sub ? html`<div class="card-sub">${sub}</div>` : null}
  </div>`;
}

function Chart({ points, live }) {
  const box = useRef(null), plot = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const xs = [], up = [], asr = [];
    for (const p of points || []) {
      xs.push(Date.parse(p.at) / 1000);
      up.push(p.calls_up);
      asr.push(p.attempts ? Math.round((1000 * p.answered) / p.attempts) / 10 : null);
    }
    if (live !== null && live !== undefined) {
      xs.push(Date.now() / 1000);
      up.push(live);
      asr.push(asr.length ? asr[asr.length - 1] : null);
    }
    const width = Math.max(280, box.current.clientWidth);
    const opts = {
      width, height: 240,
      series: [
        {},
        { label: t('live_calls'), stroke: '#1f6feb', width: 2, fill: 'rgba(31,111,235,0.08)' },
        { label: t('asr'), stroke: '#2da44e', width: 2, scale: '%' },
      ],
      axes: [{}, { label: t('live_calls') }, { side: 1, scale: '%', grid: { show: false } }],
      scales: { '%': { range: [0, 100] } },
    };
    if (plot.current) plot.current.destroy();
    plot.current = new uPlot(opts, [xs, up, asr], box.current);
    return undefined;
  }, [points, live, getLang()]);
  useEffect(() => () => plot.current && plot.current.destroy(), []);
  return html`<figure class="chart">
    <figcaption>${t('chart_title')}</figcaption>
    <div ref=${box} class="chart-box" role="img" aria-label=${t('chart_title')}></div>
  </figure>`;
}

function Dashboard({ user }) {
  const live = usePoll(() => api('GET', 'dashboard'), LIVE_MS);
  const hour = usePoll(() => api('GET', 'stats/timeline?minutes=60'), TIMELINE_MS);
  const d = live.data;
  if (!d) return html`<${Loading} error=${live.error} />`;
  const sg = d.signalingd || {}, today = d.today || {};
  return html`<section aria-labelledby="h-dash">
    <h1 id="h-dash">${t('dashboard')}</h1>
    ${live.error ? html`<p class="warn" role="status">${t('error')}: ${live.error.message}</p>` : null}
    <div class="cards">
      <${Card} id="live-calls" label=${t('live_calls')} value=${fmtInt(sg.calls)} tone="primary" />
      <${Card} id="cps" label=${t('cps')} value=${(sg.cps || 0).toFixed(1)} />
      <${Card} id="signalingd" label=${t('signalingd')} value=${sg.up ? t('up') : t('down')} tone=${sg.up ? 'ok' : 'bad'} />
      <${Card} id="media-nodes" label=${t('media_nodes')} value=${`${d.media_nodes.online} / ${d.media_nodes.total}`} />
      <${Card} id="mapping-gateways" label=${t('mapping_gateways')} value=${fmtInt(d.mapping_gateways.total)}
        sub=${`${d.mapping_gateways.locked} ${t('locked_n')}, ${d.mapping_gateways.registered} ${t('registered_n')}`} />
      <${Card} id="routing-gateways" label=${t('routing_gateways')} value=${fmtInt(d.routing_gateways.total)}
        sub=${`${d.routing_gateways.locked} ${t('locked_n')}, ${d.routing_gateways.offline} ${t('offline')}`} />
      <${Card} id="phones" label=${t('phones_online')} value=${`${d.phones.online} / ${d.phones.total}`}
        sub=${html`<a href="#/registrations">${t('registrations')}</a>`} />
      <${Card} id="alarms" label=${t('alarms')} value=${fmtInt(d.alarms.active)}
        sub=${`${d.alarms.critical} ${t('critical')}`} tone=${d.alarms.critical ? 'bad' : ''} />
    </div>
    <h2>${t('today')}</h2>
    <div class="cards">
      <${Card} id="income" label=${t('income')} value=${html`<${Money} v=${today.income} />`} sub=${`${fmtInt(today.calls)} / ${fmtInt(today.answered)} ${t('answered')}`} />
      <${Card} id="cost" label=${t('cost')} value=${html`<${Money} v=${today.cost} />`} sub=${`${fmtInt(today.minutes)} ${t('minutes')}`} />
      <${Card} id="profit" label=${t('profit')} value=${html`<${Money} v=${today.profit} />`} tone="primary" />
    </div>
    <${Chart} points=${hour.data && hour.data.points} live=${sg.calls} />
    <p class="muted" aria-live="off">${t('updated')} ${fmtTime(live.at, user.time_zone)}</p>
  </section>`;
}

// a per-leg RTP counter of a call as "a / b" (empty without media)
function legs(c, k) {
  const r = c.rtp;
  if (!r || !r.a || !r.b) return '';
  return `${fmtInt(r.a[k])} / ${fmtInt(r.b[k])}`;
}

function Calls() {
  const [filter, setFilter] = useState('');
  const [note, setNote] = useState('');
  const [tick, setTick] = useState(0);
  const live = usePoll(() => api('GET', 'calls?rtp=1'), LIVE_MS, [tick]);
  const items = ((live.data && (live.data.items || live.data.calls)) || []).filter((c) => {
    const f = filter.trim().toLowerCase();
    return !f || [c.account, c.caller, c.callee, c.mapping_gateway, c.routing_gateway]
      .some((v) => (v || '').toLowerCase().includes(f));
  });
  const hangup = async (c) => {
    if (!confirm(t('confirm_hangup', { caller: c.caller, callee: c.callee }))) return;
    try {
      await api('DELETE', `calls/${encodeURIComponent(c.id)}`);
      setNote(t('hung_up'));
      setTick(tick + 1);
    } catch (e) {
      setNote(`${t('error')}: ${e.message}`);
    }
  };
  return html`<section aria-labelledby="h-calls">
    <h1 id="h-calls">${t('calls')}</h1>
    <div class="toolbar">
      <label for="call-filter">${t('filter')}</label>
      <input id="call-filter" type="search" value=${filter} placeholder=${t('filter_hint')}
        onInput=${(e) => setFilter(e.target.value)} />
    </div>
    <p role="status" class="note">${note}</p>
    ${!live.data ? html`<${Loading} error=${live.error} />` : items.length === 0
    ? html`<p class="muted" data-testid="no-calls">${t('no_calls')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table class="calls">
        <thead><tr>
          <th scope="col">${t('account')}</th><th scope="col">${t('caller')}</th>
          <th scope="col">${t('callee')}</th><th scope="col">${t('state')}</th>
          <th scope="col">${t('gateway')}</th><th scope="col">${t('duration')}</th>
          <th scope="col">${t('codec')}</th><th scope="col">${t('dtmf')}</th>
          <th scope="col" class="num">${t('loss')}</th><th scope="col" class="num">${t('jitter')}</th>
          <th scope="col"><span class="sr-only">${t('hangup')}</span></th>
        </tr></thead>
        <tbody>${items.map((c) => html`<tr key=${c.id} data-call=${c.id}>
          <td>${c.account}</td><td>${c.caller}</td><td>${c.callee}</td>
          <td>${c.state}</td><td>${c.routing_gateway}</td>
          <td class="num">${fmtDuration(c.duration_s)}</td>
          <td>${c.codec_a} / ${c.codec_b}</td><td>${c.dtmf_a} / ${c.dtmf_b}</td>
          <td class="num">${legs(c, 'lost')}</td><td class="num">${legs(c, 'jitter_ms')}</td>
          <td><button class="danger" onClick=${() => hangup(c)}>${t('hangup')}</button></td>
        </tr>`)}</tbody>
      </table></div>`}
  </section>`;
}

// ---- sign-in and the shell ----

function Login({ onLogin, reason }) {
  const [u, setU] = useState('');
  const [p, setP] = useState('');
  const [err, setErr] = useState(reason ? t(reason) : '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      onLogin(await login(u, p));
    } catch (ex) {
      setErr(ex instanceof ApiError && ex.code === 'locked' ? t('locked')
        : ex instanceof ApiError && ex.status === 401 ? t('bad_login')
          : `${t('error')}: ${ex.message}`);
      setP('');
    }
    setBusy(false);
  };
  return html`<main class="login" id="main">
    <form onSubmit=${submit} aria-labelledby="h-login">
      <h1 id="h-login">${t('title')}</h1>
      <label for="login-user">${t('username')}</label>
      <input id="login-user" name="username" autocomplete="username" required
        value=${u} onInput=${(e) => setU(e.target.value)} />
      <label for="login-pass">${t('password')}</label>
      <input id="login-pass" name="password" type="password" autocomplete="current-password"
        required value=${p} onInput=${(e) => setP(e.target.value)} />
      <p class="error" role="alert" data-testid="login-error">${err}</p>
      <button type="submit" disabled=${busy}>${t('login')}</button>
      <${LangPicker} />
    </form>
  </main>`;
}

function LangPicker({ user, onChange }) {
  const change = async (e) => {
    const l = e.target.value;
    setLang(l);
    if (user) {
      try { await api('PATCH', 'me', { language: apiLang(l) }); } catch (_) { /* kept locally */ }
    }
    if (onChange) onChange(l);
    else render(html`<${App} />`, document.getElementById('app'));
  };
  return html`<label class="lang"><span class="lang-label">${t('language')}</span>
    <select onChange=${change} value=${getLang()} data-testid="lang">
      ${Object.entries(LANGS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
    </select></label>`;
}

function Shell({ user, onLogout }) {
  const [page, setPage] = useState(route());
  const [, setL] = useState(getLang());
  const [open, setOpen] = useState(false);
  const own = user.role === 'agent' || user.role === 'customer';
  const acc = useLoad(() => (own && user.account
    ? api('GET', `accounts/${encodeURIComponent(user.account)}`) : Promise.resolve(null)), [user.username]);
  useEffect(() => {
    const on = () => { setPage(route()); setOpen(false); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  if (own && user.account && !acc.data && !acc.error) return html`<${Loading} />`;
  const acct = acc.data;
  const pages = pagesFor(user, acct);
  const cur = pages.find((p) => p.id === page[0]) || pages[0];
  let view = null;
  if (cur && cur.config) {
    view = page[1] ? html`<${ConfigForm} key=${page.join('/')} section=${cur.id} name=${page[1]} />`
      : html`<${ConfigList} key=${cur.id} section=${cur.id} canCreate=${canCreate(cur, user, acct)} />`;
  } else if (cur) {
    view = html`<${cur.view} key=${cur.id} user=${user} acct=${acct} />`;
  }
  return html`<div class="shell">
    <a class="skip" href="#main">${t('skip')}</a>
    <header class="top">
      <button class="menu-btn" aria-expanded=${open} aria-controls="nav"
        onClick=${() => setOpen(!open)}>${t('menu')}</button>
      <span class="brand">Tandem</span>
      <span class="who">${user.username} · ${t(`role_${user.role}`)}</span>
      <${LangPicker} user=${user} onChange=${setL} />
      <button class="link" onClick=${onLogout} data-testid="logout">${t('logout')}</button>
    </header>
    <nav id="nav" class=${open ? 'open' : ''} aria-label=${t('menu')}>
      ${GROUPS.map((g) => {
    const ps = pages.filter((p) => p.group === g);
    return ps.length ? html`<div class="nav-group"><p class="nav-head" id=${`nav-${g}`}>${t(`g_${g}`)}</p>
        <ul aria-labelledby=${`nav-${g}`}>${ps.map((p) => html`<li><a href=${`#/${p.id}`} data-page=${p.id}
          aria-current=${p === cur ? 'page' : undefined}>${t(p.label || p.id)}</a></li>`)}</ul></div>` : null;
  })}
    </nav>
    <main id="main" tabindex="-1">${view}</main>
  </div>`;
}

function App() {
  const [user, setUser] = useState(undefined);
  const [reason, setReason] = useState('');
  useEffect(() => {
    me().then((u) => { if (u) setLang(langOf(u)); setUser(u); })
      .catch(() => setUser(null));
  }, []);
  useEffect(() => {
    // a session that ended (expiry, logout elsewhere): back to sign-in
    const on = (e) => {
      if (e.detail === 401 && user) { setReason('expired'); setUser(null); }
    };
    addEventListener('tandem-api', on);
    return () => removeEventListener('tandem-api', on);
  }, [user]);
  if (user === undefined) return html`<p class="muted">…</p>`;
  if (!user) {
    return html`<${Login} reason=${reason} onLogin=${(u) => {
      setLang(langOf(u)); setReason(''); setUser(u);
    }} />`;
  }
  return html`<${Shell} user=${user} onLogout=${async () => {
    await logout(); setUser(null);
  }} />`;
}

setLang(langOf(null));
render(html`<${App} />`, document.getElementById('app'));
