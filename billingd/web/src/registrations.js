// registrations.js - who is registered now: phones and password-mode
// mapping gateways (GET /api/v1/registrations), with the contact each
// registered, the address it came from, the signalingd holding it and
// when it expires (the time of day; the date is in the cell's title).
// Filtered and paged on the server; refreshed every 5 s.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import { html, usePoll, Loading, Pager, fmtDateTime, fmtTime } from './ui.js';

const LIVE_MS = 5000;
const PAGE = 50;
const KINDS = ['phone', 'mapping_gateway'];

// seconds left as h:mm:ss (m:ss under an hour)
function fmtLeft(s) {
  s = Math.max(0, Math.floor(s));
  const hh = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = hh ? String(m).padStart(2, '0') : String(m);
  return `${hh ? `${hh}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

export function Registrations({ user }) {
  const [q, setQ] = useState('');
  const [kind, setKind] = useState('');
  const [offset, setOffset] = useState(0);
  const query = new URLSearchParams({ limit: PAGE, offset });
  if (kind) query.set('kind', kind);
  if (q.trim()) query.set('q', q.trim().slice(0, 64));
  const res = usePoll(() => api('GET', `registrations?${query}`), LIVE_MS, [q, kind, offset]);
  const items = (res.data && res.data.items) || [];
  const now = res.at ? res.at.getTime() : Date.now();
  return html`<section aria-labelledby="h-regs">
    <h1 id="h-regs">${t('registrations')}</h1>
    <div class="toolbar">
      <span class="pair wide"><label for="reg-filter">${t('filter')}</label>
        <input id="reg-filter" type="search" value=${q} maxlength="64" placeholder=${t('reg_filter_hint')}
          onInput=${(e) => { setOffset(0); setQ(e.target.value); }} /></span>
      <span class="pair"><label for="reg-kind">${t('kind')}</label>
        <select id="reg-kind" value=${kind} onChange=${(e) => { setOffset(0); setKind(e.target.value); }}>
          <option value="">${t('any')}</option>
          ${KINDS.map((k) => html`<option value=${k}>${t(`reg_${k}`)}</option>`)}
        </select></span>
    </div>
    ${res.error && res.data ? html`<p class="warn" role="status">${t('error')}: ${res.error.message}</p>` : null}
    ${!res.data ? html`<${Loading} error=${res.error} />` : items.length === 0
    ? html`<p class="muted" data-testid="no-registrations">${q || kind ? t('no_match') : t('no_registrations')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table class="regs" data-testid="registrations">
        <thead><tr>
          <th scope="col">${t('reg_user')}</th><th scope="col">${t('contact')}</th>
          <th scope="col">${t('kind')}</th><th scope="col">${t('account')}</th>
          <th scope="col">${t('source')}</th><th scope="col">${t('node')}</th>
          <th scope="col">${t('expires')}</th><th scope="col" class="num">${t('time_left')}</th>
        </tr></thead>
        <tbody>${items.map((g) => html`<tr key=${g.user} data-reg=${g.user} data-kind=${g.kind}>
          <td data-col="user">${g.user}</td>
          <td data-col="contact">${g.contact}</td>
          <td data-col="kind">${g.kind === 'phone' ? t('reg_phone')
    : html`${t('reg_mapping_gateway')}${g.gateway ? html` <a href=${`#/mapping_gateways/${encodeURIComponent(g.gateway)}`}>${g.gateway}</a>` : null}`}</td>
          <td data-col="account">${g.account || '—'}</td>
          <td data-col="source">${g.source}</td>
          <td data-col="node">${g.node}</td>
          <td data-col="expires" title=${fmtDateTime(g.expires_at, user.time_zone)}>${fmtTime(new Date(g.expires_at), user.time_zone)}</td>
          <td data-col="left" class="num">${fmtLeft((Date.parse(g.expires_at) - now) / 1000)}</td>
        </tr>`)}</tbody></table></div>
      <${Pager} offset=${offset} count=${items.length} total=${res.data.total} page=${PAGE} onMove=${setOffset} />`}
  </section>`;
}
