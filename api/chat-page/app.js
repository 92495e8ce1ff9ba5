// The chat page: sign in with a tenant key, ask, watch each turn stream (its answer, data, chart, sources, steps,
// cache outcome, model and cost) and open it in the Temporal Web UI. Everything the API sends is put on the
// page as text (textContent), never as markup.
import { apiError, ApiRequestError, streamTurn } from './turn-stream.js';

const KEY_STORE = 'turnflow.apiKey';
const SESSION_STORE = 'turnflow.sessionId';
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

const SUGGESTIONS = [
  { kind: 'Greeting', question: 'Hello! What can you do?' },
  { kind: 'Analytics', question: 'chart our monthly revenue for 2025' },
  { kind: 'Policy', question: 'What is your return policy?' },
];

const STATUS_LABELS = { streaming: 'Streaming', reconnecting: 'Reconnecting…', done: 'Done', error: 'Error' };

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Builds an element: `h('div', { class: 'x', onclick: fn }, child, 'text')`. Strings become text nodes. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

// Icons drawn after Feather (MIT): thumbs up, thumbs down, external link.
const ICONS = {
  up: ['M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3'],
  down: ['M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17'],
  external: ['M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6', 'M15 3h6v6', 'M10 14 21 3'],
};
function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

const integer = new Intl.NumberFormat('en-US');
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const ms = (n) => (typeof n === 'number' ? `${integer.format(Math.round(n))} ms` : '–');
const usd = (n) => (typeof n === 'number' ? `$${n.toFixed(n > 0 && n < 0.01 ? 6 : 4)}` : '–');
const cell = (v) => (v === null || v === undefined ? '' : typeof v === 'number' ? decimal.format(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return 'web-' + Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 10);
}

/** What the server tells the page (`/chat/config.json`): where the Temporal Web UI is, if anywhere. */
let pageConfig = { temporalUi: null };

/** The signed-in tenant key (kept in sessionStorage: this tab only, gone when it closes). */
let apiKey = sessionStorage.getItem(KEY_STORE);

/** @type {Turn[]} */
const turns = [];
/** @type {Turn | null} */
let selected = null;
/** The turn being streamed (one at a time: a session's turns build on each other's history). */
let running = null;

/** GET with the key; resolves with the parsed JSON, rejects with an ApiRequestError. */
async function apiGet(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw await apiError(response);
  return response.json();
}

