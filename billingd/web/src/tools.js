// tools.js - routing analysis (a number in, the candidate gateways and
// why the others are left out) and a rating dry run (what a call would
// cost), both asked of the live daemons through the API.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import { html, Input, Money, fieldErrors } from './ui.js';

function useAsk() {
  const [st, setSt] = useState({ busy: false, data: null, errs: {}, note: '' });
  const ask = async (fn) => {
    setSt({ busy: true, data: null, errs: {}, note: '' });
    try {
      setSt({ busy: false, data: await fn(), errs: {}, note: '' });
    } catch (ex) {
      const fe = fieldErrors(ex);
      setSt({ busy: false, data: null, errs: fe, note: Object.keys(fe).length ? '' : `${t('error')}: ${ex.message}` });
    }
  };
  return [st, ask];
}

function RouteForm() {
  const [f, setF] = useState({ callee: '', mapping_gateway: '' });
  const [st, ask] = useAsk();
  const submit = (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ callee: f.callee.trim() });
    if (f.mapping_gateway.trim()) q.set('mapping_gateway', f.mapping_gateway.trim());
    ask(() => api('GET', `route?${q}`));
  };
  const d = st.data;
  return html`<section aria-labelledby="h-route" class="panel">
    <h2 id="h-route">${t('route_analysis')}</h2>
    <form class="filters" onSubmit=${submit}>
      <${Input} id="route-callee" name=${t('callee')} value=${f.callee} inputmode="tel" required
        onInput=${(v) => setF({ ...f, callee: v })} error=${st.errs.callee} />
      <${Input} id="route-mapping_gateway" name=${t('mapping_gateway')} value=${f.mapping_gateway}
        onInput=${(v) => setF({ ...f, mapping_gateway: v })} error=${st.errs.mapping_gateway} />
      <div class="actions"><button type="submit" disabled=${st.busy} data-testid="route-go">${t('analyse')}</button></div>
    </form>
    <p class="warn" role="alert">${st.note}</p>
    ${d ? html`<div data-testid="route-result">
      <h3>${t('candidates')}</h3>
      ${d.candidates.length === 0 ? html`<p class="muted">${t('no_candidates')}</p>`
    : html`<ol class="candidates">${d.candidates.map((c) => html`<li data-gw=${c.gateway}>
          <strong>${c.gateway}</strong> ${c.skip ? html`<span class="warn">— ${t('would_skip')}: ${c.skip}</span>`
    : html`<span class="ok">— ${t('would_try')}</span>`}</li>`)}</ol>`}
      ${d.excluded.length ? html`<h3>${t('excluded')}</h3><div class="table-wrap" tabindex="0"><table>
        <thead><tr><th scope="col">${t('gateway')}</th><th scope="col">${t('prefix')}</th>
          <th scope="col">${t('reason')}</th></tr></thead>
        <tbody>${d.excluded.map((x) => html`<tr data-excluded=${x.gateway}><td>${x.gateway}</td>
          <td>${x.prefix || ''}</td><td>${x.reason}</td></tr>`)}</tbody></table></div>` : null}
    </div>` : null}
  </section>`;
}

function RateForm() {
  const [f, setF] = useState({ account: '', number: '', duration: '60' });
  const [st, ask] = useAsk();
  const submit = (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ account: f.account.trim(), number: f.number.trim(), duration: f.duration.trim() });
    ask(() => api('GET', `rate?${q}`));
  };
  const d = st.data;
  return html`<section aria-labelledby="h-rate" class="panel">
    <h2 id="h-rate">${t('rate_dry_run')}</h2>
    <form class="filters" onSubmit=${submit}>
      <${Input} id="rate-account" name=${t('account')} value=${f.account} required
        onInput=${(v) => setF({ ...f, account: v })} error=${st.errs.account} />
      <${Input} id="rate-number" name=${t('number')} value=${f.number} inputmode="tel" required
        onInput=${(v) => setF({ ...f, number: v })} error=${st.errs.number} />
      <${Input} id="rate-duration" name=${t('duration_s')} value=${f.duration} type="number" min="0"
        onInput=${(v) => setF({ ...f, duration: v })} error=${st.errs.duration} />
      <div class="actions"><button type="submit" disabled=${st.busy} data-testid="rate-go">${t('quote')}</button></div>
    </form>
    <p class="warn" role="alert">${st.note}</p>
    ${d ? html`<dl class="facts" data-testid="rate-result">
      <dt>${t('fee')}</dt><dd><${Money} v=${d.fee} /></dd>
      <dt>${t('rate_table')}</dt><dd>${d.rate_table}</dd>
      <dt>${t('prefix')}</dt><dd>${(d.entry && d.entry.prefix) || ''}</dd>
      <dt>${t('period')}</dt><dd>${d.period}</dd>
      <dt>${t('billable_s')}</dt><dd>${d.billable_s ?? ''}</dd>
    </dl>` : null}
  </section>`;
}

export function Analysis() {
  return html`<section aria-labelledby="h-analysis">
    <h1 id="h-analysis">${t('analysis')}</h1>
    <div class="two"><${RouteForm} /><${RateForm} /></div>
  </section>`;
}
