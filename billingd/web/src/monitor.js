// monitor.js - alarms (raised, cleared, acknowledged), statistics per
// gateway and per account with ASR/ACD/PDD charts, today's revenue with
// the top 10s, and each host's performance.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.js';
import { t, getLang } from './i18n.js';
import {
  html, usePoll, useLoad, Loading, Pager, Money, fmtDateTime, fmtInt, fmtNum,
} from './ui.js';

const LIVE_MS = 5000;
const PAGE = 50;

// ---- alarms ----

export function Alarms({ user }) {
  const [active, setActive] = useState(true);
  const [offset, setOffset] = useState(0);
  const [tick, setTick] = useState(0);
  const [note, setNote] = useState('');
  const res = usePoll(() => api('GET', `alarms?active=${active}&limit=${PAGE}&offset=${offset}`),
    LIVE_MS, [active, offset, tick]);
  const ack = async (a) => {
    try {
      await api('PATCH', `alarms/${a.id}`, { acknowledged: true });
      setNote(t('acked'));
      setTick(tick + 1);
    } catch (e) {
      setNote(`${t('error')}: ${e.message}`);
    }
  };
  const items = (res.data && res.data.items) || [];
  return html`<section aria-labelledby="h-alarms">
    <h1 id="h-alarms">${t('alarms_page')}</h1>
    <div class="toolbar" role="group" aria-label=${t('show')}>
      <label class="check"><input type="radio" name="alarm-view" checked=${active}
        onChange=${() => { setOffset(0); setActive(true); }} /> ${t('active_only')}</label>
      <label class="check"><input type="radio" name="alarm-view" checked=${!active}
        onChange=${() => { setOffset(0); setActive(false); }} /> ${t('history')}</label>
    </div>
    <p class="note" role="status">${note}</p>
    ${!res.data ? html`<${Loading} error=${res.error} />` : items.length === 0
    ? html`<p class="muted" data-testid="no-alarms">${t('no_alarms')}</p>`
    : html`<div class="table-wrap" tabindex="0"><table data-testid="alarms">
        <thead><tr><th scope="col">${t('severity')}</th><th scope="col">${t('alarm')}</th>
          <th scope="col">${t('subject')}</th><th scope="col">${t('message')}</th>
          <th scope="col">${t('raised')}</th><th scope="col">${t('cleared')}</th>
          <th scope="col">${t('acknowledged')}</th></tr></thead>
        <tbody>${items.map((a) => html`<tr key=${a.id} data-alarm=${a.kind}>
          <td><span class="badge ${a.severity}">${t(`sev_${a.severity}`)}</span></td>
          <td>${a.kind}</td><td>${a.subject}</td><td>${a.message}</td>
          <td>${fmtDateTime(a.raised_at, user.time_zone)}</td>
          <td>${a.cleared_at ? fmtDateTime(a.cleared_at, user.time_zone) : '—'}</td>
          <td>${a.acked_at ? `${a.acked_by || ''} ${fmtDateTime(a.acked_at, user.time_zone)}`
    : html`<button class="secondary" onClick=${() => ack(a)}>${t('acknowledge')}</button>`}</td>
        </tr>`)}</tbody></table></div>
      <${Pager} offset=${offset} count=${items.length} total=${res.data.total} page=${PAGE} onMove=${setOffset} />`}
  </section>`;
}

// ---- statistics ----