function describeError(err) {
  if (err instanceof ApiRequestError) {
    const wait = err.retryAfterSeconds ? ` (try again in ${err.retryAfterSeconds} s)` : '';
    return `${err.message}${wait}`;
  }
  if (err instanceof TypeError) return `Could not reach the API: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** One question and its turn: the model of one exchange and the elements that show it. */
class Turn {
  constructor(question) {
    this.question = question;
    this.turnId = null;
    this.workflowId = null;
    this.status = 'streaming';
    /** @type {Map<string, { status: string, ms?: number, reason?: string }>} */
    this.steps = new Map();
    this.sql = null;
    this.chart = null;
    this.done = null;
    this.error = null;
    this.tab = null;
    this.tabPicked = false;
    this.feedback = null;

    this.answerText = document.createTextNode('');
    this.answerEl = h('div', { class: 'answer-text' }, this.answerText);
    this.statusEl = h('div', { class: 'turn-status', role: 'status' });
    this.dataEl = h('div', { class: 'turn-data', hidden: true });
    this.extrasEl = h('div', { class: 'turn-extras' });
    this.footerEl = h('div', { class: 'turn-footer' });
    this.card = h(
      'article',
      { class: 'answer streaming', tabindex: '0', 'aria-label': 'Answer', onclick: () => select(this), onkeydown: (e) => e.key === 'Enter' && select(this) },
      this.statusEl,
      this.answerEl,
      this.dataEl,
      this.extrasEl,
      this.footerEl,
    );
    this.el = h('div', { class: 'exchange' }, h('div', { class: 'question' }, h('p', { text: question })), this.card);
    this.renderStatus();
  }

  /** Applies one event of the turn's stream. */
  apply(type, data) {
    switch (type) {
      case 'turn':
        this.turnId = data.turnId;
        this.workflowId = data.workflowId;
        this.card.dataset.turnId = data.turnId;
        break;
      case 'step': {
        const before = this.steps.get(data.name);
        // A step's last word stands; a retry's `started` does not hide an earlier attempt's duration.
        this.steps.set(data.name, { ...before, status: data.status, ...(data.ms !== undefined ? { ms: data.ms } : {}), ...(data.reason ? { reason: data.reason } : {}) });
        break;
      }
      case 'token': {
        const first = !this.answerText.data;
        this.answerText.appendData(data.text);
        if (first) this.renderStatus();
        break;
      }
      case 'sql':
        this.sql = data;
        this.renderData();
        break;
      case 'chart':
        this.chart = data;
        this.renderData();
        break;
      case 'done':
        this.done = data;
        // A cached answer has no tokens of its own to stream: its text is the answer.
        if (!this.answerText.data) this.answerText.appendData(data.answer ?? '');
        if (!this.chart && data.chart) this.chart = data.chart;
        this.finish('done');
        break;
      case 'error':
        this.error = data;
        this.finish('error');
        break;
    }
    if (type !== 'token' && selected === this) renderInspector();
    keepScrolled();
  }

  setStatus(status) {
    if (this.status === 'done' || this.status === 'error') return;
    this.status = status;
    this.renderStatus();
    if (selected === this) renderInspector();
  }

  /** The turn ended (its `done` or `error`), or could not be followed (`failure`). */
  finish(status, failure) {
    this.status = status;
    if (failure) this.error = { code: failure instanceof ApiRequestError ? failure.code : 'connection', message: describeError(failure) };
    this.card.classList.remove('streaming');
    this.card.classList.add(status);
    this.renderStatus();
    this.renderData();
    this.renderExtras();
    this.renderFooter();
    if (selected === this) renderInspector();
  }

  renderStatus() {
    const text = this.status === 'reconnecting' ? 'Connection lost: reconnecting…' : this.status === 'streaming' && !this.answerText.data ? 'Thinking…' : '';
    this.statusEl.textContent = text;
    this.statusEl.hidden = !text;
    this.statusEl.classList.toggle('warn', this.status === 'reconnecting');
  }

  renderData() {
    const tabs = [];
    if (this.chart) tabs.push(['chart', 'Chart']);
    if (this.sql) tabs.push(['table', `Table · ${integer.format(this.sql.rowCount)} ${this.sql.rowCount === 1 ? 'row' : 'rows'}`], ['sql', 'SQL']);
    if (!tabs.length) return;
    if (!this.tabPicked || !tabs.some(([id]) => id === this.tab)) this.tab = tabs[0][0];
    const bar = h(
      'div',
      { class: 'tabs', role: 'tablist' },
      tabs.map(([id, label]) =>
        h('button', {
          type: 'button',
          role: 'tab',
          class: 'tab',
          'data-tab': id,
          'aria-selected': String(id === this.tab),
          text: label,
          onclick: (e) => {
            e.stopPropagation();
            this.tab = id;
            this.tabPicked = true;
            this.renderData();
          },
        }),
      ),
    );
    const panels = [];
    if (this.chart) {
      panels.push(
        h('figure', { class: 'panel chart-panel', 'data-panel': 'chart', hidden: this.tab !== 'chart' },
          h('img', { class: 'chart', src: this.chart.svgUrl, alt: `Chart: ${this.question}`, loading: 'eager', decoding: 'async' })),
      );
    }
    if (this.sql) {
      const table = h(
        'table',
        { class: 'rows' },
        h('thead', {}, h('tr', {}, this.sql.columns.map((c) => h('th', { scope: 'col', text: c })))),
        h('tbody', {}, this.sql.rows.map((row) => h('tr', {}, row.map((v) => h('td', { class: typeof v === 'number' ? 'num' : undefined, text: cell(v) }))))),
      );
      const more = this.sql.rowCount > this.sql.rows.length ? h('p', { class: 'muted small', text: `The first ${integer.format(this.sql.rows.length)} of ${integer.format(this.sql.rowCount)} rows.` }) : null;
      panels.push(h('div', { class: 'panel table-panel', 'data-panel': 'table', hidden: this.tab !== 'table' }, h('div', { class: 'table-scroll' }, table), more));
      panels.push(h('div', { class: 'panel sql-panel', 'data-panel': 'sql', hidden: this.tab !== 'sql' }, h('pre', {}, h('code', { text: this.sql.sql }))));
    }
    this.dataEl.replaceChildren(bar, ...panels);
    this.dataEl.hidden = false;
  }

  renderExtras() {
    const parts = [];
    const sources = this.done?.sources ?? [];
    if (sources.length) {
      parts.push(
        h('div', { class: 'sources' }, h('span', { class: 'label', text: 'Sources' }), h('ul', {}, sources.map((s) => h('li', { title: s.slug, text: s.title })))),
      );
    }
    if (this.done?.suggestion) {
      parts.push(
        h('div', { class: 'did-you-mean' }, h('span', { class: 'label', text: 'Did you mean' }),
          h('button', { type: 'button', class: 'chip', text: this.done.suggestion, onclick: (e) => (e.stopPropagation(), ask(this.done.suggestion)) })),
      );
    }
    if (this.error) {
      parts.push(h('div', { class: 'alert', role: 'alert' }, h('strong', { text: this.error.code === 'content_policy' ? 'Not answered. ' : 'Something went wrong. ' }), this.error.message ?? this.error.code));
    }
    this.extrasEl.replaceChildren(...parts);
  }

  renderFooter() {
    if (this.status !== 'done' || !this.turnId) {
      this.footerEl.replaceChildren();
      return;
    }
    const note = h('span', { class: 'feedback-note', role: 'status' });
    const buttons = ['up', 'down'].map((rating) =>
      h('button', {
        type: 'button',
        class: 'icon-button feedback',
        'data-rating': rating,
        'aria-pressed': 'false',
        'aria-label': rating === 'up' ? 'Good answer' : 'Bad answer',
        title: rating === 'up' ? 'Good answer' : 'Bad answer',
        onclick: (e) => {
          e.stopPropagation();
          void this.sendFeedback(rating, buttons, note);
        },
      }, icon(rating)),
    );
    const cache = this.done.cache === 'exact' ? 'Exact cache hit' : this.done.cache === 'semantic' ? 'Semantic cache hit' : null;
    const meta = [cache, this.done.timings?.totalMs !== undefined ? `${ms(this.done.timings.totalMs)} total` : null].filter(Boolean).join(' · ');
    this.footerEl.replaceChildren(h('span', { class: 'meta', text: meta }), h('span', { class: 'feedback-group' }, note, ...buttons));
  }

  async sendFeedback(rating, buttons, note) {
    for (const b of buttons) b.disabled = true;
    note.textContent = 'Sending…';
    note.className = 'feedback-note';
    try {
      const response = await fetch(`/v1/turns/${encodeURIComponent(this.turnId)}/feedback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rating }),
      });
      if (!response.ok) throw await apiError(response);
      const result = await response.json().catch(() => ({}));
      this.feedback = rating;
      for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.rating === rating));
      note.textContent = feedbackNote(rating, result.example);
      note.classList.add('ok');
    } catch (err) {
      note.textContent = `Feedback not recorded: ${describeError(err)}`;
      note.classList.add('failed');
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}

