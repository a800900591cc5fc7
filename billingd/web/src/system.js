// system.js - system parameters (each with its default and help, set or
// back to the default) and Web Access Control (SERVER_WEB_ACCESS_LIST on
// a page of its own, because a wrong list locks everyone out).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import { html, useLoad, Loading, fieldErrors } from './ui.js';

const WAC = 'SERVER_WEB_ACCESS_LIST';

function ParamRow({ p, onSaved }) {
  const [v, setV] = useState(p.value ?? '');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const id = `p-${p.name}`;
  const save = async (value) => {
    setBusy(true);
    try {
      await api('PATCH', 'system_parameters', { [p.name]: value });
      setErr('');
      onSaved(p.name);
    } catch (ex) {
      setErr(fieldErrors(ex)[p.name] || ex.message);
    }
    setBusy(false);
  };
  const changed = (p.value ?? '') !== v;
  return html`<tr data-param=${p.name} class=${err ? 'bad' : ''}>
    <th scope="row"><label for=${id}><code>${p.name}</code></label>
      <p class="help">${p.help}</p></th>
    <td><input id=${id} value=${v} placeholder=${p.default} inputmode=${p.text ? undefined : 'numeric'}
        aria-invalid=${err ? 'true' : undefined} aria-describedby=${err ? `${id}-err` : undefined}
        onInput=${(e) => setV(e.target.value)} />
      ${err ? html`<p class="field-error" id=${`${id}-err`} data-error=${p.name}>${err}</p>` : null}</td>
    <td class="muted">${p.default === '' ? '—' : p.default}${p.text ? '' : ` (${p.min}..${p.max})`}</td>
    <td class="row-actions">
      <button disabled=${busy || !changed} onClick=${() => save(v.trim() === '' ? null : v.trim())}>${t('save')}</button>
      ${p.value !== null && p.value !== undefined ? html`<button class="secondary" disabled=${busy}
        onClick=${() => { setV(''); save(null); }}>${t('reset')}</button>` : null}
    </td>
  </tr>`;
}

export function Params() {
  const [tick, setTick] = useState(0);
  const [filter, setFilter] = useState('');
  const [note, setNote] = useState('');
  const res = useLoad(() => api('GET', 'system_parameters'), [tick]);
  if (!res.data) return html`<${Loading} error=${res.error} />`;
  const f = filter.trim().toUpperCase();
  const items = res.data.items.filter((p) => p.name !== WAC && (!f || p.name.includes(f) || p.help.toUpperCase().includes(f)));
  return html`<section aria-labelledby="h-params">
    <h1 id="h-params">${t('params')}</h1>
    <div class="toolbar"><label for="param-filter">${t('filter')}</label>
      <input id="param-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} /></div>
    <p class="note" role="status">${note}</p>
    <div class="table-wrap" tabindex="0"><table class="params">
      <thead><tr><th scope="col">${t('parameter')}</th><th scope="col">${t('value')}</th>
        <th scope="col">${t('default')}</th><th scope="col"><span class="sr-only">${t('save')}</span></th></tr></thead>
      <tbody>${items.map((p) => html`<${ParamRow} key=${`${p.name}=${p.value}`} p=${p}
        onSaved=${(n) => { setNote(t('saved_param', { name: n })); setTick(tick + 1); }} />`)}</tbody>
    </table></div>
  </section>`;
}

export function Access() {
  const [tick, setTick] = useState(0);
  const res = useLoad(() => api('GET', 'system_parameters'), [tick]);
  const cur = res.data && res.data.items.find((p) => p.name === WAC);
  const [v, setV] = useState(null);
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  if (!cur) return html`<${Loading} error=${res.error} />`;
  const text = v === null ? (cur.value || '') : v;
  const save = async (e) => {
    e.preventDefault();
    const list = text.trim();
    if (list && !confirm(t('confirm_wac', { list }))) return;
    try {
      await api('PATCH', 'system_parameters', { [WAC]: list || null });
      setErr('');
      setNote(t('saved_param', { name: t('access') }));
      setV(null);
      setTick(tick + 1);
    } catch (ex) {
      setErr(fieldErrors(ex)[WAC] || ex.message);
      setNote('');
    }
  };
  return html`<section aria-labelledby="h-access">
    <h1 id="h-access">${t('access')}</h1>
    <p>${t('wac_help')}</p>
    <form class="cfg" onSubmit=${save} novalidate>
      <div class=${`field ${err ? 'bad' : ''}`}>
        <label for="wac">${t('wac_list')}</label>
        <textarea id="wac" rows="4" spellcheck="false" placeholder="192.0.2.0/24, 2001:db8::/32"
          aria-invalid=${err ? 'true' : undefined} aria-describedby=${err ? 'wac-err' : undefined}
          onInput=${(e) => setV(e.target.value)}>${text}</textarea>
        ${err ? html`<p class="field-error" id="wac-err" data-error="wac">${err}</p>` : null}
      </div>
      <p class="note" role="status">${note}</p>
      <div class="actions"><button type="submit" data-testid="wac-save">${t('save')}</button></div>
    </form>
  </section>`;
}