// one bar per name (uPlot's bar paths); max: the scale's top, if fixed
function BarChart({ names, values, title, max, color }) {
  const box = useRef(null), plot = useRef(null);
  useEffect(() => {
    if (!box.current || !names.length) return undefined;
    const xs = names.map((_, i) => i);
    const opts = {
      width: Math.max(260, box.current.clientWidth), height: 200,
      scales: {
        x: { time: false, range: [-0.5, names.length - 0.5] },
        y: max ? { range: [0, max] } : { range: (u, lo, hi) => [0, Math.max(1, hi * 1.15)] },
      },
      axes: [{ values: (_, ticks) => ticks.map((i) => names[i] ?? ''), gap: 4 }, { size: 56 }],
      series: [{}, {
        label: title, stroke: color, fill: `${color}cc`, points: { show: false },
        paths: uPlot.paths.bars({ size: [0.6, 60] }),
      }],
      legend: { show: false },
    };
    if (plot.current) plot.current.destroy();
    plot.current = new uPlot(opts, [xs, values], box.current);
    return undefined;
  }, [names.join('|'), values.join('|'), getLang()]);
  useEffect(() => () => plot.current && plot.current.destroy(), []);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div ref=${box} class="chart-box" role="img" aria-label=${title}></div>
  </figure>`;
}

const SPANS = [['1h', 3600], ['24h', 86400], ['7d', 7 * 86400]];

export function Stats({ user }) {
  const staff = user.role === 'admin' || user.role === 'operator';
  const [kind, setKind] = useState(staff ? 'gateways' : 'accounts');
  const [span, setSpan] = useState(86400);
  const res = useLoad(() => api('GET', `stats/${kind}?from=${Date.now() - span * 1000}`), [kind, span]);
  const items = ((res.data && res.data.items) || []).slice(0, 20);
  const key = kind === 'gateways' ? 'gateway' : 'account';
  const names = items.map((x) => x[key]);
  return html`<section aria-labelledby="h-stats">
    <h1 id="h-stats">${t('stats')}</h1>
    <div class="toolbar">
      ${staff ? html`<div role="group" aria-label=${t('stats')} class="seg">
        <button class=${kind === 'gateways' ? '' : 'secondary'} aria-pressed=${kind === 'gateways'}
          onClick=${() => setKind('gateways')}>${t('per_gateway')}</button>
        <button class=${kind === 'accounts' ? '' : 'secondary'} aria-pressed=${kind === 'accounts'}
          onClick=${() => setKind('accounts')}>${t('per_account')}</button></div>` : null}
      <label for="stats-span">${t('period_label')}</label>
      <select id="stats-span" value=${span} onChange=${(e) => setSpan(Number(e.target.value))}>
        ${SPANS.map(([l, s]) => html`<option value=${s}>${t(`last_${l}`)}</option>`)}
      </select>
    </div>
    ${!res.data ? html`<${Loading} error=${res.error} />` : items.length === 0
    ? html`<p class="muted">${t('no_traffic')}</p>`
    : html`<div class="charts">
        <${BarChart} names=${names} title=${t('asr_chart')} max=${100} color="#0b5cd5"
          values=${items.map((x) => x.asr)} />
        <${BarChart} names=${names} title=${t('acd_s')} color="#1a7f37" values=${items.map((x) => x.acd_s)} />
        <${BarChart} names=${names} title=${t('pdd_ms')} color="#9a6700" values=${items.map((x) => x.pdd_ms)} />
      </div>
      <div class="table-wrap" tabindex="0"><table data-testid="stats">
        <thead><tr><th scope="col">${kind === 'gateways' ? t('gateway') : t('account')}</th>
          <th scope="col" class="num">${t('attempts')}</th><th scope="col" class="num">${t('asr')}</th>
          <th scope="col" class="num">${t('acd_s')}</th><th scope="col" class="num">${t('pdd_ms')}</th>
          <th scope="col" class="num">${t('minutes_h')}</th>
          ${kind === 'accounts' ? html`<th scope="col" class="num">${t('income')}</th>
            <th scope="col" class="num">${t('profit')}</th>` : html`<th scope="col" class="num">${t('cost')}</th>`}
        </tr></thead>
        <tbody>${items.map((x) => html`<tr><td>${x[key]}</td>
          <td class="num">${fmtInt(x.attempts ?? x.calls)}</td><td class="num">${fmtNum(x.asr, 1)}</td>
          <td class="num">${fmtNum(x.acd_s, 1)}</td><td class="num">${fmtNum(x.pdd_ms, 0)}</td>
          <td class="num">${fmtNum(x.minutes, 1)}</td>
          ${kind === 'accounts' ? html`<td class="num"><${Money} v=${x.income} /></td>
            <td class="num"><${Money} v=${x.profit} /></td>` : html`<td class="num"><${Money} v=${x.cost} /></td>`}
        </tr>`)}</tbody></table></div>`}
  </section>`;
}

// ---- revenue ----

function Top({ title, rows, cols }) {
  return html`<div class="panel"><h2>${title}</h2>${rows.length === 0
    ? html`<p class="muted">${t('no_traffic')}</p>`
    : html`<ol class="top">${rows.map((r) => html`<li><span>${r[cols[0]]}</span>
      <span class="num">${cols[1] === 'minutes' ? fmtNum(r.minutes, 1) : html`<${Money} v=${r[cols[1]]} />`}</span></li>`)}</ol>`}</div>`;
}

export function Revenue({ user }) {
  const res = usePoll(() => api('GET', `stats/today?tz=${encodeURIComponent(user.time_zone || 'UTC')}`), 30000,
    [user.time_zone]);
  const d = res.data;
  if (!d) return html`<${Loading} error=${res.error} />`;
  return html`<section aria-labelledby="h-revenue">
    <h1 id="h-revenue">${t('revenue')}</h1>
    <p class="muted">${t('since')} ${fmtDateTime(d.since, user.time_zone)} (${d.tz})</p>
    <div class="cards">
      <div class="card primary" data-testid="rev-income"><div class="card-label">${t('income')}</div>
        <div class="card-value"><${Money} v=${d.income} /></div></div>
      <div class="card"><div class="card-label">${t('cost')}</div><div class="card-value"><${Money} v=${d.cost} /></div></div>
      <div class="card"><div class="card-label">${t('profit')}</div><div class="card-value"><${Money} v=${d.profit} /></div></div>
      <div class="card"><div class="card-label">${t('calls_answered')}</div>
        <div class="card-value">${fmtInt(d.calls)} / ${fmtInt(d.answered)}</div></div>
    </div>
    <div class="three">
      <${Top} title=${t('top_accounts')} rows=${d.top_accounts} cols=${['account', 'income']} />
      <${Top} title=${t('top_gateways')} rows=${d.top_gateways} cols=${['gateway', 'minutes']} />
      <${Top} title=${t('top_destinations')} rows=${d.top_destinations || []}
        cols=${['prefix', 'minutes']} />
    </div>
  </section>`;
}

// ---- performance ----

function pct(used, total) {
  return total ? Math.round((100 * used) / total) : 0;
}

function Meter({ label, value }) {
  return html`<div class="meter"><span>${label}</span>
    <meter min="0" max="100" low="70" high="90" optimum="10" value=${value} aria-label=${label}></meter>
    <span class="num">${value}%</span></div>`;
}

export function Performance() {
  const res = usePoll(() => api('GET', 'performance'), LIVE_MS);
  if (!res.data) return html`<${Loading} error=${res.error} />`;
  return html`<section aria-labelledby="h-perf">
    <h1 id="h-perf">${t('performance')}</h1>
    <div class="hosts">${res.data.hosts.map((n) => {
    const hh = n.host;
    const cpu = hh && hh.cpu_pct.length ? Math.round(hh.cpu_pct.reduce((a, b) => a + b, 0) / hh.cpu_pct.length) : 0;
    return html`<article class="panel host" data-node=${n.node_id}>
        <h2>${n.role} · ${n.node_id} <span class="badge ${n.online ? 'ok' : 'critical'}">${n.online ? t('online') : t('offline')}</span></h2>
        ${hh ? html`<p class="muted">${hh.hostname} · ${t('load')} ${hh.load.map((x) => fmtNum(x, 2)).join(' / ')}</p>
          <${Meter} label=${t('cpu')} value=${cpu} />
          <${Meter} label=${t('memory')} value=${pct(hh.memory_kb.total - hh.memory_kb.available, hh.memory_kb.total)} />
          ${hh.disks.map((d) => html`<${Meter} label=${`${t('disk')} ${d.mount}`} value=${pct(d.used_kb, d.total_kb)} />`)}`
    : html`<p class="muted">${t('no_report')}</p>`}
      </article>`;
  })}</div>
  </section>`;
}
