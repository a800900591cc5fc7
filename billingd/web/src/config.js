// config.js - the configuration pages: a server-paged list per section,
// and a form built from the section's input schema (schema.js).  Field
// errors from the API are shown next to their field; deleting asks first.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { api, ApiError } from './api.js';
import { schemas, fieldsOf, toText, fromText } from './schema.js';
import { t, label, help } from './i18n.js';
import { fmtMoney, parseCsv, toCsv, download, useLoad, Loading } from './ui.js';

const html = htm.bind(h);
const PAGE = 20;

// section -> its input schema, key field and list columns
export const SECTIONS = {
  accounts: { schema: 'AccountInput', key: 'name',
    cols: ['name', 'type', 'billing_type', 'balance', 'credit_limit', 'agent', 'locked'] },
  mapping_gateways: { schema: 'MappingGatewayInput', key: 'name',
    cols: ['name', 'account', 'auth_mode', 'ips', 'cps_limit', 'locked'] },
  routing_gateways: { schema: 'RoutingGatewayInput', key: 'name',
    cols: ['name', 'account', 'address', 'port', 'prefixes', 'priority', 'locked'] },
  gateway_groups: { schema: 'GatewayGroupInput', key: 'name',
    cols: ['name', 'capacity', 'reserved_lines'] },
  rate_tables: { schema: 'RateTableInput', key: 'name', cols: ['name'] },
  work_calendars: { schema: 'WorkCalendarInput', key: 'name', cols: ['name'] },
  package_period_rates: { schema: 'PackagePeriodRateInput', key: 'name', cols: ['name'] },
  phones: { schema: 'PhoneInput', key: 'number', cols: ['number', 'account'] },
  users: { schema: 'UserInput', key: 'username',
    cols: ['username', 'role', 'account', 'enabled', 'language', 'time_zone'] },
};

const MONEY = new Set(['balance', 'credit_limit', 'low_balance_alarm']);

// rate entries <-> CSV (the columns of a provisioning file's entries)
const RATE_COLS = ['prefix', 'area_name', 'connect_fee', 'first_interval', 'first_rate',
  'next_interval', 'next_rate'];
const RATE_INTS = new Set(['first_interval', 'next_interval']);

export function csvToEntries(text) {
  const rows = parseCsv(text);
  if (!rows.length) throw new Error(t('csv_empty'));
  const head = rows[0].map((h) => h.trim().toLowerCase());
  if (!head.includes('prefix')) throw new Error(t('csv_no_prefix'));
  const bad = head.filter((h) => h && !RATE_COLS.includes(h));
  if (bad.length) throw new Error(t('csv_unknown', { cols: bad.join(', ') }));
  return rows.slice(1).map((r) => {
    const e = {};
    head.forEach((h, i) => {
      const v = (r[i] || '').trim();
      if (!h || v === '') return;
      e[h] = RATE_INTS.has(h) && /^[0-9]+$/.test(v) ? Number(v) : v;
    });
    return e;
  });
}

function RateCsv({ value, onChange, name }) {
  const [note, setNote] = useState('');
  const load = async (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    try {
      const entries = csvToEntries(await file.text());
      onChange(JSON.stringify(entries, null, 1));
      setNote(t('csv_loaded', { n: entries.length }));
    } catch (ex) {
      setNote(`${t('error')}: ${ex.message}`);
    }
    e.target.value = '';
  };
  const save = () => {
    let entries = [];
    try { entries = JSON.parse(value || '[]'); } catch (_) { setNote(t('bad_json')); return; }
    download(`${name || 'rates'}.csv`, toCsv(RATE_COLS, entries));
  };
  return html`<fieldset class="csv" data-testid="rate-csv">
    <legend>${t('entries_csv')}</legend>
    <p class="help">${t('csv_help', { cols: RATE_COLS.join(',') })}</p>
    <label class="button secondary" for="rate-csv-file">${t('import_csv')}</label>
    <input id="rate-csv-file" class="sr-only" type="file" accept=".csv,text/csv" onChange=${load} />
    <button type="button" class="secondary" onClick=${save} data-testid="rate-export">${t('export_csv')}</button>
    <p class="note" role="status" data-testid="rate-csv-note">${note}</p>
  </fieldset>`;
}

function cell(v, col) {
  if (v === null || v === undefined) return '';
  if (MONEY.has(col)) return fmtMoney(v);
  if (typeof v === 'boolean') return v ? '✓' : '';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return '…';
  return String(v);
}

