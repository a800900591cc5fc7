// cards.js - phone-card batches: the list, a new batch (its numbers and
// PINs are shown once, with a CSV to keep), and the cards of a batch.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import {
  html, useLoad, Loading, Pager, Money, Input, fmtDateTime, fieldErrors, toCsv, download,
} from './ui.js';

const PAGE = 50;

function NewBatch({ onMade }) {
  const [f, setF] = useState({ name: '', count: '10', value: '', rate_table: '', expires: '', agent: '' });
  const [errs, setErrs] = useState({});
  const [note, setNote] = useState('');
  const [made, setMade] = useState(null);
  const set = (k) => (v) => setF({ ...f, [k]: v });
  const submit = async (e) => {
    e.preventDefault();
    const local = {};
    for (const k of ['name', 'count', 'value', 'rate_table']) if (!f[k].trim()) local[k] = t('required');
    setErrs(local);
    if (Object.keys(local).length) return;
    const body = { name: f.name.trim(), count: Number(f.count), value: f.value.trim(), rate_table: f.rate_table.trim() };
    if (f.expires.trim()) body.expires = f.expires.trim();
    if (f.agent.trim()) body.agent = f.agent.trim();
    try {
      const r = await api('POST', 'phone_card_batches', body);
      setMade(r);
      setNote(t('batch_made', { n: r.count }));
      onMade();
    } catch (ex) {
      const fe = fieldErrors(ex);
      setErrs(fe);
      setNote(Object.keys(fe).length ? t('fix_fields') : `${t('error')}: ${ex.message}`);
    }
  };
  return html`<form class="cfg" onSubmit=${submit} novalidate aria-labelledby="h-newbatch">
    <h2 id="h-newbatch">${t('new_batch')}</h2>
    <p class="form-note" role="status">${note}</p>
    <${Input} id="batch-name" name=${t('name')} value=${f.name} onInput=${set('name')} error=${errs.name} required />
    <${Input} id="batch-count" name=${t('count')} type="number" min="1" max="100000" value=${f.count}
      onInput=${set('count')} error=${errs.count} required />
    <${Input} id="batch-value" name=${t('card_value')} value=${f.value} inputmode="decimal"
      onInput=${set('value')} error=${errs.value} required />
    <${Input} id="batch-rate_table" name=${t('rate_table')} value=${f.rate_table} onInput=${set('rate_table')}
      error=${errs.rate_table} required />
    <${Input} id="batch-expires" name=${t('expires')} type="date" value=${f.expires} onInput=${set('expires')}
      error=${errs.expires} />
    <${Input} id="batch-agent" name=${t('agent')} value=${f.agent} onInput=${set('agent')} error=${errs.agent} />
    <div class="actions"><button type="submit">${t('create')}</button>
      ${made ? html`<button type="button" class="secondary" onClick=${() => download(`${made.name}.csv`,
    toCsv(['number', 'pin'], made.cards))}>${t('download_pins')}</button>` : null}</div>
    ${made ? html`<p class="warn">${t('pins_once')}</p>` : null}
  </form>`;
}

function BatchCards({ batch, user }) {
  const [offset, setOffset] = useState(0);
  const res = useLoad(() => api('GET', `phone_cards?batch=${encodeURIComponent(batch)}&limit=${PAGE}&offset=${offset}`),
    [batch, offset]);
  const items = (res.data && res.data.items) || [];
  return html`<section aria-labelledby="h-cards">
    <h2 id="h-cards">${t('cards_of', { batch })}</h2>
    ${!res.data ? html`<${Loading} error=${res.error} />` : html`<div class="table-wrap" tabindex="0"><table>
      <thead><tr><th scope="col">${t('number')}</th><th scope="col" class="num">${t('balance_label')}</th>
        <th scope="col">${t('first_used')}</th><th scope="col">${t('locked')}</th></tr></thead>
      <tbody>${items.map((c) => html`<tr><td>${c.number}</td><td class="num"><${Money} v=${c.balance} /></td>
        <td>${fmtDateTime(c.first_used_at, user.time_zone)}</td><td>${c.locked ? '✓' : ''}</td></tr>`)}</tbody>
    </table></div>
    <${Pager} offset=${offset} count=${items.length} total=${res.data.total} page=${PAGE} onMove=${setOffset} />`}
  </section>`;
}

export function CardBatches({ user }) {
  const [tick, setTick] = useState(0);
  const [open, setOpen] = useState('');
  const [offset, setOffset] = useState(0);
  const res = useLoad(() => api('GET', `phone_card_batches?limit=${PAGE}&offset=${offset}`), [tick, offset]);
  const items = (res.data && res.data.items) || [];
  return html`<section aria-labelledby="h-batches">
    <h1 id="h-batches">${t('card_batches')}</h1>
    <${NewBatch} onMade=${() => setTick(tick + 1)} />
    <h2>${t('batches')}</h2>
    ${!res.data ? html`<${Loading} error=${res.error} />` : items.length === 0
    ? html`<p class="muted">${t('no_items')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table>
        <thead><tr><th scope="col">${t('name')}</th><th scope="col" class="num">${t('count')}</th>
          <th scope="col" class="num">${t('card_value')}</th><th scope="col">${t('rate_table')}</th>
          <th scope="col">${t('expires')}</th><th scope="col">${t('created')}</th></tr></thead>
        <tbody>${items.map((b) => html`<tr><td><button class="link" onClick=${() => setOpen(b.name)}>${b.name}</button></td>
          <td class="num">${b.cards}</td><td class="num"><${Money} v=${b.value} /></td><td>${b.rate_table}</td>
          <td>${fmtDateTime(b.expires_at, user.time_zone)}</td>
          <td>${b.created_by} ${fmtDateTime(b.created_at, user.time_zone)}</td></tr>`)}</tbody>
      </table></div>
      <${Pager} offset=${offset} count=${items.length} total=${res.data.total} page=${PAGE} onMove=${setOffset} />`}
    ${open ? html`<${BatchCards} key=${open} batch=${open} user=${user} />` : null}
  </section>`;
}
