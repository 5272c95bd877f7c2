// The localcases console. Plain JavaScript, no build step, no third-party
// code: it calls the Cases API on its real REST-JSON paths and the admin
// API under /_localcases/, on the page's own origin, and renders what they
// answer. Every value from the server reaches the page as text (never as
// markup), and the page's Content-Security-Policy runs no inline script.
'use strict';

(() => {
  const main = document.getElementById('main');
  const statusPill = document.getElementById('status');
  const toastBox = document.getElementById('toast');

  // ---------------------------------------------------------------- DOM

  // h builds an element: h('a', {href: '#/x', class: 'y'}, 'text', child).
  // Strings become text nodes, so server data is never parsed as HTML.
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked') el.checked = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    add(el, kids);
    return el;
  }
  function add(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === undefined || k === null || k === false) continue;
      el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }
  function empty(title, ...body) { return h('div', {class: 'empty'}, h('strong', {}, title), ...body); }
  function errorBox(err) {
    const e = h('div', {class: 'error', role: 'alert'}, describe(err));
    return e;
  }
  function describe(err) {
    if (err instanceof ApiError) return (err.type ? err.type + ': ' : 'HTTP ' + err.status + ': ') + err.message;
    return String(err && err.message || err);
  }
  let toastTimer = 0;
  function toast(msg, bad) {
    toastBox.textContent = msg;
    toastBox.className = bad ? 'bad' : '';
    toastBox.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastBox.hidden = true; }, bad ? 8000 : 3000);
  }
  function fmtTime(v) {
    if (v === undefined || v === null || v === '') return '';
    const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
    if (isNaN(d)) return String(v);
    return d.toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit'});
  }
  function table(headers, rows, opts) {
    const thead = h('thead', {}, h('tr', {}, headers.map((t) => h('th', {scope: 'col', class: /^(Requests|Failures|Error rate|Fired|Latency|Retry-After|Attempt)$/.test(t) ? 'num' : null}, t))));
    const tb = h('table', opts || {}, thead, h('tbody', {}, rows));
    return h('div', {class: 'table-scroll'}, tb);
  }
  const pill = (text, cls) => h('span', {class: 'pill ' + (cls || text)}, text);

  // --------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, type, message) { super(message); this.status = status; this.type = type; }
  }

  let session = {tokenRequired: false, authenticated: false, authMode: 'permissive'};
  let server = {region: 'us-east-1'};

  // call sends one request on this origin. API calls are signed with
  // SigV4 when the server runs strict authentication.
  async function call(method, path, body, query, isAPI) {
    let url = path;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') qs.append(k, v);
    const q = qs.toString();
    if (q) url += '?' + q;
    const headers = {};
    let data;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(body);
    }
    if (isAPI && session.authMode === 'strict') Object.assign(headers, await sign(method, path, qs, data || ''));
    const resp = await fetch(url, {method, headers, body: data, credentials: 'same-origin', cache: 'no-store'});
    const text = await resp.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (resp.status === 403 && !isAPI && session.tokenRequired && session.authenticated && path !== '/_localcases/ui/login') {
      // The session ended (a logout elsewhere, a new token): log in again.
      session.authenticated = false;
      setTimeout(route, 0);
    }
    if (!resp.ok) {
      const type = (resp.headers.get('x-amzn-ErrorType') || (json && json.__type) || '').split(':')[0];
      const msg = (json && (json.message || json.Message || json.error)) || text || resp.statusText;
      throw new ApiError(resp.status, type, msg);
    }
    return json;
  }
  const seg = encodeURIComponent;
  const cases = (method, path, body, query) => call(method, path, body, query, true);
  const admin = (method, name, body, query) => call(method, '/_localcases/' + name, body, query, false);

  // ------------------------------------------------------------- SigV4
  // In strict mode the API checks signatures, and a page cannot sign
  // without a key: the console asks for an access key and secret, keeps
  // them in this tab's sessionStorage only, and signs with WebCrypto.

  const enc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  const utf8 = (s) => new TextEncoder().encode(s);
  async function sha256(s) { return hex(await crypto.subtle.digest('SHA-256', utf8(s))); }
  async function hmac(key, s) {
    const k = await crypto.subtle.importKey('raw', typeof key === 'string' ? utf8(key) : key, {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
    return crypto.subtle.sign('HMAC', k, utf8(s));
  }
  function credentials() {
    try { return JSON.parse(sessionStorage.getItem('localcases.credentials') || 'null'); } catch (e) { return null; }
  }
  async function sign(method, path, qs, body) {
    const c = credentials();
    if (!c) throw new ApiError(403, 'MissingCredentials', 'This server checks SigV4 signatures (strict mode): the console needs an access key.');
    if (!window.crypto || !crypto.subtle) throw new ApiError(0, 'InsecureContext', 'Signing needs WebCrypto, which browsers offer only on https or on localhost/127.0.0.1.');
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    // The SDKs sign the path with each segment encoded twice: once in the
    // URL, once more in the canonical request.
    const canonPath = path.split('/').map((s) => enc3986(s)).join('/');
    const pairs = [];
    qs.forEach((v, k) => pairs.push([enc3986(k), enc3986(v)]));
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const canonQuery = pairs.map((p) => p[0] + '=' + p[1]).join('&');
    const payloadHash = await sha256(body);
    const signed = 'host;x-amz-content-sha256;x-amz-date';
    const canon = [method, canonPath, canonQuery, 'host:' + location.host, 'x-amz-content-sha256:' + payloadHash, 'x-amz-date:' + amzDate, '', signed, payloadHash].join('\n');
    const scope = day + '/' + server.region + '/cases/aws4_request';
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, await sha256(canon)].join('\n');
    let key = await hmac('AWS4' + c.secretAccessKey, day);
    key = await hmac(key, server.region);
    key = await hmac(key, 'cases');
    key = await hmac(key, 'aws4_request');
    const sig = hex(await hmac(key, toSign));
    return {
      'X-Amz-Date': amzDate,
      'X-Amz-Content-Sha256': payloadHash,
      Authorization: 'AWS4-HMAC-SHA256 Credential=' + c.accessKeyId + '/' + scope + ', SignedHeaders=' + signed + ', Signature=' + sig,
    };
  }
  function credentialsForm() {
    const c = credentials();
    const id = h('input', {name: 'accessKeyId', autocomplete: 'off', required: true, value: c ? c.accessKeyId : ''});
    const secret = h('input', {name: 'secretAccessKey', type: 'password', autocomplete: 'off', required: true});
    return h('form', {class: 'panel', onsubmit: (e) => {
      e.preventDefault();
      sessionStorage.setItem('localcases.credentials', JSON.stringify({accessKeyId: id.value.trim(), secretAccessKey: secret.value}));
      toast('Credentials kept for this tab.');
      route();
    }},
    h('p', {}, 'This server checks SigV4 signatures (', h('code', {}, '--auth strict'), '). The console signs its API calls with an access key from the server\'s config; it keeps them in this tab only, and the key\'s policy applies.'),
    h('div', {class: 'row'},
      h('label', {}, 'Access key ID', id),
      h('label', {}, 'Secret access key', secret),
      h('button', {class: 'primary', type: 'submit'}, c ? 'Replace credentials' : 'Use credentials'),
      c ? h('button', {type: 'button', onclick: () => { sessionStorage.removeItem('localcases.credentials'); route(); }}, 'Forget') : null));
  }

  // -------------------------------------------------------------- router

  let cleanups = [];
  let generation = 0;
  function onLeave(fn) { cleanups.push(fn); }

  const routes = [
    [/^$/, () => domainsView()],
    [/^domains$/, () => domainsView()],
    [/^domains\/([^/]+)$/, (id) => domainView(id, 'fields')],
    [/^domains\/([^/]+)\/(fields|layouts|templates|rules)$/, (id, tab) => domainView(id, tab)],
    [/^domains\/([^/]+)\/cases$/, (id) => casesView(id)],
    [/^domains\/([^/]+)\/cases\/([^/]+)$/, (id, c) => caseView(id, c)],
    [/^health$/, () => healthView()],
    [/^faults$/, () => faultsView()],
    [/^requests$/, () => requestsView()],
    [/^events(\?.*)?$/, () => eventsView()],
  ];

  async function route() {
    for (const fn of cleanups) fn();
    cleanups = [];
    const gen = ++generation;
    const path = location.hash.replace(/^#\/?/, '');
    const section = path.split(/[/?]/)[0] || 'domains';
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    clear(main);
    if (session.tokenRequired && !session.authenticated) { loginView(); return; }
    for (const [re, view] of routes) {
      const m = path.match(re);
      if (!m) continue;
      try {
        const el = await view(...m.slice(1).map(decodeURIComponent));
        if (gen !== generation) return;
        clear(main);
        add(main, [el]);
      } catch (err) {
        if (gen !== generation) return;
        clear(main);
        if (err instanceof ApiError && err.type === 'MissingCredentials') add(main, [h('h1', {}, 'An access key is needed'), credentialsForm()]);
        else add(main, [h('h1', {}, 'Something went wrong'), errorBox(err)]);
      }
      return;
    }
    add(main, [h('h1', {}, 'Not found'), h('p', {}, 'No console page at ', h('code', {}, location.hash), '. ', h('a', {href: '#/domains'}, 'Go to domains'), '.')]);
  }
  const isCurrent = (gen) => gen === generation;

  function loginView() {
    const token = h('input', {type: 'password', name: 'token', autocomplete: 'current-password', required: true, id: 'token'});
    const msg = h('p', {class: 'muted'}, 'This server has an admin token. Enter it to use the console; the browser keeps a session cookie (not the token), until you log out or the token changes.');
    const form = h('form', {class: 'panel', onsubmit: async (e) => {
      e.preventDefault();
      try {
        session = await call('POST', '/_localcases/ui/login', {token: token.value});
        await start();
      } catch (err) {
        token.value = '';
        token.focus();
        toast(describe(err), true);
      }
    }}, msg, h('div', {class: 'row'}, h('label', {for: 'token'}, 'Admin token', token), h('button', {class: 'primary', type: 'submit'}, 'Log in')));
    add(main, [h('h1', {}, 'Log in'), form]);
    token.focus();
  }

  // ------------------------------------------------------------- domains

  // listAll follows nextToken through a List operation, a page of
  // pageSize (each operation has its own maximum) at a time.
  async function listAll(path, key, pageSize, max) {
    const out = [];
    let nextToken;
    do {
      const r = await cases('POST', path, undefined, {maxResults: pageSize || 100, nextToken});
      out.push(...(r[key] || []));
      nextToken = r.nextToken;
    } while (nextToken && out.length < (max || 1000));
    return out;
  }

  async function domainsView() {
    const wrap = h('div', {}, h('h1', {}, 'Domains'));
    if (session.authMode === 'strict') wrap.append(credentialsForm());
    const domains = await listAll('/domains-list', 'domains', 10);
    if (!domains.length) {
      wrap.append(empty('No domains yet.', h('p', {}, 'Create one with the AWS CLI, an SDK, or the form below:'),
        h('pre', {}, 'aws connectcases create-domain --name support --endpoint-url ' + location.origin)));
    } else {
      wrap.append(table(['Name', 'Domain ID', ''], domains.map((d) => h('tr', {},
        h('td', {}, h('a', {href: '#/domains/' + seg(d.domainId)}, d.name)),
        h('td', {class: 'mono wrap'}, d.domainId),
        h('td', {}, h('a', {href: '#/domains/' + seg(d.domainId) + '/cases'}, 'Search cases')))), {id: 'domains'}));
      wrap.append(h('p', {class: 'muted'}, domains.length === 1 ? '1 domain' : domains.length + ' domains'));
    }
    const name = h('input', {name: 'name', required: true, pattern: '^[a-zA-Z0-9_ \\-]+$', maxlength: 100});
    wrap.append(h('h2', {}, 'Create a domain'), h('form', {class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await cases('POST', '/domains', {name: name.value.trim()});
        location.hash = '#/domains/' + seg(r.domainId);
      } catch (err) { toast(describe(err), true); }
    }}, h('label', {}, 'Name', name), h('button', {type: 'submit'}, 'Create')));
    return wrap;
  }

  const domainCache = new Map();
  async function getDomain(id) {
    const d = await cases('POST', '/domains/' + seg(id));
    domainCache.set(id, d);
    return d;
  }
  async function fieldsOf(id) {
    return listAll('/domains/' + seg(id) + '/fields-list', 'fields');
  }
  function crumbs(...parts) {
    const out = h('div', {class: 'crumbs'});
    parts.forEach((p, i) => { if (i) out.append(' / '); out.append(p); });
    return out;
  }

  async function domainView(id, tab) {
    const d = await getDomain(id);
    const base = '#/domains/' + seg(id);
    const wrap = h('div', {},
      crumbs(h('a', {href: '#/domains'}, 'Domains')),
      h('h1', {}, d.name),
      h('dl', {class: 'kv panel'},
        h('dt', {}, 'Domain ID'), h('dd', {class: 'mono'}, d.domainId),
        h('dt', {}, 'ARN'), h('dd', {class: 'mono'}, d.domainArn),
        h('dt', {}, 'Status'), h('dd', {}, d.domainStatus || ''),
        h('dt', {}, 'Created'), h('dd', {}, fmtTime(d.createdTime))),
      h('p', {}, h('a', {href: base + '/cases', class: 'button'}, 'Search cases in this domain →')));
    const tabs = [['fields', 'Fields'], ['layouts', 'Layouts'], ['templates', 'Templates'], ['rules', 'Case rules']];
    wrap.append(h('nav', {class: 'tabs', 'aria-label': 'Domain configuration'}, tabs.map(([t, label]) =>
      h('a', {href: base + '/' + t, 'aria-current': t === tab ? 'page' : null}, label))));
    const body = h('section', {});
    wrap.append(body);
    const dp = '/domains/' + seg(id);
    if (tab === 'fields') {
      const fields = await fieldsOf(id);
      fields.sort((a, b) => (a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace === 'Custom' ? -1 : 1));
      body.append(table(['Name', 'Field ID', 'Type', 'Namespace', 'Options'], fields.map((f) => {
        const cell = h('td', {});
        if (f.type === 'SingleSelect') {
          cell.append(h('button', {type: 'button', onclick: async (e) => {
            e.target.disabled = true;
            try {
              const opts = await listAll(dp + '/fields/' + seg(f.fieldId) + '/options-list', 'options');
              clear(cell).append(opts.length ? h('ul', {}, opts.map((o) => h('li', {}, o.name, ' ', h('code', {}, o.value), o.active === false ? ' (inactive)' : ''))) : h('span', {class: 'muted'}, 'no options'));
            } catch (err) { clear(cell).append(errorBox(err)); }
          }}, 'Show options'));
        }
        return h('tr', {}, h('td', {}, f.name, f.description ? h('div', {class: 'muted'}, f.description) : null),
          h('td', {class: 'mono wrap'}, f.fieldId), h('td', {}, f.type), h('td', {}, f.namespace), cell);
      }), {id: 'fields'}));
    } else if (tab === 'layouts') {
      const layouts = await listAll(dp + '/layouts-list', 'layouts');
      body.append(layouts.length ? table(['Name', 'Layout ID', ''], layouts.map((l) => detailRow([l.name, l.layoutId],
        () => cases('POST', dp + '/layouts/' + seg(l.layoutId))))) : empty('No layouts in this domain.', h('p', {}, 'CreateLayout adds one.')));
    } else if (tab === 'templates') {
      const templates = await listAll(dp + '/templates-list', 'templates');
      body.append(templates.length ? table(['Name', 'Template ID', 'Status', ''], templates.map((t) => detailRow([t.name, t.templateId, t.status],
        () => cases('POST', dp + '/templates/' + seg(t.templateId))))) : empty('No templates in this domain.', h('p', {}, 'CreateTemplate adds one.')));
    } else {
      const rules = await listAll(dp + '/rules-list/', 'caseRules');
      body.append(rules.length ? table(['Name', 'Case rule ID', 'Type', ''], rules.map((r) => detailRow([r.name, r.caseRuleId, r.ruleType],
        async () => (await cases('POST', dp + '/rules-batch', {caseRules: [{id: r.caseRuleId}]})).caseRules[0]))) : empty('No case rules in this domain.', h('p', {}, 'CreateCaseRule adds one.')));
    }
    return wrap;
  }

  // detailRow is a table row whose last cell loads the whole resource.
  function detailRow(cells, load) {
    const out = h('td', {});
    out.append(h('button', {type: 'button', onclick: async (e) => {
      e.target.disabled = true;
      try { clear(out).append(h('pre', {}, JSON.stringify(await load(), null, 2))); } catch (err) { clear(out).append(errorBox(err)); }
    }}, 'Details'));
    return h('tr', {}, cells.map((c, i) => h('td', {class: i === 1 ? 'mono wrap' : null}, c || '')), out);
  }

  // --------------------------------------------------------------- cases

  // The filter builder writes the SearchCases filter grammar: a field
  // comparison per row, combined with andAll or orAll, "is not" as not.
  const OPS = [
    ['equalTo', 'equals'], ['notEqualTo', 'does not equal'], ['contains', 'contains'],
    ['greaterThan', '>'], ['greaterThanOrEqualTo', '≥'], ['lessThan', '<'], ['lessThanOrEqualTo', '≤'],
    ['isEmpty', 'is empty'], ['isNotEmpty', 'is not empty'],
  ];
  const searchState = new Map();

  function fieldValue(f, raw) {
    switch (f && f.type) {
      case 'Number': return {doubleValue: Number(raw)};
      case 'Boolean': return {booleanValue: raw === 'true'};
      case 'User': return {userArnValue: raw};
      default: return {stringValue: raw};
    }
  }
  function rowFilter(row, fieldsById) {
    if (row.field === '__tag') {
      const i = row.value.indexOf('=');
      return {tag: {equalTo: {key: i < 0 ? row.value : row.value.slice(0, i), value: i < 0 ? '' : row.value.slice(i + 1)}}};
    }
    const f = fieldsById.get(row.field);
    switch (row.op) {
      case 'isEmpty': return {field: {equalTo: {id: row.field, value: {emptyValue: {}}}}};
      case 'isNotEmpty': return {not: {field: {equalTo: {id: row.field, value: {emptyValue: {}}}}}};
      case 'notEqualTo': return {not: {field: {equalTo: {id: row.field, value: fieldValue(f, row.value)}}}};
      default: return {field: {[row.op]: {id: row.field, value: fieldValue(f, row.value)}}};
    }
  }
  function buildSearch(st, fieldsById) {
    const body = {maxResults: st.pageSize, fields: ['title', 'status', 'created_datetime', 'last_updated_datetime'].map((id) => ({id}))};
    const rows = st.rows.filter((r) => r.field);
    if (rows.length === 1) body.filter = rowFilter(rows[0], fieldsById);
    else if (rows.length > 1) body.filter = {[st.join]: rows.map((r) => rowFilter(r, fieldsById))};
    if (st.term) body.searchTerm = st.term;
    if (st.sortField) body.sorts = [{fieldId: st.sortField, sortOrder: st.sortOrder}];
    if (st.tokens[st.page]) body.nextToken = st.tokens[st.page];
    return body;
  }

  async function casesView(id) {
    const [d, fields] = await Promise.all([getDomain(id), fieldsOf(id)]);
    const fieldsById = new Map(fields.map((f) => [f.fieldId, f]));
    let st = searchState.get(id);
    if (!st) {
      st = {rows: [], join: 'andAll', term: '', sortField: 'created_datetime', sortOrder: 'Desc', pageSize: 25, page: 0, tokens: [undefined]};
      searchState.set(id, st);
    }
    const base = '#/domains/' + seg(id);
    const results = h('section', {'aria-live': 'polite'});
    const preview = h('pre', {id: 'search-request'});
    const rowsBox = h('div', {id: 'filter-rows'});
    const fieldOptions = (sel) => [h('option', {value: ''}, '— field —'), fields.slice().sort((a, b) => a.name.localeCompare(b.name)).map((f) =>
      h('option', {value: f.fieldId, selected: f.fieldId === sel}, f.name + ' (' + f.type + ')')), h('option', {value: '__tag', selected: sel === '__tag'}, 'Tag (key=value)')];

    function renderRows() {
      clear(rowsBox);
      st.rows.forEach((row, i) => {
        const field = h('select', {'aria-label': 'Field ' + (i + 1), onchange: (e) => { row.field = e.target.value; renderRows(); }}, fieldOptions(row.field));
        const op = h('select', {'aria-label': 'Comparison ' + (i + 1), onchange: (e) => { row.op = e.target.value; renderRows(); }},
          (row.field === '__tag' ? OPS.slice(0, 1) : OPS).map(([v, l]) => h('option', {value: v, selected: v === row.op}, l)));
        const f = fieldsById.get(row.field);
        let value;
        if (row.op === 'isEmpty' || row.op === 'isNotEmpty') value = null;
        else if (f && f.type === 'Boolean') value = h('select', {'aria-label': 'Value ' + (i + 1), onchange: (e) => { row.value = e.target.value; update(); }}, ['true', 'false'].map((v) => h('option', {value: v, selected: v === row.value}, v)));
        else value = h('input', {'aria-label': 'Value ' + (i + 1), value: row.value, type: f && f.type === 'Number' ? 'number' : 'text', step: 'any',
          placeholder: f && f.type === 'DateTime' ? '2026-01-31T00:00:00Z' : row.field === '__tag' ? 'key=value' : '', oninput: (e) => { row.value = e.target.value; update(); }});
        rowsBox.append(h('div', {class: 'filter-row'}, field, op, value,
          h('button', {type: 'button', 'aria-label': 'Remove condition ' + (i + 1), onclick: () => { st.rows.splice(i, 1); renderRows(); }}, 'Remove')));
      });
      update();
    }
    function update() { preview.textContent = JSON.stringify(Object.assign({domainId: id}, buildSearch(st, fieldsById)), null, 2); }

    async function run() {
      update();
      clear(results).append(h('p', {class: 'muted'}, 'Searching…'));
      try {
        const r = await cases('POST', '/domains/' + seg(id) + '/cases-search', buildSearch(st, fieldsById));
        st.tokens[st.page + 1] = r.nextToken;
        clear(results);
        const list = r.cases || [];
        if (!list.length) {
          results.append(empty(st.page ? 'No more cases.' : 'No cases match.', h('p', {}, st.rows.length || st.term ? 'Loosen the conditions, or clear them.' : 'This domain has no cases yet: CreateCase adds one.')));
        } else {
          results.append(table(['Title', 'Status', 'Opened', 'Updated', 'Case ID'], list.map((c) => {
            const v = Object.fromEntries((c.fields || []).map((f) => [f.id, f.value]));
            const sv = (k) => (v[k] ? v[k].stringValue : '');
            return h('tr', {}, h('td', {}, h('a', {href: base + '/cases/' + seg(c.caseId)}, sv('title') || '(no title)')),
              h('td', {}, sv('status')), h('td', {}, fmtTime(sv('created_datetime'))), h('td', {}, fmtTime(sv('last_updated_datetime'))),
              h('td', {class: 'mono wrap'}, c.caseId));
          }), {id: 'cases'}));
        }
        results.append(h('div', {class: 'row'},
          h('button', {type: 'button', disabled: st.page === 0, onclick: () => { st.page--; run(); }}, '← Previous'),
          h('span', {class: 'muted'}, 'Page ' + (st.page + 1)),
          h('button', {type: 'button', disabled: !r.nextToken, onclick: () => { st.page++; run(); }}, 'Next →')));
      } catch (err) {
        clear(results).append(errorBox(err));
      }
    }
    const newSearch = () => { st.page = 0; st.tokens = [undefined]; run(); };
    const term = h('input', {type: 'search', id: 'search-term', value: st.term, placeholder: 'Words in any text field', oninput: (e) => { st.term = e.target.value; update(); }});
    const form = h('form', {class: 'panel', role: 'search', onsubmit: (e) => { e.preventDefault(); newSearch(); }},
      h('div', {class: 'row'},
        h('label', {}, 'Search term (press / to focus)', term),
        h('label', {}, 'Match', h('select', {onchange: (e) => { st.join = e.target.value; update(); }},
          h('option', {value: 'andAll', selected: st.join === 'andAll'}, 'all conditions (andAll)'),
          h('option', {value: 'orAll', selected: st.join === 'orAll'}, 'any condition (orAll)'))),
        h('label', {}, 'Sort by', h('select', {onchange: (e) => { st.sortField = e.target.value; update(); }},
          h('option', {value: ''}, '(relevance)'), fields.filter((f) => f.type !== 'Boolean').map((f) => h('option', {value: f.fieldId, selected: f.fieldId === st.sortField}, f.name)))),
        h('label', {}, 'Order', h('select', {onchange: (e) => { st.sortOrder = e.target.value; update(); }},
          ['Desc', 'Asc'].map((o) => h('option', {value: o, selected: o === st.sortOrder}, o === 'Desc' ? 'newest/largest first' : 'oldest/smallest first')))),
        h('label', {}, 'Per page', h('select', {onchange: (e) => { st.pageSize = Number(e.target.value); update(); }},
          [10, 25, 50, 100].map((n) => h('option', {value: n, selected: n === st.pageSize}, n))))),
      h('h3', {}, 'Conditions'), rowsBox,
      h('div', {class: 'row'},
        h('button', {type: 'button', onclick: () => { st.rows.push({field: '', op: 'equalTo', value: ''}); renderRows(); rowsBox.querySelector('.filter-row:last-child select').focus(); }}, '+ Add condition'),
        h('button', {type: 'button', onclick: () => { st.rows = []; st.term = ''; term.value = ''; renderRows(); newSearch(); }}, 'Clear'),
        h('button', {type: 'submit', class: 'primary', id: 'search-run'}, 'Search')),
      h('details', {}, h('summary', {}, 'SearchCases request'), preview));
    // "/" focuses the search term, as on many sites. The key is swallowed
    // on keydown and focus moves on keyup, so the "/" itself is never
    // typed into the box.
    const typing = () => /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    let slash = false;
    const down = (e) => { if (e.key === '/' && !typing()) { e.preventDefault(); slash = true; } };
    const up = (e) => { if (e.key === '/' && slash) { slash = false; term.focus(); } };
    document.addEventListener('keydown', down);
    document.addEventListener('keyup', up);
    onLeave(() => { document.removeEventListener('keydown', down); document.removeEventListener('keyup', up); });
    renderRows();
    run();
    return h('div', {}, crumbs(h('a', {href: '#/domains'}, 'Domains'), h('a', {href: base}, d.name)), h('h1', {}, 'Cases in ' + d.name), form, results);
  }

  function showValue(v) {
    if (!v) return '';
    if ('stringValue' in v) return v.stringValue;
    if ('doubleValue' in v) return String(v.doubleValue);
    if ('booleanValue' in v) return String(v.booleanValue);
    if ('userArnValue' in v) return v.userArnValue;
    if ('emptyValue' in v) return '(empty)';
    return JSON.stringify(v);
  }

  // relatedContent shows a comment as its text and anything else as the
  // JSON the API returned.
  function relatedContent(c) {
    if (c && c.comment) return h('div', {class: 'wrap'}, c.comment.body);
    return h('pre', {}, JSON.stringify(c, null, 2));
  }

  async function caseView(id, caseId) {
    const dp = '/domains/' + seg(id);
    const [d, fields] = await Promise.all([getDomain(id), fieldsOf(id)]);
    const names = new Map(fields.map((f) => [f.fieldId, f.name]));
    // GetCase takes up to 100 field IDs a call.
    const values = [];
    let c;
    for (let i = 0; i < fields.length; i += 100) {
      c = await cases('POST', dp + '/cases/' + seg(caseId), {fields: fields.slice(i, i + 100).map((f) => ({id: f.fieldId}))});
      values.push(...(c.fields || []));
    }
    const byId = Object.fromEntries(values.map((f) => [f.id, f.value]));
    const title = byId.title ? byId.title.stringValue : caseId;
    const wrap = h('div', {},
      crumbs(h('a', {href: '#/domains'}, 'Domains'), h('a', {href: '#/domains/' + seg(id)}, d.name), h('a', {href: '#/domains/' + seg(id) + '/cases'}, 'Cases')),
      h('h1', {id: 'case-title'}, title));
    const grid = h('div', {class: 'grid2'});
    wrap.append(grid);
    grid.append(h('section', {class: 'panel'}, h('h2', {}, 'Fields'),
      h('dl', {class: 'kv', id: 'case-fields'},
        h('dt', {}, 'Case ID'), h('dd', {class: 'mono'}, caseId),
        h('dt', {}, 'Template'), h('dd', {class: 'mono'}, c && c.templateId || ''),
        values.filter((f) => f.id !== 'case_id' && f.value && !('emptyValue' in f.value)).map((f) => [h('dt', {}, names.get(f.id) || f.id), h('dd', {}, showValue(f.value))]),
        c && c.tags && Object.keys(c.tags).length ? [h('dt', {}, 'Tags'), h('dd', {}, Object.entries(c.tags).map(([k, v]) => k + '=' + v).join(', '))] : null)));
    const audit = h('section', {class: 'panel', id: 'case-audit'}, h('h2', {}, 'Audit history'));
    const related = h('section', {class: 'panel', id: 'case-related'}, h('h2', {}, 'Related items'));
    grid.append(audit);
    wrap.append(related);
    try {
      const a = await cases('POST', dp + '/cases/' + seg(caseId) + '/audit-history', {maxResults: 25});
      const evs = a.auditEvents || [];
      audit.append(evs.length ? h('ol', {}, evs.map((ev) => h('li', {},
        h('strong', {}, ev.type + (ev.relatedItemType ? ' ' + ev.relatedItemType : '')), ' ', h('span', {class: 'muted'}, fmtTime(ev.performedTime)),
        ev.performedBy ? h('div', {class: 'muted wrap'}, 'by ', ev.performedBy.iamPrincipalArn || (ev.performedBy.user && (ev.performedBy.user.userArn || ev.performedBy.user.customEntity)) || '') : null,
        (ev.fields || []).length ? h('ul', {}, ev.fields.map((f) => h('li', {}, names.get(f.eventFieldId) || f.eventFieldId, ': ',
          f.oldValue ? showValue(f.oldValue) + ' → ' : '', showValue(f.newValue)))) : null))) : empty('No audit events.'));
      if (a.nextToken) audit.append(h('p', {class: 'muted'}, 'The 25 most recent events.'));
    } catch (err) { audit.append(errorBox(err)); }
    try {
      const r = await cases('POST', dp + '/cases/' + seg(caseId) + '/related-items-search', {maxResults: 25});
      const items = r.relatedItems || [];
      related.append(items.length ? table(['Type', 'Related item ID', 'Associated', 'Content'], items.map((it) => h('tr', {},
        h('td', {}, it.type), h('td', {class: 'mono wrap'}, it.relatedItemId), h('td', {}, fmtTime(it.associationTime)),
        h('td', {}, relatedContent(it.content))))) : empty('No related items.', h('p', {}, 'CreateRelatedItem links comments, contacts, files and SLAs.')));
    } catch (err) { related.append(errorBox(err)); }
    return wrap;
  }

  // ------------------------------------------------------- live, health

  // One EventSource for the whole page: /_localcases/live sends a sample
  // of requests and failures every half second and the health state when
  // it changes. Views subscribe while they are shown.
  const samples = [];
  const MAX_SAMPLES = 120;
  let lastState = null;
  const listeners = new Set();
  let source = null;
  // A browser opens at most six connections to one server over HTTP/1.1,
  // and each stream holds one: a hidden tab closes its streams, so a few
  // open tabs cannot starve the visible one. Every (re)connection starts
  // with the last minute of samples, so the chart is refilled, not doubled.
  function connectLive() {
    if (source) return;
    source = new EventSource('/_localcases/live');
    source.addEventListener('open', () => { samples.length = 0; });
    source.addEventListener('sample', (e) => {
      samples.push(JSON.parse(e.data));
      if (samples.length > MAX_SAMPLES) samples.shift();
      for (const l of listeners) l('sample');
    });
    source.addEventListener('state', (e) => {
      lastState = JSON.parse(e.data);
      const s = lastState.health.status;
      statusPill.textContent = 'Service ' + s;
      statusPill.className = 'pill ' + s;
      for (const l of listeners) l('state');
    });
    source.addEventListener('error', () => {
      statusPill.textContent = 'reconnecting…';
      statusPill.className = 'pill warn';
    });
  }
  function subscribe(fn) { listeners.add(fn); onLeave(() => listeners.delete(fn)); }
  const hiddenHooks = new Set();
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      if (source) { source.close(); source = null; }
    } else if (session.authenticated) {
      connectLive();
    }
    for (const fn of hiddenHooks) fn(document.hidden);
  });

  // chart draws requests and failures per second over the last minute,
  // of every operation or of the one picked.
  let chartOp = '';
  function chart() {
    const canvas = h('canvas', {class: 'chart', id: 'live-chart', role: 'img', 'aria-label': 'Requests and failures per second, last 60 seconds'});
    const now = h('p', {class: 'legend', id: 'live-now'});
    const pick = h('select', {id: 'chart-operation', 'aria-label': 'Operation the chart shows', onchange: (e) => { chartOp = e.target.value; draw(); }},
      h('option', {value: ''}, 'every operation'), OPERATIONS.map((o) => h('option', {value: o, selected: o === chartOp}, o)));
    const of = (s) => {
      if (!chartOp) return s;
      const c = (s.operations || {})[chartOp] || {requests: 0, failed: 0};
      return {seconds: s.seconds, requests: c.requests, failed: c.failed};
    };
    const draw = () => {
      const rect = canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(200, rect.width), hgt = rect.height || 220;
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
      const g = canvas.getContext('2d');
      g.scale(dpr, dpr);
      g.clearRect(0, 0, w, hgt);
      const rate = (s, k) => (s.seconds > 0 ? s[k] / s.seconds : 0);
      const shown = samples.map(of);
      const req = shown.map((s) => rate(s, 'requests'));
      const fail = shown.map((s) => rate(s, 'failed'));
      let top = Math.max(1, ...req, ...fail);
      const mag = Math.pow(10, Math.floor(Math.log10(top)));
      top = Math.ceil(top / mag) * mag;
      const L = 44, R = 10, T = 10, B = 22;
      const x = (i) => L + (w - L - R) * (i / (MAX_SAMPLES - 1));
      const y = (v) => T + (hgt - T - B) * (1 - v / top);
      g.font = '11px system-ui, sans-serif';
      g.fillStyle = '#5c6570';
      g.strokeStyle = '#e4e7ea';
      g.lineWidth = 1;
      for (let i = 0; i <= 4; i++) {
        const v = (top * i) / 4;
        g.beginPath(); g.moveTo(L, y(v)); g.lineTo(w - R, y(v)); g.stroke();
        g.fillText(v >= 10 ? v.toFixed(0) : v.toFixed(1), 4, y(v) + 4);
      }
      g.fillText('60 s ago', L, hgt - 6);
      g.fillText('now', w - R - 22, hgt - 6);
      const off = MAX_SAMPLES - samples.length;
      const line = (vals, color, fill) => {
        if (!vals.length) return;
        g.beginPath();
        vals.forEach((v, i) => (i ? g.lineTo(x(i + off), y(v)) : g.moveTo(x(i + off), y(v))));
        g.strokeStyle = color; g.lineWidth = 2; g.stroke();
        g.lineTo(x(vals.length - 1 + off), y(0)); g.lineTo(x(off), y(0)); g.closePath();
        g.fillStyle = fill; g.fill();
      };
      line(req, '#1f5fbf', 'rgba(31,95,191,.10)');
      line(fail, '#b3261e', 'rgba(179,38,30,.18)');
      // The last few samples, summed, for people and for tests alike.
      const recent = shown.slice(-4);
      const secs = recent.reduce((a, s) => a + s.seconds, 0) || 1;
      const r = recent.reduce((a, s) => a + s.requests, 0) / secs;
      const f = recent.reduce((a, s) => a + s.failed, 0) / secs;
      canvas.dataset.requests = shown.reduce((a, s) => a + s.requests, 0);
      canvas.dataset.failed = shown.reduce((a, s) => a + s.failed, 0);
      clear(now).append(h('span', {}, h('span', {class: 'sw req'}), 'requests/s ', h('strong', {}, r.toFixed(1))),
        h('span', {}, h('span', {class: 'sw fail'}), 'failed/s (5xx, throttled, dropped) ', h('strong', {}, f.toFixed(1))),
        h('span', {}, 'last minute: ' + canvas.dataset.requests + ' requests, ' + canvas.dataset.failed + ' failed'));
    };
    subscribe((what) => { if (what === 'sample') draw(); });
    const ro = new ResizeObserver(draw);
    ro.observe(canvas);
    onLeave(() => ro.disconnect());
    return h('div', {class: 'chart-wrap'}, h('label', {class: 'chart-pick'}, 'Operation', pick), canvas, now);
  }

  function scenarioPanel(sc) {
    if (!sc) return h('p', {class: 'muted', id: 'scenario'}, 'No scenario is running.');
    return h('div', {id: 'scenario'},
      h('p', {}, h('strong', {}, sc.name), sc.description ? ' — ' + sc.description : '', ' ', pill(sc.active ? 'running' : 'ended', sc.active ? 'warn' : '')),
      h('dl', {class: 'kv'},
        h('dt', {}, 'Phase'), h('dd', {}, (sc.phase || '') + (sc.cycle ? ' (cycle ' + (sc.cycle + 1) + ')' : '')),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(sc.startedAt)),
        h('dt', {}, 'Ends'), h('dd', {}, sc.endsAt ? fmtTime(sc.endsAt) : 'when stopped')),
      (sc.events || []).length ? h('div', {}, h('h3', {}, 'Scenario events, newest first'),
        h('ol', {class: 'scenario-events'}, sc.events.slice(-10).reverse().map((ev) => h('li', {}, fmtTime(ev.time), ' ', h('strong', {}, ev.kind), ev.phase ? ' ' + ev.phase : '',
          ev.description ? h('span', {class: 'muted'}, ' — ' + ev.description) : null)))) : null);
  }

  async function healthView() {
    const health = await admin('GET', 'health');
    const opsBox = h('section', {});
    const scBox = h('section', {class: 'panel'}, h('h2', {}, 'Scenario'));
    const overall = h('p', {});
    const onlyBusy = h('input', {type: 'checkbox', checked: true, onchange: () => renderOps(lastState ? lastState.health : health)});
    function renderOps(hr) {
      clear(overall).append('Overall: ', pill(hr.status), ' ', h('span', {class: 'muted'}, 'store ' + (health.store || '') + ', region ' + health.region + ', version ' + health.version));
      let ops = hr.operations || [];
      if (onlyBusy.checked) ops = ops.filter((o) => o.requests > 0 || o.status !== 'operational');
      const rank = {outage: 0, degraded: 1, operational: 2};
      ops = ops.slice().sort((a, b) => rank[a.status] - rank[b.status] || b.requests - a.requests || a.operation.localeCompare(b.operation));
      clear(opsBox).append(ops.length ? table(['Operation', 'Status', 'Requests', 'Failures', 'Error rate', 'Why'], ops.map((o) => h('tr', {},
        h('td', {}, o.operation), h('td', {}, pill(o.status)), h('td', {class: 'num'}, o.requests), h('td', {class: 'num'}, o.failures),
        h('td', {class: 'num'}, (o.errorRate * 100).toFixed(0) + '%'), h('td', {class: 'wrap'}, (o.reasons || []).join('; ')))), {id: 'operations'})
        : empty('No traffic in the health window, and every operation is operational.', h('p', {}, 'Untick the box to list all 43 operations.')));
      clear(scBox).append(h('h2', {}, 'Scenario'), scenarioPanel(hr.scenario));
    }
    subscribe((what) => { if (what === 'state') renderOps(lastState.health); });
    renderOps(lastState ? lastState.health : health);
    const events = h('section', {class: 'panel'}, h('h2', {}, 'AWS Health events'));
    try {
      const evs = await admin('GET', 'health/events');
      events.append(evs && evs.length ? table(['Event', 'Status', 'Start', 'End'], evs.map((ev) => h('tr', {},
        h('td', {}, ev.eventTypeCode || ev.arn, ev.description ? h('div', {class: 'muted'}, ev.description) : null), h('td', {}, ev.statusCode || ''),
        h('td', {}, fmtTime(ev.startTime)), h('td', {}, fmtTime(ev.endTime))))) : empty('No AWS Health events.', h('p', {}, 'A scenario, or a rule marked announced, opens one.')));
    } catch (err) { events.append(errorBox(err)); }
    return h('div', {}, h('h1', {}, 'Health'), overall, h('section', {class: 'panel'}, h('h2', {}, 'Requests and failures per second'), chart()),
      h('div', {class: 'grid2'}, scBox, events), h('h2', {}, 'Operations'), h('label', {class: 'row'}, h('span', {}, onlyBusy, ' Only operations with traffic or a problem')), opsBox);
  }

  // ---------------------------------------------------------------- faults

  // The error codes of the Connect Cases model, which a rule may inject.
  const ERROR_CODES = ['InternalServerException', 'ThrottlingException', 'ServiceQuotaExceededException', 'AccessDeniedException',
    'ValidationException', 'ResourceNotFoundException', 'ConflictException'];
  const OPERATIONS = ['BatchGetCaseRule', 'BatchGetField', 'BatchPutFieldOptions', 'CreateCase', 'CreateCaseRule', 'CreateDomain', 'CreateField',
    'CreateLayout', 'CreateRelatedItem', 'CreateTemplate', 'DeleteCase', 'DeleteCaseRule', 'DeleteDomain', 'DeleteField', 'DeleteLayout',
    'DeleteRelatedItem', 'DeleteTemplate', 'GetCase', 'GetCaseAuditEvents', 'GetCaseEventConfiguration', 'GetDomain', 'GetLayout', 'GetTemplate',
    'ListCaseRules', 'ListCasesForContact', 'ListDomains', 'ListFieldOptions', 'ListFields', 'ListLayouts', 'ListTagsForResource', 'ListTemplates',
    'PutCaseEventConfiguration', 'SearchAllRelatedItems', 'SearchCases', 'SearchRelatedItems', 'TagResource', 'UntagResource', 'UpdateCase',
    'UpdateCaseRule', 'UpdateField', 'UpdateLayout', 'UpdateRelatedItem', 'UpdateTemplate'];

  function ruleSummary(r) {
    const parts = [];
    if (r.action && r.action !== 'error') parts.push(r.action);
    if (r.error) parts.push(r.error.code || 'HTTP ' + r.error.statusCode);
    if (r.httpStatus) parts.push('HTTP ' + r.httpStatus);
    if (r.latency) parts.push('latency ' + (typeof r.latency === 'string' ? r.latency : r.latency.min + '–' + r.latency.max));
    if (r.error && r.error.retryAfterSeconds !== undefined) parts.push('Retry-After ' + r.error.retryAfterSeconds + ' s');
    if (r.probability !== undefined) parts.push(Math.round(r.probability * 100) + '% of calls');
    if (r.count !== undefined) parts.push('at most ' + r.count);
    if (r.attempts) parts.push('attempts ' + JSON.stringify(r.attempts));
    if (r.domain) parts.push('domain ' + r.domain);
    return parts.join(', ');
  }

  async function faultsView() {
    const [throttle, presets] = await Promise.all([admin('GET', 'throttle'), admin('GET', 'scenarios')]);
    let rules = await admin('GET', 'faults/status');
    const rulesBox = h('section', {});
    const scBox = h('div', {});
    function renderRules() {
      clear(rulesBox).append(rules.length ? table(['Rule', 'Operation', 'Fault', 'Fired', 'State', ''], rules.map((s) => h('tr', {},
        h('td', {class: 'mono'}, s.rule.id, s.rule.description ? h('div', {class: 'muted'}, s.rule.description) : null),
        h('td', {}, [].concat(s.rule.operation || 'any').join(', ')),
        h('td', {}, ruleSummary(s.rule)),
        h('td', {class: 'num'}, s.fired),
        h('td', {}, s.spent ? pill('spent', '') : s.active ? pill('active', 'bad') : pill('waiting', 'warn')),
        h('td', {}, h('button', {type: 'button', class: 'danger', 'aria-label': 'Remove rule ' + s.rule.id, onclick: async () => {
          try { await admin('DELETE', 'faults', {id: s.rule.id}); toast('Removed ' + s.rule.id + '.'); await refresh(); } catch (err) { toast(describe(err), true); }
        }}, 'Remove')))), {id: 'rules'})
        : empty('No fault rules: every call is answered normally.', h('p', {}, 'Add one below, or per call with the header ', h('code', {}, 'x-localcases-fault'), '.')));
    }
    async function refresh() { rules = await admin('GET', 'faults/status'); renderRules(); }
    subscribe((what) => {
      if (what !== 'state') return;
      rules = lastState.rules;
      renderRules();
      clear(scBox).append(scenarioPanel(lastState.health.scenario));
      throttleBox.checked = lastState.throttling;
    });

    const op = h('select', {name: 'operation', id: 'fault-operation'}, h('option', {value: ''}, 'every operation'), OPERATIONS.map((o) => h('option', {value: o}, o)));
    const kind = h('select', {name: 'fault', id: 'fault-kind'},
      h('optgroup', {label: 'Service error'}, ERROR_CODES.map((c) => h('option', {value: 'error:' + c}, c))),
      h('optgroup', {label: 'Load balancer page'}, [502, 503, 504].map((s) => h('option', {value: 'http:' + s}, 'HTTP ' + s))),
      h('optgroup', {label: 'Network'}, h('option', {value: 'drop'}, 'drop the connection'), h('option', {value: 'latency'}, 'latency only')));
    const prob = h('input', {type: 'number', name: 'probability', id: 'fault-probability', min: 0, max: 100, step: 1, value: 100});
    const count = h('input', {type: 'number', name: 'count', id: 'fault-count', min: 1, step: 1, placeholder: 'no limit'});
    const retry = h('input', {type: 'number', name: 'retryAfter', id: 'fault-retry-after', min: 0, step: 1, placeholder: 'default'});
    const latency = h('input', {type: 'text', name: 'latency', id: 'fault-latency', placeholder: 'e.g. 500ms'});
    const addForm = h('form', {class: 'panel', id: 'fault-form', onsubmit: async (e) => {
      e.preventDefault();
      const rule = {};
      if (op.value) rule.operation = op.value;
      const [k, v] = kind.value.split(':');
      if (k === 'error') { rule.error = {code: v}; if (retry.value !== '') rule.error.retryAfterSeconds = Number(retry.value); }
      if (k === 'http') { rule.action = 'http'; rule.httpStatus = Number(v); }
      if (k === 'drop') rule.action = 'drop';
      if (k === 'latency') rule.action = 'latency';
      if (latency.value.trim()) rule.latency = latency.value.trim();
      if (prob.value !== '' && Number(prob.value) !== 100) rule.probability = Number(prob.value) / 100;
      if (count.value !== '') rule.count = Number(count.value);
      try {
        await admin('PATCH', 'faults', [rule]);
        toast('Rule added: ' + (rule.operation || 'every operation') + ', ' + ruleSummary(rule) + '.');
        await refresh();
      } catch (err) { toast(describe(err), true); }
    }}, h('h2', {}, 'Add a rule'),
    h('div', {class: 'row'},
      h('label', {}, 'Operation', op), h('label', {}, 'Fault', kind), h('label', {}, 'Calls affected (%)', prob),
      h('label', {}, 'At most (count)', count), h('label', {}, 'Retry-After (s)', retry), h('label', {}, 'Added latency', latency),
      h('button', {type: 'submit', class: 'primary'}, 'Add rule')));

    const throttleBox = h('input', {type: 'checkbox', id: 'throttling', checked: throttle.enabled, onchange: async (e) => {
      try {
        const r = await admin('PUT', 'throttle', {enabled: e.target.checked});
        toast('Throttling ' + (r.enabled ? 'on: the documented Connect Cases quotas apply.' : 'off.'));
      } catch (err) { e.target.checked = !e.target.checked; toast(describe(err), true); }
    }});
    const preset = h('select', {id: 'scenario-preset'}, (presets.presets || []).map((p) => h('option', {value: p}, p)));
    const duration = h('input', {id: 'scenario-duration', value: '60s', size: 6});
    const scForm = h('form', {class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      try { await admin('POST', 'scenario', {preset: preset.value, duration: duration.value}); toast('Scenario ' + preset.value + ' started.'); } catch (err) { toast(describe(err), true); }
    }}, h('label', {}, 'Preset', preset), h('label', {}, 'Duration', duration), h('button', {type: 'submit'}, 'Start scenario'),
    h('button', {type: 'button', onclick: async () => { try { await admin('DELETE', 'scenario'); toast('Scenario stopped.'); } catch (err) { toast(describe(err), true); } }}, 'Stop scenario'));

    renderRules();
    const initial = await admin('GET', 'scenario');
    scBox.append(scenarioPanel(initial.scenario));
    return h('div', {}, h('h1', {}, 'Faults'),
      h('section', {class: 'panel'}, h('h2', {}, 'Requests and failures per second'), chart()),
      h('div', {class: 'row'}, h('h2', {}, 'Rules'), h('button', {type: 'button', class: 'danger', id: 'clear-rules', onclick: async () => {
        try { await admin('DELETE', 'faults'); toast('All rules cleared.'); await refresh(); } catch (err) { toast(describe(err), true); }
      }}, 'Clear all rules')),
      rulesBox, addForm,
      h('div', {class: 'grid2'},
        h('section', {class: 'panel'}, h('h2', {}, 'Scenario'), scBox, scForm),
        h('section', {class: 'panel'}, h('h2', {}, 'Throttling'),
          h('label', {class: 'row'}, h('span', {}, throttleBox, ' Token buckets with the documented Connect Cases quotas')),
          h('p', {class: 'muted'}, 'Over a quota, calls get ThrottlingException as on AWS.'))));
  }

  // -------------------------------------------------------------- requests

  async function requestsView() {
    const body = h('section', {});
    const onlyFailed = h('input', {type: 'checkbox', onchange: () => load()});
    const opFilter = h('input', {type: 'search', placeholder: 'operation', 'aria-label': 'Filter by operation', oninput: () => load()});
    const live = h('input', {type: 'checkbox', checked: true});
    const count = h('span', {class: 'muted'});
    let busy = false;
    async function load() {
      if (busy) return;
      busy = true;
      try {
        const r = await admin('GET', 'requests', undefined, {limit: 500});
        let recs = (r.requests || []).slice().reverse();
        if (onlyFailed.checked) recs = recs.filter((x) => x.status >= 500 || x.status === 429 || x.injected || x.dropped);
        const q = opFilter.value.trim().toLowerCase();
        if (q) recs = recs.filter((x) => x.operation.toLowerCase().includes(q));
        count.textContent = r.total + ' requests since start; showing ' + Math.min(recs.length, 200);
        recs = recs.slice(0, 200);
        clear(body).append(recs.length ? table(['Time', 'Operation', 'Status', 'Error', 'Fault applied', 'Retry-After', 'Latency', 'Attempt', 'Request ID'], recs.map((x) => h('tr', {},
          h('td', {}, new Date(x.time).toLocaleTimeString()), h('td', {}, x.operation),
          h('td', {}, pill(x.dropped ? 'dropped' : String(x.status), x.dropped || x.status >= 500 ? 'bad' : x.status === 429 ? 'warn' : x.status >= 400 ? 'warn' : 'ok')),
          h('td', {}, x.errorCode || ''), h('td', {}, x.injected ? (x.ruleId || 'header') : ''),
          h('td', {class: 'num'}, x.retryAfter ? x.retryAfter / 1e9 + ' s' : ''), h('td', {class: 'num'}, (x.latency / 1e6).toFixed(1) + ' ms'),
          h('td', {class: 'num'}, x.attempt || ''), h('td', {class: 'mono wrap'}, x.requestId || ''))), {id: 'requests'})
          : empty(onlyFailed.checked || q ? 'No request matches.' : 'No requests yet.', h('p', {}, 'Calls to the Cases API appear here as they are answered.')));
      } catch (err) {
        clear(body).append(errorBox(err));
      } finally { busy = false; }
    }
    const timer = setInterval(() => { if (live.checked) load(); }, 1000);
    onLeave(() => clearInterval(timer));
    await load();
    return h('div', {}, h('h1', {}, 'Requests'),
      h('div', {class: 'row panel'}, h('label', {}, 'Operation', opFilter),
        h('label', {class: 'row'}, h('span', {}, onlyFailed, ' Only failures and injected faults')),
        h('label', {class: 'row'}, h('span', {}, live, ' Update every second')), count),
      body);
  }

  // ---------------------------------------------------------------- events

  // Case events as the server publishes them (EventBridge envelopes), from
  // the Server-Sent Events stream GET /_localcases/events. A domain
  // publishes only once its event configuration is enabled; the page says
  // so and offers to enable it.
  async function eventsView() {
    const domains = await listAll('/domains-list', 'domains', 10);
    const names = new Map(domains.map((d) => [d.domainId, d.name]));
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    let domainId = params.get('domain') || '';
    const list = h('section', {'aria-live': 'polite'});
    const config = h('div', {});
    const state = h('span', {class: 'muted', id: 'events-state'}, 'connecting…');
    const received = [];
    const MAX = 200;
    let es = null;
    function render() {
      clear(list);
      if (!received.length) {
        list.append(empty('No case events yet.', h('p', {}, 'Events appear here as cases and related items change in a domain whose event configuration is enabled.')));
        return;
      }
      list.append(table(['Time', 'Event', 'Domain', 'Case', 'Changed fields', 'By', ''], received.map((ev) => {
        const d = ev.detail || {};
        const c = d.case || {};
        const dom = (ev.resources || [])[0] || '';
        const did = dom.split('/')[1] || '';
        const title = c.fields && c.fields.title ? c.fields.title.value.stringValue : '';
        return h('tr', {},
          h('td', {}, fmtTime(d.approximateChangeTime || ev.time)),
          h('td', {}, pill(d.eventType || ev['detail-type'], /DELETED/.test(d.eventType) ? 'warn' : 'ok')),
          h('td', {}, names.get(did) || did),
          h('td', {}, c.caseId ? h('a', {href: '#/domains/' + seg(did) + '/cases/' + seg(c.caseId)}, title || c.caseId) : (d.relatedItem ? d.relatedItem.relatedItemType + ' ' + d.relatedItem.relatedItemId : '')),
          h('td', {class: 'wrap'}, (d.changedFieldIds || []).join(', ')),
          h('td', {class: 'wrap muted'}, d.performedBy ? d.performedBy.iamPrincipalArn || '' : ''),
          h('td', {}, h('details', {}, h('summary', {}, 'Envelope'), h('pre', {}, JSON.stringify(ev, null, 2)))));
      }), {id: 'events'}));
    }
    async function showConfig() {
      clear(config);
      const ids = domainId ? [domainId] : domains.map((d) => d.domainId);
      const off = [];
      for (const id of ids.slice(0, 20)) {
        try {
          const r = await cases('POST', '/domains/' + seg(id) + '/case-event-configuration');
          if (!(r.eventBridge && r.eventBridge.enabled)) off.push(id);
        } catch (err) { config.append(errorBox(err)); return; }
      }
      if (!off.length) return;
      config.append(h('div', {class: 'notice'},
        h('p', {}, off.length === 1 ? 'Domain ' + (names.get(off[0]) || off[0]) + ' publishes no events: its event configuration is not enabled.'
          : off.length + ' domains publish no events: their event configuration is not enabled.'),
        off.map((id) => h('button', {type: 'button', onclick: async (e) => {
          e.target.disabled = true;
          try {
            await cases('PUT', '/domains/' + seg(id) + '/case-event-configuration', {eventBridge: {enabled: true,
              includedData: {caseData: {fields: [{id: 'title'}, {id: 'status'}]}, relatedItemData: {includeContent: true}}}});
            toast('Events enabled for ' + (names.get(id) || id) + ': case and related-item changes now publish, with title and status.');
            showConfig();
          } catch (err) { e.target.disabled = false; toast(describe(err), true); }
        }}, 'Enable events for ' + (names.get(id) || id)))));
    }
    function connect() {
      if (es) es.close();
      received.length = 0;
      render();
      es = new EventSource('/_localcases/events' + (domainId ? '?domainId=' + seg(domainId) : ''));
      es.onopen = () => { state.textContent = 'live: new events appear as they are published'; };
      es.onmessage = (e) => {
        try { received.unshift(JSON.parse(e.data)); } catch (err) { return; }
        if (received.length > MAX) received.pop();
        render();
      };
      es.addEventListener('error', (e) => {
        state.textContent = e.data ? 'the server reported: ' + e.data : 'reconnecting…';
      });
    }
    const onHidden = (hidden) => {
      if (hidden) { if (es) { es.close(); es = null; } state.textContent = 'paused while the tab is hidden'; } else connect();
    };
    hiddenHooks.add(onHidden);
    onLeave(() => { hiddenHooks.delete(onHidden); if (es) es.close(); });
    const pick = h('select', {id: 'events-domain', onchange: (e) => {
      domainId = e.target.value;
      history.replaceState(null, '', '#/events' + (domainId ? '?domain=' + seg(domainId) : ''));
      connect();
      showConfig();
    }}, h('option', {value: ''}, 'every domain'), domains.map((d) => h('option', {value: d.domainId, selected: d.domainId === domainId}, d.name)));
    connect();
    showConfig();
    return h('div', {}, h('h1', {}, 'Case events'),
      h('div', {class: 'row panel'}, h('label', {}, 'Domain', pick), state),
      config, list,
      h('p', {class: 'muted'}, 'The most recent ' + MAX + ' events the server still holds, newest first. The same stream: ',
        h('code', {}, 'curl -N -H "Accept: text/event-stream" ' + location.origin + '/_localcases/events'), '.'));
  }

  // ----------------------------------------------------------------- start

  const logoutButton = document.getElementById('logout');
  logoutButton.addEventListener('click', async () => {
    try { await call('POST', '/_localcases/ui/logout'); } catch (err) { toast(describe(err), true); return; }
    sessionStorage.removeItem('localcases.credentials');
    if (source) { source.close(); source = null; }
    await start();
  });

  async function start() {
    session = await call('GET', '/_localcases/ui/session');
    logoutButton.hidden = !(session.tokenRequired && session.authenticated);
    if (session.tokenRequired && !session.authenticated) {
      statusPill.textContent = 'log in';
      statusPill.className = 'pill warn';
      route();
      return;
    }
    try {
      const hp = await admin('GET', 'health');
      server = {region: hp.region, account: hp.account, version: hp.version};
    } catch (err) { toast(describe(err), true); }
    connectLive();
    route();
  }
  window.addEventListener('hashchange', () => { route(); main.focus({preventScroll: true}); });
  start().catch((err) => { clear(main).append(h('h1', {}, 'The console cannot reach the server'), errorBox(err)); });
})();
