// money.js - payments (top-ups, deductions, refunds, credit limits,
// transfers to sub-accounts) and a customer's own account: balance,
// credit, rates.  Every amount goes to the API as the decimal text typed;
// the API keeps micro-units.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import {
  html, useLoad, Loading, Pager, Money, Input, Select, fmtDateTime, fmtMoney,
  fieldErrors, toMicro,
} from './ui.js';

const PAGE = 50;
const KINDS = ['topup', 'deduct', 'refund', 'credit', 'transfer'];

// may this user move money, and which kinds
export function payKinds(user, acct) {
  if (user.role === 'admin' || user.role === 'operator') return KINDS;
  if (user.role !== 'agent' || !acct) return [];
  const a = acct.agent_authorizations || [];
  return a.includes('pay_sub_accounts') ? ['transfer'] : [];
}

function PayForm({ user, kinds, onDone }) {
  const [f, setF] = useState({ kind: kinds[0], account: user.role === 'agent' ? user.account : '', sub_account: '', amount: '', memo: '' });
  const [errs, setErrs] = useState({});
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const submit = async (e) => {
    e.preventDefault();
    const local = {};
    if (!f.account.trim()) local.account = t('required');
    if (f.kind === 'transfer' && !f.sub_account.trim()) local.sub_account = t('required');
    if (!f.amount.trim()) local.amount = t('required');
    else if (toMicro(f.amount) === null) local.amount = t('bad_amount');
    setErrs(local);
    setNote('');
    if (Object.keys(local).length) return;
    const who = f.kind === 'transfer' ? f.sub_account.trim() : f.account.trim();
    if (!confirm(t('confirm_pay', { kind: t(`k_${f.kind}`), amount: fmtMoney(f.amount.trim()), account: who }))) return;
    setBusy(true);
    try {
      const body = { kind: f.kind, account: f.account.trim(), amount: f.amount.trim() };
      if (f.kind === 'transfer') body.sub_account = f.sub_account.trim();
      if (f.memo.trim()) body.memo = f.memo.trim();
      const r = await api('POST', 'payments', body);
      const after = r.sub_balance_after !== undefined ? r.sub_balance_after : r.balance_after;
      setNote(t('paid', { account: who, balance: fmtMoney(after) }));
      setF({ ...f, amount: '', memo: '' });
      onDone();
    } catch (ex) {
      const fe = fieldErrors(ex);
      setErrs(fe);
      setNote(Object.keys(fe).length ? t('fix_fields') : `${t('error')}: ${ex.message}`);
    }
    setBusy(false);
  };
  return html`<form class="cfg pay" onSubmit=${submit} novalidate aria-labelledby="h-pay">
    <h2 id="h-pay">${t('make_payment')}</h2>
    <p class="form-note" role="status" data-testid="pay-note">${note}</p>
    <${Select} id="pay-kind" name=${t('kind')} value=${f.kind} onChange=${set('kind')}
      options=${kinds.map((k) => [k, t(`k_${k}`)])} error=${errs.kind} />
    <${Input} id="pay-account" name=${t('account')} value=${f.account} onInput=${set('account')}
      error=${errs.account} required />
    ${f.kind === 'transfer' ? html`<${Input} id="pay-sub_account" name=${t('sub_account')}
      value=${f.sub_account} onInput=${set('sub_account')} error=${errs.sub_account} required />` : null}
    <${Input} id="pay-amount" name=${t('amount')} value=${f.amount} onInput=${set('amount')}
      error=${errs.amount} inputmode="decimal" required placeholder="100.00" />
    <${Input} id="pay-memo" name=${t('memo')} value=${f.memo} onInput=${set('memo')} error=${errs.memo} />
    <div class="actions"><button type="submit" disabled=${busy} data-testid="pay">${t('pay')}</button></div>
  </form>`;
}

