// ui.js - what every page shares: formatting (numbers, money with the
// configured currency and precision, times in the user's time zone),
// polling and loading, a pager and CSV helpers.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { getLang, t } from './i18n.js';

export const html = htm.bind(h);

// ---- money ----

// SERVER_CURRENCY and SERVER_BILLING_FEE_PRECISION, from /me and login
let display = { currency: '', fee_precision: 4 };

export function setDisplay(d) {
  if (d && typeof d === 'object') display = { ...display, ...d };
}

// "12.3456" (the API's money: at most 6 decimals) -> micro-units (BigInt)
export function toMicro(s) {
  const m = /^(-?)([0-9]+)(?:\.([0-9]{1,6}))?$/.exec(String(s ?? '').trim());
  if (!m) return null;
  const v = BigInt(m[2]) * 1000000n + BigInt((m[3] || '').padEnd(6, '0'));
  return m[1] ? -v : v;
}

// money as people read it: grouped, rounded half up to the fee precision,
// with the currency; the exact value stays in the title attribute
export function fmtMoney(s, opts) {
  const micro = toMicro(s);
  if (micro === null) return s === null || s === undefined ? '' : String(s);
  const p = Math.max(0, Math.min(6, Number(display.fee_precision) || 0));
  const neg = micro < 0n;
  const unit = 10n ** BigInt(6 - p);
  const q = ((neg ? -micro : micro) + unit / 2n) / unit;
  const scale = 10n ** BigInt(p);
  const whole = new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en')
    .format(q / scale);
  const frac = p ? `.${String(q % scale).padStart(p, '0')}` : '';
  const cur = opts && opts.bare ? '' : display.currency;
  return `${neg && q ? '−' : ''}${whole}${frac}${cur ? ` ${cur}` : ''}`;
}

export function Money({ v }) {
  return html`<span class="money" title=${v ?? ''}>${fmtMoney(v)}</span>`;
}

// ---- numbers and times ----

export function fmtInt(n) {
  return new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en').format(n || 0);
}

export function fmtNum(n, digits) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  return new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en',
    { maximumFractionDigits: digits ?? 1, minimumFractionDigits: 0 }).format(n);
}

export function fmtDuration(s) {
  s = Math.max(0, Math.floor(s || 0));
  const m = Math.floor(s / 60), r = s % 60;
  return `${m}:${String(r).padStart(2, '0')}`;
}

function dtf(opts, tz) {
  const loc = getLang() === 'zh' ? 'zh-CN' : 'en-GB';
  try {
    return new Intl.DateTimeFormat(loc, { ...opts, timeZone: tz || undefined });
  } catch (_) {
    return new Intl.DateTimeFormat(loc, opts);
  }
}

export function fmtTime(d, tz) {
  return d ? dtf({ timeStyle: 'medium' }, tz).format(d) : '';
}

// an API timestamp (ISO 8601 or ms) in the user's time zone
export function fmtDateTime(v, tz) {
  if (v === null || v === undefined || v === '') return '';
  const d = new Date(typeof v === 'number' ? v : Date.parse(v));
  if (Number.isNaN(d.getTime())) return String(v);
  return dtf({ dateStyle: 'short', timeStyle: 'medium' }, tz).format(d);
}