// accounts below their agents (the first 1000: the API's largest page)
function AccountTree() {
  const res = useLoad(() => api('GET', 'accounts?limit=1000'), []);
  if (!res.data) return html`<${Loading} error=${res.error} />`;
  const items = res.data.items;
  const names = new Set(items.map((a) => a.name));
  const kids = {};
  for (const a of items) {
    const up = a.agent && names.has(a.agent) ? a.agent : '';
    (kids[up] = kids[up] || []).push(a);
  }
  const node = (a) => html`<li key=${a.name} data-node=${a.name}>
    <span class="tree-row"><a href=${`#/accounts/${encodeURIComponent(a.name)}`}>${a.name}</a>
      <span class="muted">${a.type}${a.billing_type ? ` · ${a.billing_type}` : ''}</span>
      <span class="money">${fmtMoney(a.balance)}</span></span>
    ${kids[a.name] ? html`<ul>${kids[a.name].map(node)}</ul>` : null}
  </li>`;
  return html`<p class="muted">${t('tree_note', { n: items.length })}</p>
    <ul class="tree" data-testid="account-tree">${(kids[''] || []).map(node)}</ul>`;
}

export function ConfigList({ section, canCreate }) {
  const sec = SECTIONS[section];
  const [offset, setOffset] = useState(0);
  const [state, setState] = useState({ data: null, error: null });
  const [tree, setTree] = useState(false);
  useEffect(() => {
    let alive = true;
    setState({ data: null, error: null });
    api('GET', `${section}?limit=${PAGE}&offset=${offset}`)
      .then((data) => alive && setState({ data, error: null }))
      .catch((error) => alive && setState({ data: null, error }));
    return () => { alive = false; };
  }, [section, offset]);
  const d = state.data;
  return html`<section aria-labelledby="h-list">
    <div class="head">
      <h1 id="h-list">${t(section)}</h1>
      ${canCreate === false ? null : html`<a class="button" href=${`#/${section}/new`} data-testid="new">${t('new')}</a>`}
    </div>
    ${section === 'accounts' ? html`<div class="seg toolbar" role="group" aria-label=${t('accounts')}>
      <button class=${tree ? 'secondary' : ''} aria-pressed=${!tree} onClick=${() => setTree(false)}>${t('list')}</button>
      <button class=${tree ? '' : 'secondary'} aria-pressed=${tree} onClick=${() => setTree(true)}
        data-testid="tree">${t('tree')}</button></div>` : null}
    ${tree ? html`<${AccountTree} />` : null}
    ${tree ? null : state.error ? html`<p class="warn" role="alert">${t('error')}: ${state.error.message}</p>` : null}
    ${tree ? null : !d ? (state.error ? null : html`<p class="muted">…</p>`) : d.items.length === 0
    ? html`<p class="muted">${t('no_items')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table>
        <thead><tr>${sec.cols.map((c) => html`<th scope="col">${label(c)}</th>`)}</tr></thead>
        <tbody>${d.items.map((o) => html`<tr data-row=${o[sec.key]}>
          ${sec.cols.map((c, i) => html`<td>${i === 0
    ? html`<a href=${`#/${section}/${encodeURIComponent(o[sec.key])}`}>${cell(o[c], c)}</a>`
    : cell(o[c], c)}</td>`)}
        </tr>`)}</tbody>
      </table></div>
      <div class="pager">
        <button class="secondary" disabled=${offset === 0}
          onClick=${() => setOffset(Math.max(0, offset - PAGE))}>${t('previous')}</button>
        <span>${t('showing', { from: d.total ? offset + 1 : 0, to: offset + d.items.length, total: d.total })}</span>
        <button class="secondary" disabled=${offset + d.items.length >= d.total}
          onClick=${() => setOffset(offset + PAGE)}>${t('next')}</button>
      </div>`}
  </section>`;
}

function Field({ f, value, error, onChange, fresh }) {
  const id = `f-${f.name}`, eid = `${id}-err`;
  const described = error ? eid : undefined;
  let input;
  if (f.kind === 'bool') {
    input = html`<input id=${id} type="checkbox" checked=${!!value}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onChange=${(e) => onChange(e.target.checked)} />`;
  } else if (f.kind === 'enum') {
    input = html`<select id=${id} aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onChange=${(e) => onChange(e.target.value)} value=${value || ''}>
      ${!f.required || !value ? html`<option value="">—</option>` : null}
      ${f.options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>`;
  } else if (f.kind === 'set') {
    const cur = new Set(value || []);
    input = html`<fieldset id=${id} class="set" aria-describedby=${described}>
      ${f.options.map((o) => html`<label class="check"><input type="checkbox" checked=${cur.has(o)}
        onChange=${(e) => {
    const next = new Set(cur);
    if (e.target.checked) next.add(o); else next.delete(o);
    onChange([...next]);
  }} /> ${o}</label>`)}
    </fieldset>`;
  } else if (f.kind === 'json') {
    input = html`<textarea id=${id} rows="4" spellcheck="false" aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${described} onInput=${(e) => onChange(e.target.value)}>${value}</textarea>`;
  } else {
    input = html`<input id=${id} type=${f.kind === 'password' ? 'password' : f.kind === 'int' ? 'number' : 'text'}
      inputmode=${f.kind === 'money' ? 'decimal' : undefined} min=${f.min} max=${f.max}
      autocomplete=${f.kind === 'password' ? 'new-password' : 'off'}
      required=${f.required && fresh} readonly=${f.key && !fresh}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      value=${value} onInput=${(e) => onChange(e.target.value)} />`;
  }
  return html`<div class="field ${f.kind === 'bool' ? 'inline' : ''} ${error ? 'bad' : ''}" data-field=${f.name}>
    <label for=${id}>${label(f.name)}${f.required && fresh ? html` <span aria-hidden="true">*</span>` : null}</label>
    ${input}
    ${error ? html`<p class="field-error" id=${eid} data-error=${f.name}>${error}</p>` : null}
    ${f.help ? html`<p class="help">${help(f.name, f.help)}</p>` : null}
  </div>`;
}

export function ConfigForm({ section, name }) {
  const sec = SECTIONS[section];
  const fresh = name === 'new';
  const [fields, setFields] = useState(null);
  const [vals, setVals] = useState({});
  const [orig, setOrig] = useState({});
  const [etag, setEtag] = useState('');
  const [errs, setErrs] = useState({});
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let alive = true;
    (async () => {
      const all = await schemas();
      const fs = fieldsOf(all[sec.schema], all).map((f) => ({ ...f, key: f.name === sec.key }));
      let v = {};
      if (!fresh) {
        const r = await fetch(`/api/v1/${section}/${encodeURIComponent(name)}`,
          { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
        setEtag(r.headers.get('ETag') || '');
        const obj = await r.json();
        for (const f of fs) {
          if (f.kind === 'password') v[f.name] = '';
          else if (f.kind === 'bool' || f.kind === 'set') v[f.name] = obj[f.name];
          else v[f.name] = toText(f, obj[f.name]);
        }
      } else {
        for (const f of fs) v[f.name] = f.kind === 'bool' ? false : f.kind === 'set' ? [] : '';
      }
      if (alive) { setFields(fs); setVals(v); setOrig(v); }
    })().catch((e) => alive && setNote(`${t('error')}: ${e.message}`));
    return () => { alive = false; };
  }, [section, name]);

  const save = async (e) => {
    e.preventDefault();
    const body = {}, local = {};
    for (const f of fields) {
      if (!fresh && JSON.stringify(vals[f.name]) === JSON.stringify(orig[f.name])) continue;
      if (f.kind === 'password' && !vals[f.name]) continue;
      try {
        const v = fromText(f, vals[f.name]);
        if (v !== undefined) body[f.name] = v;
      } catch (_) {
        local[f.name] = t('bad_json');
      }
    }
    for (const f of fields) {
      if (fresh && f.required && (body[f.name] === undefined || body[f.name] === '')) local[f.name] = t('required');
    }
    setErrs(local);
    setNote('');
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      if (fresh) {
        await api('POST', section, body);
      } else {
        await api('PATCH', `${section}/${encodeURIComponent(name)}`, body, etag ? { 'If-Match': etag } : undefined);
      }
      location.hash = `#/${section}`;
    } catch (ex) {
      const fe = {};
      for (const x of (ex.errors || [])) if (x.field) fe[x.field.split(/[.[]/)[0]] = x.message;
      if (ex.field && !fe[ex.field.split(/[.[]/)[0]]) fe[ex.field.split(/[.[]/)[0]] = ex.message;
      setErrs(fe);
      setNote(Object.keys(fe).length ? t('fix_fields') : `${t('error')}: ${ex.message}`);
    }
    setBusy(false);
  };

  const remove = async () => {
    if (!confirm(t('confirm_delete', { name }))) return;
    try {
      await api('DELETE', `${section}/${encodeURIComponent(name)}`);
      location.hash = `#/${section}`;
    } catch (ex) {
      setNote(`${t('error')}: ${ex.message}`);
    }
  };

  return html`<section aria-labelledby="h-form">
    <h1 id="h-form">${t(section)} · ${fresh ? t('new') : name}</h1>
    <p class="form-note" role="alert" data-testid="form-note">${note}</p>
    ${!fields ? html`<p class="muted">…</p>` : html`<form class="cfg" onSubmit=${save} novalidate>
      ${fields.map((f) => html`<${Field} key=${f.name} f=${f} value=${vals[f.name]} error=${errs[f.name]}
        fresh=${fresh} onChange=${(v) => setVals({ ...vals, [f.name]: v })} />`)}
      ${section === 'rate_tables' ? html`<${RateCsv} value=${vals.entries} name=${vals.name}
        onChange=${(v) => setVals({ ...vals, entries: v })} />` : null}
      <div class="actions">
        <button type="submit" disabled=${busy} data-testid="save">${t('save')}</button>
        <a class="button secondary" href=${`#/${section}`}>${t('cancel')}</a>
        ${fresh ? null : html`<button type="button" class="danger" onClick=${remove} data-testid="delete">${t('delete')}</button>`}
      </div>
    </form>`}
  </section>`;
}