export function Payments({ user, acct }) {
  const [account, setAccount] = useState('');
  const [applied, setApplied] = useState('');
  const [offset, setOffset] = useState(0);
  const [tick, setTick] = useState(0);
  const kinds = payKinds(user, acct);
  const res = useLoad(() => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (applied) q.set('account', applied);
    return api('GET', `payments?${q}`);
  }, [applied, offset, tick]);
  const items = (res.data && res.data.items) || [];
  return html`<section aria-labelledby="h-payments">
    <h1 id="h-payments">${t('payments')}</h1>
    ${kinds.length ? html`<${PayForm} user=${user} kinds=${kinds} onDone=${() => setTick(tick + 1)} />` : null}
    <h2>${t('history')}</h2>
    ${user.role === 'customer' ? null : html`<form class="toolbar" role="search"
      onSubmit=${(e) => { e.preventDefault(); setOffset(0); setApplied(account.trim()); }}>
      <label for="pay-filter">${t('account')}</label>
      <input id="pay-filter" type="search" value=${account} onInput=${(e) => setAccount(e.target.value)} />
      <button type="submit" class="secondary">${t('search')}</button>
    </form>`}
    ${!res.data ? html`<${Loading} error=${res.error} />` : items.length === 0
    ? html`<p class="muted">${t('no_items')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table data-testid="payments">
        <thead><tr><th scope="col">${t('time')}</th><th scope="col">${t('account')}</th>
          <th scope="col">${t('kind')}</th><th scope="col" class="num">${t('amount')}</th>
          <th scope="col" class="num">${t('balance_after')}</th><th scope="col">${t('by')}</th>
          <th scope="col">${t('memo')}</th></tr></thead>
        <tbody>${items.map((p) => html`<tr key=${p.id}>
          <td>${fmtDateTime(p.at, user.time_zone)}</td><td>${p.account}</td><td>${t(`p_${p.kind}`)}</td>
          <td class="num"><${Money} v=${p.amount} /></td><td class="num"><${Money} v=${p.balance_after} /></td>
          <td>${p.by}</td><td>${p.memo}</td></tr>`)}</tbody>
      </table></div>
      <${Pager} offset=${offset} count=${items.length} total=${res.data.total ?? null} page=${PAGE} onMove=${setOffset} />`}
  </section>`;
}

// a customer's (or agent's) own account: balance, credit and its rates
export function MyAccount({ user }) {
  const acc = useLoad(() => api('GET', `accounts/${encodeURIComponent(user.account || '')}`), [user.account]);
  const a = acc.data;
  const rates = useLoad(() => (a && a.rate_table
    ? api('GET', `rate_tables/${encodeURIComponent(a.rate_table)}`) : Promise.resolve(null)), [a && a.rate_table]);
  if (!a) return html`<${Loading} error=${acc.error} />`;
  const entries = (rates.data && rates.data.entries) || [];
  return html`<section aria-labelledby="h-mine">
    <h1 id="h-mine">${t('my_account')} · ${a.name}</h1>
    <div class="cards">
      <div class="card primary" data-testid="my-balance"><div class="card-label">${t('balance_label')}</div>
        <div class="card-value"><${Money} v=${a.balance} /></div></div>
      <div class="card"><div class="card-label">${t('credit_label')}</div>
        <div class="card-value"><${Money} v=${a.credit_limit} /></div></div>
      <div class="card"><div class="card-label">${t('billing')}</div>
        <div class="card-value">${a.billing_type || ''}</div></div>
    </div>
    <p><a href="#/cdrs">${t('cdrs')}</a> · <a href="#/payments">${t('payments')}</a></p>
    <h2>${t('rates')} ${a.rate_table ? `· ${a.rate_table}` : ''}</h2>
    ${!rates.data && a.rate_table ? html`<${Loading} error=${rates.error} />` : entries.length === 0
    ? html`<p class="muted">${t('no_items')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table data-testid="my-rates">
        <thead><tr><th scope="col">${t('prefix')}</th><th scope="col">${t('area')}</th>
          <th scope="col" class="num">${t('first_rate')}</th><th scope="col" class="num">${t('next_rate')}</th>
          <th scope="col" class="num">${t('intervals')}</th></tr></thead>
        <tbody>${entries.slice(0, 500).map((e) => html`<tr><td>${e.prefix}</td><td>${e.area_name || ''}</td>
          <td class="num"><${Money} v=${e.first_rate} /></td><td class="num"><${Money} v=${e.next_rate} /></td>
          <td class="num">${e.first_interval ?? ''}/${e.next_interval ?? ''}</td></tr>`)}</tbody>
      </table></div>`}
  </section>`;
}