/** What a rating did, as the API reported it (`example`: the effect on the shop's SQL examples). */
function feedbackNote(rating, example) {
  if (example === 'added' || example === 'updated') return 'Thanks! Similar questions will use this query as an example.';
  if (example === 'removed') return 'Thanks! This query is no longer an example.';
  return rating === 'up' ? 'Thanks! Noted as a good answer.' : 'Thanks! Noted as a bad answer.';
}

/** The selected turn's details: status, cache outcome, model, timings, cost, the Web UI link and the step timeline. */
function renderInspector() {
  const root = $('inspector');
  const t = selected;
  if (!t) {
    root.replaceChildren(
      h('div', { class: 'inspector-empty' }, h('h3', { text: 'Turn details' }),
        h('p', { text: 'Ask a question to watch its turn run: every step with its duration, the cache outcome, the model, the time to the first token and the cost.' })),
    );
    return;
  }
  const d = t.done;
  const rows = [];
  const row = (name, label, value, extra) => rows.push(h('div', { class: 'fact', 'data-field': name }, h('dt', { text: label }), h('dd', {}, value, extra ?? null)));
  if (d) {
    const cache = d.cache === 'exact' ? 'Exact hit' : d.cache === 'semantic' ? 'Semantic hit' : 'Miss';
    const similarity = typeof d.similarity === 'number' ? h('span', { class: 'muted', text: ` · similarity ${d.similarity.toFixed(3)}` }) : null;
    row('cache', 'Cache', h('span', { class: `badge cache-${d.cache}`, text: cache }), similarity);
    row('model', 'Model', [d.provider, d.model].filter(Boolean).join(' · ') || (d.cache === 'none' ? '–' : 'none (cached answer)'));
    row('ttft', 'First token', ms(d.timings?.ttftMs ?? undefined));
    row('total', 'Total', ms(d.timings?.totalMs));
    const list = typeof d.listCostUsd === 'number' && d.listCostUsd !== d.costUsd ? h('span', { class: 'muted', text: ` · list ${usd(d.listCostUsd)}` }) : null;
    row('cost', 'Cost', usd(d.costUsd), list);
    if (d.usage) row('tokens', 'Tokens', `${integer.format(d.usage.inputTokens)} in · ${integer.format(d.usage.outputTokens)} out`);
    if (d.intent) row('intent', 'Intent', `${d.intent}${d.complexity ? ` · ${d.complexity}` : ''}`);
    if (d.fallbacks?.length) row('fallbacks', 'Fallbacks', d.fallbacks.join(', '));
  }

  const head = h(
    'div',
    { class: 'inspector-head' },
    h('div', { class: 'inspector-title' }, h('h3', { text: 'Turn' }), h('span', { class: `status-pill ${t.status}`, text: STATUS_LABELS[t.status] ?? t.status })),
    h('p', { class: 'inspector-question', title: t.question, text: t.question }),
    t.turnId ? h('p', { class: 'turn-id muted small', title: 'Turn id', text: t.turnId }) : null,
  );

  let link = null;
  const ui = pageConfig.temporalUi;
  if (ui && t.workflowId) {
    // A cache hit the API answered has no workflow of its own: it is recorded in a batch (recordCachedTurns).
    const cached = d && d.cache !== 'none';
    const base = `${ui.url}/namespaces/${encodeURIComponent(ui.namespace)}/workflows`;
    const href = cached ? `${base}?query=${encodeURIComponent("WorkflowType = 'recordCachedTurns'")}` : `${base}/${encodeURIComponent(t.workflowId)}`;
    link = h('a', { class: 'temporal-link', href, target: '_blank', rel: 'noopener noreferrer' },
      cached ? 'Cache hits in the Temporal Web UI' : 'Open in the Temporal Web UI', icon('external'));
  }

  const steps = [...t.steps.entries()];
  const longest = Math.max(1, ...steps.map(([, s]) => s.ms ?? 0));
  const timeline = steps.length
    ? h(
        'ol',
        { class: 'steps' },
        steps.map(([name, s]) =>
          h(
            'li',
            { class: `step ${s.status}`, 'data-step': name, title: s.reason ?? `${name}: ${s.status}` },
            h('span', { class: 'step-name', text: name }),
            h('span', { class: 'step-track' }, h('span', { class: 'step-bar' })),
            h('span', { class: 'step-ms', text: s.status === 'skipped' ? 'skipped' : s.status === 'started' ? '…' : s.status === 'failed' ? `failed${s.ms !== undefined ? ` · ${ms(s.ms)}` : ''}` : ms(s.ms) }),
          ),
        ),
      )
    : h('p', { class: 'muted small', text: 'Waiting for the first step…' });
  // Bar widths are set through the CSSOM: the page's CSP allows no inline style attributes.
  if (steps.length) {
    timeline.querySelectorAll('.step').forEach((li, i) => {
      const s = steps[i][1];
      const bar = /** @type {HTMLElement} */ (li.querySelector('.step-bar'));
      bar.style.width = s.ms !== undefined && s.status !== 'skipped' ? `${Math.max(1.5, (s.ms / longest) * 100)}%` : '0';
    });
  }

  root.replaceChildren(
    head,
    rows.length ? h('dl', { class: 'facts' }, rows) : null,
    link,
    h('section', { class: 'timeline' }, h('h4', { text: 'Steps' }), timeline),
  );
}