// minutes east of UTC of tz at the instant ms
function tzOffsetMin(ms, tz) {
  const parts = {};
  for (const p of dtf({
    hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }, tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day,
    +parts.hour % 24, +parts.minute, +parts.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

// "YYYY-MM-DDTHH:MM" read in time zone tz -> ms since 1970 (NaN if bad)
export function zonedToMs(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || '');
  if (!m) return NaN;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const off = tzOffsetMin(guess, tz);
  const ms = guess - off * 60000;
  // across a change of offset, one more step settles it
  return guess - tzOffsetMin(ms, tz) * 60000;
}

// ms -> "YYYY-MM-DDTHH:MM" in time zone tz (for datetime-local inputs)
export function msToZoned(ms, tz) {
  const local = new Date(ms + tzOffsetMin(ms, tz) * 60000);
  return local.toISOString().slice(0, 16);
}

// ---- loading ----

// fn() every ms while mounted (and again when deps change)
export function usePoll(fn, ms, deps) {
  const [state, setState] = useState({ data: null, error: null, at: null });
  useEffect(() => {
    let alive = true, timer = null;
    const tick = async () => {
      try {
        const data = await fn();
        if (alive) setState({ data, error: null, at: new Date() });
      } catch (e) {
        if (alive) setState((s) => ({ ...s, error: e }));
      }
      if (alive && ms) timer = setTimeout(tick, ms);
    };
    tick();
    return () => { alive = false; clearTimeout(timer); };
  }, deps || []);
  return state;
}

// fn() once per change of deps: {data, error}
export function useLoad(fn, deps) {
  return usePoll(fn, 0, deps);
}

export function Loading({ error }) {
  return error
    ? html`<p class="warn" role="alert">${t('error')}: ${error.message}</p>`
    : html`<p class="muted" aria-busy="true">…</p>`;
}

// previous / next over a server-paged list; total may be unknown (null):
// then "next" is offered while a page comes back full
export function Pager({ offset, count, total, page, onMove }) {
  const more = total === null || total === undefined ? count >= page : offset + count < total;
  return html`<div class="pager">
    <button class="secondary" disabled=${offset === 0} data-testid="prev"
      onClick=${() => onMove(Math.max(0, offset - page))}>${t('previous')}</button>
    <span>${total === null || total === undefined
    ? t('showing_open', { from: count ? offset + 1 : 0, to: offset + count })
    : t('showing', { from: total ? offset + 1 : 0, to: offset + count, total })}</span>
    <button class="secondary" disabled=${!more} data-testid="next"
      onClick=${() => onMove(offset + page)}>${t('next')}</button>
  </div>`;
}

// ---- CSV ----

function csvCell(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(cols, rows) {
  return [cols.map(csvCell).join(','),
    ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
}

// RFC 4180 text -> array of rows (arrays of strings)
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell); cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); cell = '';
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
    } else {
      cell += c;
    }
  }
  row.push(cell);
  if (row.some((x) => x !== '')) rows.push(row);
  return rows;
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: type || 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// an API error's field messages -> {field: message} (first path segment)
export function fieldErrors(ex) {
  const fe = {};
  const key = (f) => String(f).split(/[.[]/)[0];
  for (const x of (ex && ex.errors) || []) if (x.field) fe[key(x.field)] = x.message;
  if (ex && ex.field && !fe[key(ex.field)]) fe[key(ex.field)] = ex.message;
  return fe;
}

// a labelled input with its error next to it
export function Input({ id, name, value, onInput, error, type, required, list, inputmode, min, max, placeholder }) {
  const eid = `${id}-err`;
  return html`<div class="field ${error ? 'bad' : ''}" data-field=${id}>
    <label for=${id}>${name}${required ? html` <span aria-hidden="true">*</span>` : null}</label>
    <input id=${id} type=${type || 'text'} value=${value} list=${list} inputmode=${inputmode}
      min=${min} max=${max} placeholder=${placeholder}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? eid : undefined}
      onInput=${(e) => onInput(e.target.value)} />
    ${error ? html`<p class="field-error" id=${eid} data-error=${id}>${error}</p>` : null}
  </div>`;
}

export function Select({ id, name, value, onChange, options, error, blank }) {
  const eid = `${id}-err`;
  return html`<div class="field ${error ? 'bad' : ''}" data-field=${id}>
    <label for=${id}>${name}</label>
    <select id=${id} value=${value} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${error ? eid : undefined} onChange=${(e) => onChange(e.target.value)}>
      ${blank ? html`<option value="">${blank}</option>` : null}
      ${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select>
    ${error ? html`<p class="field-error" id=${eid} data-error=${id}>${error}</p>` : null}
  </div>`;
}
