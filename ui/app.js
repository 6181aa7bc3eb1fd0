// The live-tail page: the SDK (./sdk/), a form, a table. The marker of the last message shown
// is kept in sessionStorage per project and queue, so a page refresh resumes from it.
import { createClient } from './sdk/index.js';

const $ = (id) => document.getElementById(id);
const form = $('target');
const stateEl = $('state');
const note = $('note');
const rows = $('messages');
const pauseButton = $('pause');

let client = null;
let paused = false;
let held = [];

const storageKey = (project, queue) => `zaqar-bridge:marker:${project}/${queue}`;

function setState(state, text) {
  stateEl.dataset.state = state;
  stateEl.textContent = text;
}

function showNote(text, kind = '') {
  note.textContent = text;
  note.className = `note ${kind}`;
  note.hidden = false;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function render(message) {
  const body = message.body && typeof message.body === 'object' ? message.body : { value: message.body };
  const payload = body.payload && typeof body.payload === 'object' ? body.payload : body.data && typeof body.data === 'object' ? body.data : {};
  const execution = payload.execution_id ?? body.execution_id ?? payload.execution?.id ?? '';
  const status = payload.status ?? '';
  const tr = document.createElement('tr');
  tr.dataset.marker = message.marker;
  tr.append(
    cell(new Date().toLocaleTimeString()),
    cell(body.type ?? body.name ?? JSON.stringify(message.body).slice(0, 80)),
    cell(execution),
    cell(status, status ? `status-${status}` : ''),
    cell(message.marker),
  );
  rows.prepend(tr);
}

async function tail(project, queue, token) {
  await client?.close();
  rows.replaceChildren();
  note.hidden = true;
  const key = storageKey(project, queue);
  const stored = sessionStorage.getItem(key);
  const config = await (await fetch('config.json')).json();
  const wsUrl = config.wsUrl ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:${config.wsPort}/`;
  client = createClient({ url: wsUrl, projectId: project, ...(token ? { token } : {}), reconnect: { minDelayMs: 200, maxDelayMs: 5000 } });
  client.on('open', () => setState('open', `live · ${project}/${queue}`));
  client.on('reconnecting', (e) => setState('connecting', `reconnecting (attempt ${e.attempt})…`));
  client.on('error', (e) => showNote(e.message, 'gap'));
  setState('connecting', 'connecting…');
  client.subscribe(
    queue,
    (message) => {
      sessionStorage.setItem(key, message.marker);
      if (paused) held.push(message);
      else render(message);
    },
    {
      from: stored ?? 'next',
      onAttach: (info) => {
        if (info.reattach) showNote(`Resumed, ${info.replayed} replayed.`);
        else if (stored !== null) showNote(`Resumed after a page refresh, ${info.replayed} replayed.`);
      },
      onGap: (gap) => showNote(`Gap: some messages after marker ${gap.marker ?? 'start'} are no longer held (${gap.replayed} replayed). Reload your data from its source.`, 'gap'),
    },
  );
  pauseButton.disabled = false;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const project = $('project').value.trim();
  const queue = $('queue').value.trim();
  const url = new URL(location.href);
  url.searchParams.set('project', project);
  url.searchParams.set('queue', queue);
  history.replaceState(null, '', url);
  void tail(project, queue, $('token').value.trim());
});

pauseButton.addEventListener('click', () => {
  paused = !paused;
  pauseButton.textContent = paused ? `Resume${held.length ? ` (${held.length})` : ''}` : 'Pause';
  if (!paused) {
    for (const m of held) render(m);
    held = [];
  }
});

// A link with ?project=…&queue=… (and every refresh of it) starts tailing at once.
const params = new URLSearchParams(location.search);
if (params.get('project') && params.get('queue')) {
  $('project').value = params.get('project');
  $('queue').value = params.get('queue');
  void tail(params.get('project'), params.get('queue'), '');
}