function select(turn) {
  selected = turn;
  for (const t of turns) t.card.classList.toggle('selected', t === turn);
  renderInspector();
}

function keepScrolled() {
  const box = $('messages');
  if (box.scrollHeight - box.scrollTop - box.clientHeight < 160) box.scrollTop = box.scrollHeight;
}

function setBusy(busy) {
  $('ask').toggleAttribute('disabled', busy);
  for (const chip of $('suggestions').querySelectorAll('button')) chip.toggleAttribute('disabled', busy);
}

async function ask(question) {
  question = question.trim();
  if (!question || running) return;
  const sessionId = currentSession();
  $('welcome').hidden = true;
  const turn = new Turn(question);
  turns.push(turn);
  $('messages').append(turn.el);
  select(turn);
  $('messages').scrollTop = $('messages').scrollHeight;
  $('question').value = '';
  autosize();
  const abort = new AbortController();
  running = { turn, abort };
  setBusy(true);
  try {
    await streamTurn({
      apiKey,
      sessionId,
      message: question,
      signal: abort.signal,
      onEvent: (type, data) => turn.apply(type, data),
      onStatus: (status) => turn.setStatus(status),
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    turn.finish('error', err);
    if (err instanceof ApiRequestError && err.status === 401) signOut(`The API refused the key: ${err.message}`);
  } finally {
    if (running?.turn === turn) running = null;
    setBusy(false);
    if (!abort.signal.aborted) $('question').focus();
  }
}

function currentSession() {
  let id = sessionStorage.getItem(SESSION_STORE);
  if (!id || !SESSION_ID.test(id)) {
    id = newSessionId();
    sessionStorage.setItem(SESSION_STORE, id);
  }
  $('session-id').value = id;
  return id;
}

function clearConversation() {
  running?.abort.abort();
  running = null;
  setBusy(false);
  for (const t of turns) t.el.remove();
  turns.length = 0;
  selected = null;
  $('welcome').hidden = false;
  renderInspector();
}

function showSignIn(message) {
  $('chat-view').hidden = true;
  $('account').hidden = true;
  $('signin-view').hidden = false;
  const error = $('signin-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  $('api-key').focus();
}

function showChat(tenant) {
  $('tenant-name').textContent = tenant;
  $('signin-view').hidden = true;
  $('account').hidden = false;
  $('chat-view').hidden = false;
  currentSession();
  renderInspector();
  $('question').focus();
}

function signOut(message) {
  clearConversation();
  apiKey = null;
  sessionStorage.removeItem(KEY_STORE);
  showSignIn(message);
}

/** Checks a key with the API (GET /v1/stats, which names the key's tenant); resolves with the tenant. */
async function tenantOfKey() {
  const stats = await apiGet('/v1/stats?window=1m');
  if (!stats.tenant) throw new Error('That is an operator’s admin key. The chat page needs a shop’s (tenant’s) API key.');
  return stats.tenant;
}

async function signIn(event) {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return showSignIn('Enter your API key.');
  const button = $('signin-button');
  button.disabled = true;
  apiKey = key;
  try {
    const tenant = await tenantOfKey();
    sessionStorage.setItem(KEY_STORE, key);
    $('api-key').value = '';
    showChat(tenant);
  } catch (err) {
    apiKey = null;
    showSignIn(err instanceof ApiRequestError && err.status === 401 ? `The API refused the key: ${err.message}` : describeError(err));
  } finally {
    button.disabled = false;
  }
}

function autosize() {
  const q = /** @type {HTMLTextAreaElement} */ ($('question'));
  q.style.height = 'auto';
  q.style.height = `${Math.min(q.scrollHeight, 160)}px`;
}

function wire() {
  $('signin-form').addEventListener('submit', signIn);
  $('ask-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void ask(/** @type {HTMLTextAreaElement} */ ($('question')).value);
  });
  $('question').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('ask-form').requestSubmit();
    }
  });
  $('question').addEventListener('input', autosize);
  $('sign-out').addEventListener('click', () => signOut());
  $('new-session').addEventListener('click', () => {
    sessionStorage.setItem(SESSION_STORE, newSessionId());
    clearConversation();
    currentSession();
  });
  $('session-id').addEventListener('change', () => {
    const input = /** @type {HTMLInputElement} */ ($('session-id'));
    const value = input.value.trim();
    if (SESSION_ID.test(value)) {
      if (value !== sessionStorage.getItem(SESSION_STORE)) {
        sessionStorage.setItem(SESSION_STORE, value);
        clearConversation();
      }
      input.classList.remove('invalid');
    } else {
      input.classList.add('invalid');
      input.title = 'A session id is 1 to 128 of A-Z, a-z, 0-9, _ and -';
      currentSession();
    }
  });
  $('suggestions').replaceChildren(
    ...SUGGESTIONS.map((s) => h('button', { type: 'button', class: 'chip suggestion', 'data-kind': s.kind.toLowerCase(), onclick: () => ask(s.question) }, h('span', { class: 'chip-kind', text: s.kind }), s.question)),
  );
}

async function start() {
  wire();
  pageConfig = await fetch('/chat/config.json').then((r) => (r.ok ? r.json() : pageConfig)).catch(() => pageConfig);
  if (!apiKey) return showSignIn();
  try {
    showChat(await tenantOfKey());
  } catch (err) {
    if (err instanceof ApiRequestError && err.status === 401) signOut(`The API refused the key: ${err.message}`);
    else showSignIn(describeError(err));
  }
}

void start();
