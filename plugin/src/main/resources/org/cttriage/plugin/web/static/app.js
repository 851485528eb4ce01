// ct-triage worklist: plain JavaScript, no library, nothing from the network but this node.
'use strict';
(function () {
  let csrf = null;
  const $ = (id) => document.getElementById(id);
  const show = (id, on) => $(id).classList.toggle('hidden', !on);

  async function api(path, options) {
    const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
    if (opts.body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(opts.body);
    }
    if (csrf && opts.method && opts.method !== 'GET') {
      opts.headers['X-CSRF-Token'] = csrf;
    }
    const response = await fetch(path, opts);
    const body = response.headers.get('Content-Type') && response.headers.get('Content-Type').startsWith('application/json')
      ? await response.json() : null;
    return { status: response.status, body: body };
  }

  function text(value) { return document.createTextNode(value === null || value === undefined ? '' : String(value)); }
  function cell(row, content) { const td = document.createElement('td'); td.appendChild(content); row.appendChild(td); return td; }
  function badge(priority) {
    const span = document.createElement('span');
    span.className = 'badge ' + priority;
    span.textContent = priority;
    return span;
  }
  function waiting(seconds) {
    if (seconds < 60) { return seconds + ' s'; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + ' min'; }
    return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }

  async function session() {
    const r = await api('/api/v1/session');
    if (r.status === 200) {
      csrf = r.body.csrfToken || null;
      $('user').textContent = r.body.user + ' (' + r.body.role + ')';
      show('who', true);
      return true;
    }
    return false;
  }

  async function logout() {
    await api('/api/v1/logout', { method: 'POST' });
    window.location.href = '/worklist/';
  }

  // The worklist page.
  async function loadWorklist() {
    const params = new URLSearchParams();
    if ($('filter-priority').value) { params.set('priority', $('filter-priority').value); }
    if ($('filter-state').value) { params.set('state', $('filter-state').value); }
    params.set('limit', '200');
    const r = await api('/api/v1/worklist?' + params.toString());
    if (r.status === 401) { showLogin(); return; }
    const body = $('worklist').querySelector('tbody');
    body.replaceChildren();
    r.body.items.forEach((item) => {
      const row = document.createElement('tr');
      row.dataset.study = item.studyInstanceUid;
      row.dataset.priority = item.priority;
      if (item.overdue) { row.classList.add('overdue'); }
      cell(row, badge(item.priority));
      cell(row, text(waiting(item.waitingSeconds) + (item.overdue ? ' overdue' : '')));
      cell(row, text(item.patientId));
      cell(row, text(item.accessionNumber));
      cell(row, text(when(item.arrived)));
      cell(row, text(item.findings.length === 0 ? 'none called present'
        : item.findings.map((f) => f.name + ' ' + Math.round(f.probability * 100) + '%').join(', ')));
      const first = item.findings.find((f) => f.keyImage);
      cell(row, first ? keyImage(first, 'thumb') : text(''));
      cell(row, text(item.state));
      row.addEventListener('click', () => { window.location.href = '/worklist/study.html?uid=' + encodeURIComponent(item.studyInstanceUid); });
      body.appendChild(row);
    });
    $('count').textContent = r.body.total + ' stud' + (r.body.total === 1 ? 'y' : 'ies');
  }

  function listen(onEvent) {
    const source = new EventSource('/api/v1/events');
    source.addEventListener('open', () => $('live') && $('live').classList.add('on'));
    source.addEventListener('error', () => $('live') && $('live').classList.remove('on'));
    source.addEventListener('study', onEvent);
  }

  function showLogin() {
    show('list', false);
    show('who', false);
    show('login', true);
  }

  async function worklistPage() {
    $('login').addEventListener('submit', async (event) => {
      event.preventDefault();
      const r = await api('/api/v1/login', { method: 'POST', body: { user: $('login-user').value, password: $('login-password').value } });
      $('login-password').value = '';
      if (r.status !== 200) { show('login-error', true); return; }
      show('login-error', false);
      await start();
    });
    $('logout').addEventListener('click', logout);
    $('filter-priority').addEventListener('change', loadWorklist);
    $('filter-state').addEventListener('change', loadWorklist);
    async function start() {
      if (!(await session())) { showLogin(); return; }
      show('login', false);
      show('list', true);
      await loadWorklist();
      listen(() => loadWorklist());
      // Waiting times and overdue flags move with the clock.
      setInterval(loadWorklist, 60000);
    }
    await start();
  }

  // A finding's key image (served to the logged-in session like the API).
  function keyImage(f, kind) {
    const img = document.createElement('img');
    img.src = f.keyImage;
    img.alt = 'key image: ' + f.name;
    img.className = kind;
    img.loading = 'lazy';
    return img;
  }

  // Where a finding is, in words.
  function place(location) {
    if (!location) { return 'not located'; }
    const p = location.pointLps.map((v) => v.toFixed(0)).join(', ');
    return (location.method === 'model' ? 'at ' : 'organ centre (the model does not locate findings yet), ')
      + 'LPS (' + p + ') mm';
  }

  // The study page.
  async function loadStudy(uid) {
    const r = await api('/api/v1/studies/' + encodeURIComponent(uid));
    if (r.status === 401) { show('login-needed', true); show('study', false); return; }
    if (r.status !== 200) { $('study-title').textContent = r.body ? r.body.error : 'not found'; show('study', true); return; }
    const s = r.body;
    $('study-priority').className = 'badge ' + s.priority;
    $('study-priority').textContent = s.priority;
    $('study-title').textContent = 'Patient ' + (s.patientId || '?') + ', accession ' + (s.accessionNumber || '(none)');
    $('study-meta').textContent = 'Study ' + s.studyInstanceUid + ' · arrived ' + when(s.arrived) + ' · ' + s.state
      + (s.overdue ? ' · OVERDUE' : '') + (s.priorityFindings.length ? ' · priority from ' + s.priorityFindings.join(', ') : '');
    const findings = $('findings').querySelector('tbody');
    findings.replaceChildren();
    const all = s.result ? s.result.findings.slice() : [];
    all.sort((a, b) => (b.present - a.present) || (b.probability - a.probability));
    all.forEach((f) => {
      const row = document.createElement('tr');
      cell(row, text(f.name));
      cell(row, text(f.organ));
      cell(row, text(Math.round(f.probability * 100) + '%'));
      cell(row, text(Math.round(f.threshold * 100) + '%'));
      cell(row, f.present ? badge(f.severity || 'routine') : text('no'));
      cell(row, text(place(f.location)));
      findings.appendChild(row);
    });
    const keyImages = $('key-images');
    keyImages.replaceChildren();
    all.filter((f) => f.keyImage).forEach((f) => {
      const figure = document.createElement('figure');
      figure.appendChild(keyImage(f, 'key'));
      const caption = document.createElement('figcaption');
      caption.textContent = f.name + ' (' + f.organ + '): ' + place(f.location);
      figure.appendChild(caption);
      keyImages.appendChild(figure);
    });
    show('no-key-images', keyImages.childElementCount === 0);
    const reviews = $('reviews');
    reviews.replaceChildren();
    s.reviews.forEach((rv) => {
      const li = document.createElement('li');
      li.textContent = when(rv.at) + ' ' + rv.user + ': ' + rv.action + ' (' + rv.priorityBefore + ' → ' + rv.priorityAfter + ')'
        + (rv.comment ? ' “' + rv.comment + '”' : '');
      reviews.appendChild(li);
    });
    const series = $('series').querySelector('tbody');
    series.replaceChildren();
    s.series.forEach((x) => {
      const row = document.createElement('tr');
      cell(row, text(x.seriesInstanceUid));
      cell(row, text(x.instances));
      cell(row, text(x.state));
      cell(row, text(x.reason));
      series.appendChild(row);
    });
    const results = $('results');
    results.replaceChildren();
    s.results.forEach((x) => {
      const li = document.createElement('li');
      li.textContent = when(x.recorded) + ' ' + x.priority + ' SR ' + x.srSopInstanceUid + (x.supersededBy ? ' (superseded)' : '')
        + ': ' + x.deliveries.map((d) => d.destination + ' ' + d.state).join(', ');
      results.appendChild(li);
    });
    const objects = $('objects').querySelector('tbody');
    objects.replaceChildren();
    const names = { SR: 'Structured report (SR)', SEG: 'Organ segmentation (SEG)', KO: 'Key images (KOS)' };
    (s.result ? s.result.objects : []).forEach((o) => {
      const row = document.createElement('tr');
      cell(row, text(o.rejects ? 'Rejection note: the previous result\'s ' + o.rejects.length + ' objects withdrawn (KOS)'
        : (names[o.modality] || o.modality)));
      cell(row, text(o.sopInstanceUid));
      cell(row, text(o.seriesInstanceUid));
      objects.appendChild(row);
    });
    show('study', true);
  }

  async function studyPage() {
    const uid = new URLSearchParams(window.location.search).get('uid');
    $('logout').addEventListener('click', logout);
    if (!(await session())) { show('login-needed', true); return; }
    async function review(action) {
      const body = { action: action, comment: $('review-comment').value };
      if (action === 'reprioritise') { body.priority = $('review-priority').value; }
      const r = await api('/api/v1/studies/' + encodeURIComponent(uid) + '/review', { method: 'POST', body: body });
      if (r.status === 200) { show('review-done', true); await loadStudy(uid); }
    }
    $('review-confirm').addEventListener('click', () => review('confirm'));
    $('review-dismiss').addEventListener('click', () => review('dismiss'));
    $('review-reprioritise').addEventListener('click', () => review('reprioritise'));
    await loadStudy(uid);
    listen((event) => { if (JSON.parse(event.data).studyInstanceUid === uid) { loadStudy(uid); } });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const page = document.body.dataset.page;
    if (page === 'worklist') { worklistPage(); } else if (page === 'study') { studyPage(); }
  });
}());
