// cdrs.js - CDR search: every filter of GET /api/v1/cdrs, paged on the
// server, and the same search exported as CSV (/api/v1/cdrs.csv).
// Agents see their subtree, customers their own calls (the API scopes it).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import {
  html, useLoad, Loading, Pager, Money, Input, Select, fmtDateTime, fmtNum,
  zonedToMs, msToZoned, fieldErrors,
} from './ui.js';

const PAGE = 50;
const RESULTS = ['answered', 'no_answer', 'busy', 'failed'];

function query(f, tz) {
  const q = new URLSearchParams();
  const from = zonedToMs(f.from, tz), to = zonedToMs(f.to, tz);
  if (!Number.isNaN(from)) q.set('from', String(from));
  if (!Number.isNaN(to)) q.set('to', String(to));
  for (const k of ['result', 'number', 'account', 'gateway']) if (f[k].trim()) q.set(k, f[k].trim());
  return q;
}

export function Cdrs({ user }) {
  const tz = user.time_zone;
  const now = Date.now();
  const [form, setForm] = useState({
    from: msToZoned(now - 24 * 3600 * 1000, tz), to: '', result: '', number: '', account: '', gateway: '',
  });
  const [applied, setApplied] = useState(form);
  const [offset, setOffset] = useState(0);
  const q = query(applied, tz);
  const key = q.toString();
  const res = useLoad(async () => {
    const p = new URLSearchParams(q);
    p.set('limit', String(PAGE));
    p.set('offset', String(offset));
    return api('GET', `cdrs?${p}`);
  }, [key, offset]);
  const errs = res.error ? fieldErrors(res.error) : {};
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const staff = user.role === 'admin' || user.role === 'operator';
  const submit = (e) => { e.preventDefault(); setOffset(0); setApplied({ ...form }); };
  const items = (res.data && res.data.items) || [];
  return html`<section aria-labelledby="h-cdrs">
    <div class="head"><h1 id="h-cdrs">${t('cdrs')}</h1>
      <a class="button secondary" href=${`/api/v1/cdrs.csv?${key}`} download="cdrs.csv"
        data-testid="cdr-export">${t('export_csv')}</a></div>
    <form class="filters" onSubmit=${submit} role="search" aria-label=${t('cdrs')}>
      <${Input} id="cdr-from" name=${t('from')} type="datetime-local" value=${form.from} onInput=${set('from')} error=${errs.from} />
      <${Input} id="cdr-to" name=${t('to')} type="datetime-local" value=${form.to} onInput=${set('to')} error=${errs.to} />
      <${Input} id="cdr-number" name=${t('number_filter')} value=${form.number} onInput=${set('number')}
        error=${errs.number} inputmode="tel" />
      <${Select} id="cdr-result" name=${t('result')} value=${form.result} onChange=${set('result')}
        blank=${t('any')} options=${RESULTS.map((r) => [r, t(`r_${r}`)])} error=${errs.result} />
      ${user.role === 'customer' ? null : html`<${Input} id="cdr-account" name=${t('account')}
        value=${form.account} onInput=${set('account')} error=${errs.account} />`}
      ${staff ? html`<${Input} id="cdr-gateway" name=${t('gateway')} value=${form.gateway}
        onInput=${set('gateway')} error=${errs.gateway} />` : null}
      <div class="actions"><button type="submit" data-testid="cdr-search">${t('search')}</button></div>
    </form>
    ${res.error ? html`<${Loading} error=${res.error} />` : !res.data ? html`<${Loading} />`
    : items.length === 0 ? html`<p class="muted" data-testid="no-cdrs">${t('no_cdrs')}</p>`
      : html`<div class="table-wrap" tabindex="0"><table class="cdrs">
        <thead><tr>
          <th scope="col">${t('setup_time')}</th><th scope="col">${t('account')}</th>
          <th scope="col">${t('caller')}</th><th scope="col">${t('callee')}</th>
          ${staff ? html`<th scope="col">${t('gateway')}</th>` : null}
          <th scope="col" class="num">${t('hold_s')}</th><th scope="col" class="num">${t('fee')}</th>
          ${staff ? html`<th scope="col" class="num">${t('vendor_cost')}</th>` : null}
          <th scope="col">${t('end_reason')}</th>
        </tr></thead>
        <tbody>${items.map((c) => html`<tr key=${c.id} data-cdr=${c.id}>
          <td>${fmtDateTime(c.setup_time, user.time_zone)}</td><td>${c.account}</td>
          <td>${c.caller}</td><td>${c.callee}</td>
          ${staff ? html`<td>${c.routing_gateway || ''}</td>` : null}
          <td class="num">${fmtNum((c.hold_ms || 0) / 1000, 1)}</td>
          <td class="num"><${Money} v=${c.fee} /></td>
          ${staff ? html`<td class="num"><${Money} v=${c.vendor_cost} /></td>` : null}
          <td>${c.end_code} ${c.end_reason || ''}</td>
        </tr>`)}</tbody>
      </table></div>
      <${Pager} offset=${offset} count=${items.length} total=${null} page=${PAGE} onMove=${setOffset} />`}
  </section>`;
}
