// schema.js - forms from the API's own OpenAPI document: each
// configuration section's fields, types, ranges and choices come from
// /api/v1/openapi.json, so the page and the API's validator never disagree.
import { api } from './api.js';

let doc = null;

export async function schemas() {
  if (!doc) doc = await api('GET', 'openapi.json');
  return doc.components.schemas;
}

function deref(s, all) {
  if (s && s.$ref) {
    const name = s.$ref.split('/').pop();
    return { ...all[name], refName: name, description: s.description || all[name].description };
  }
  return s || {};
}

// one field of an input schema -> {name, kind, ...} for the form
export function fieldOf(name, raw, all, required) {
  const s = deref(raw, all);
  const f = { name, required: required.includes(name), help: s.description || '' };
  const any = s.anyOf && s.anyOf.find((x) => x.type !== 'null');
  if (s.refName === 'Money') return { ...f, kind: 'money', pattern: s.pattern };
  if (s.enum) return { ...f, kind: 'enum', options: s.enum };
  if (any) {
    return { ...fieldOf(name, any, all, []), nullable: true, required: f.required, help: any.description || f.help };
  }
  if (s.type === 'boolean') return { ...f, kind: 'bool' };
  if (s.type === 'integer') return { ...f, kind: 'int', min: s.minimum, max: s.maximum };
  if (s.type === 'string') return { ...f, kind: /password/.test(name) ? 'password' : 'text' };
  if (s.type === 'array') {
    const it = deref(s.items, all);
    if (it.enum) return { ...f, kind: 'set', options: it.enum };
    if (it.type === 'string') return { ...f, kind: 'list' };
    if (it.type === 'integer') return { ...f, kind: 'intlist' };
  }
  return { ...f, kind: 'json' };
}

export function fieldsOf(schema, all) {
  const req = schema.required || [];
  return Object.entries(schema.properties || {}).map(([k, v]) => fieldOf(k, v, all, req));
}

// the text a field shows for a value
export function toText(f, v) {
  if (v === null || v === undefined) return '';
  if (f.kind === 'list' || f.kind === 'intlist') return v.join(', ');
  if (f.kind === 'json') return JSON.stringify(v, null, 1);
  return String(v);
}

// the value to send for a field's text; undefined = leave out; throws on
// a value the browser can already tell is wrong (the API checks the rest)
export function fromText(f, text) {
  if (f.kind === 'bool' || f.kind === 'set') return text;
  const t = (text || '').trim();
  if (t === '') return f.nullable ? null : (f.kind === 'list' || f.kind === 'intlist') ? [] : undefined;
  switch (f.kind) {
    case 'int': return Number.isInteger(Number(t)) ? Number(t) : t; // the API names it
    case 'list': return t.split(',').map((x) => x.trim()).filter(Boolean);
    case 'intlist': return t.split(',').map((x) => x.trim()).filter(Boolean)
      .map((x) => (Number.isInteger(Number(x)) ? Number(x) : x));
    case 'json':
      try { return JSON.parse(t); } catch (_) { throw new Error('JSON'); }
    default: return t;
  }
}
