// FanVote fan web app: sign in (guest or one-time passcode) at ingress, vote there, play the live formats on rewards
// (polls, trivia, raffles, spins, points and tier) and watch live results. Every call carries the fan's own token and is
// checked by the route it calls; the page holds nothing else. Server text is only ever set as textContent.
'use strict';
(() => {
  const $ = id => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const store = window.sessionStorage;
  let config = null;        // { resultsUrl, rewardsUrl } from ingress
  let token = store.getItem('fanvote-token');
  let expiresAt = store.getItem('fanvote-expires');
  let refreshTimer = null, lineupTimer = null, walletTimer = null, stream = null, windowId = null;
  const cards = new Map();   // "kind:id" -> card state
  const mine = JSON.parse(store.getItem('fanvote-mine') || '{}'); // what this fan did here: trivia answers, raffle holders

  function remember(key, value) { mine[key] = value; store.setItem('fanvote-mine', JSON.stringify(mine)); }

  function randomKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
  }

  function deviceId() {
    let d = localStorage.getItem('fanvote-device');
    if (!d) { d = 'web-' + randomKey(); localStorage.setItem('fanvote-device', d); }
    return d;
  }

  // One call: JSON in, JSON out; a problem's detail (or what went wrong) as `error`. 401 ends the session.
  async function call(base, path, { method = 'GET', body, auth = false, headers = {} } = {}) {
    const h = { ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (auth && token) h['Authorization'] = 'Bearer ' + token;
    let r;
    try {
      r = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      return { ok: false, status: 0, error: 'Could not reach FanVote. Check your connection and try again.' };
    }
    let data = null;
    const text = await r.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (r.ok) return { ok: true, status: r.status, data };
    if (r.status === 401 && auth) {
      signOut('Your session ended. Sign in again to go on.');
    }
    const detail = data && (data.detail || data.title) || `FanVote answered ${r.status}.`;
    return { ok: false, status: r.status, data, error: detail, retryAfter: Number(r.headers.get('Retry-After') || 0) };
  }
  const ingress = (path, o) => call('', path, o);
  const rewards = (path, o) => call(config.rewardsUrl, path, o);
  const results = (path, o) => call(config.resultsUrl, path, o);

  function say(el, text, ok) {
    el.textContent = text;
    el.classList.toggle('ok', ok === true);
    el.classList.toggle('bad', ok === false);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const fmt = n => Number(n || 0).toLocaleString('en-US');
  const time = t => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  // ---- sign-in ------------------------------------------------------------------------------------------------
  let terms = null;
  async function showSignIn() {
    $('me').classList.add('hidden');
    $('play').classList.add('hidden');
    $('signin').classList.remove('hidden');
    if (terms) return;
    const t = await ingress('/v1/privacy/terms');
    if (!t.ok) { say($('signin-error'), t.error, false); return; }
    terms = t.data;
    const box = $('purposes');
    box.textContent = '';
    for (const p of terms.purposes) {
      const label = el('label', 'check');
      const input = el('input');
      input.type = 'checkbox';
      input.dataset.purpose = p.purpose;
      input.dataset.version = p.version;
      input.checked = p.neededToVote || p.purpose === 'rewards';
      input.id = 'purpose-' + p.purpose;
      const text = el('span', '', p.description);
      label.append(input, text);
      box.append(label);
    }
  }

  function consentChoices() {
    return Array.from(document.querySelectorAll('#purposes input')).map(i => ({ purpose: i.dataset.purpose, granted: i.checked, version: i.dataset.version }));
  }

  function contactBody() {
    const c = $('contact').value.trim();
    return c.includes('@') ? { email: c } : { phone: c };
  }

  async function signedIn(data) {
    token = data.token;
    expiresAt = data.expiresAt;
    store.setItem('fanvote-token', token);
    store.setItem('fanvote-expires', expiresAt);
    say($('signin-error'), '');
    await start();
  }

  async function guest() {
    $('guest').disabled = true;
    const r = await ingress('/v1/sessions/guest', { method: 'POST', body: { deviceId: deviceId(), consent: consentChoices() } });
    $('guest').disabled = false;
    if (!r.ok) { say($('signin-error'), r.error, false); return; }
    await signedIn(r.data);
  }

  async function sendCode() {
    const r = await ingress('/v1/sessions/otp', { method: 'POST', body: contactBody() });
    if (!r.ok) { say($('signin-error'), r.error, false); return; }
    $('otp-step').classList.remove('hidden');
    say($('signin-error'), 'We sent you a code. Type it below.', true);
    $('otp-code').focus();
  }

  async function verifyCode() {
    const year = $('birth-year').value.trim();
    const body = { ...contactBody(), code: $('otp-code').value.trim(), deviceId: deviceId(), consent: consentChoices() };
    if (year) body.birthYear = Number(year);
    const r = await ingress('/v1/sessions/otp/verify', { method: 'POST', body });
    if (!r.ok) { say($('signin-error'), r.error, false); return; }
    await signedIn(r.data);
  }

  function signOut(why) {
    token = null;
    store.removeItem('fanvote-token');
    store.removeItem('fanvote-expires');
    // What this fan did here (answers, raffle holders) is theirs: the next fan in this tab starts with nothing.
    for (const k of Object.keys(mine)) delete mine[k];
    store.removeItem('fanvote-mine');
    for (const t of [refreshTimer, lineupTimer, walletTimer]) clearTimeout(t);
    if (stream) { stream.close(); stream = null; }
    cards.clear();
    $('formats').textContent = '';
    const n = $('notice');
    n.textContent = why || '';
    n.classList.toggle('hidden', !why);
    showSignIn();
  }

  // A valid session is renewed a few minutes before it expires (until its maximum age: then the fan signs in again).
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    const wait = Math.max(5000, new Date(expiresAt).getTime() - Date.now() - 5 * 60 * 1000);
    refreshTimer = setTimeout(async () => {
      const r = await ingress('/v1/sessions/refresh', { method: 'POST', auth: true });
      if (r.ok) { token = r.data.token; expiresAt = r.data.expiresAt; store.setItem('fanvote-token', token); store.setItem('fanvote-expires', expiresAt); scheduleRefresh(); }
    }, wait);
  }

  // ---- voting and live results ----------------------------------------------------------------------------------
  async function loadWindows() {
    const r = await results('/v1/windows');
    const select = $('window');
    if (!r.ok) { say($('vote-result'), r.error, false); return; }
    const windows = r.data.filter(w => !w.windowId.startsWith('poll_'))
      .sort((a, b) => String(b.updatedAt || '').localeCompare(String(a.updatedAt || '')));
    const wanted = params.get('window');
    select.textContent = '';
    for (const w of windows) {
      const o = el('option', '', w.title ? `${w.title} (${w.windowId})` : w.windowId);
      o.value = w.windowId;
      select.append(o);
    }
    if (windows.length === 0) { say($('vote-result'), 'No vote is open right now.'); return; }
    select.value = windows.some(w => w.windowId === wanted) ? wanted : windows[0].windowId;
    showWindow(select.value, windows.find(w => w.windowId === select.value));
  }

  function showWindow(id, snapshot) {
    windowId = id;
    const box = $('candidates');
    box.textContent = '';
    for (const c of (snapshot && snapshot.candidates) || []) {
      const b = el('button', '', c);
      b.type = 'button';
      b.dataset.candidate = c;
      b.addEventListener('click', () => vote(c, b));
      box.append(b);
    }
    if (snapshot) renderResults(snapshot);
    if (stream) stream.close();
    $('live-state').textContent = 'connecting…';
    stream = new EventSource(`${config.resultsUrl}/v1/windows/${encodeURIComponent(id)}/results/stream`);
    stream.addEventListener('tally', e => { $('live-state').textContent = 'live'; renderResults(JSON.parse(e.data)); });
    stream.onerror = () => { $('live-state').textContent = 'reconnecting…'; };
  }

  function renderResults(r) {
    if (r.windowId !== windowId) return;
    const bars = $('bars');
    const max = Math.max(1, ...r.candidates.map(c => r.counts[c] || 0));
    bars.textContent = '';
    for (const c of r.candidates) {
      const n = r.counts[c] || 0;
      const row = el('div', 'row');
      row.dataset.candidate = c;
      const track = el('div', 'track');
      const fill = el('div', 'fill');
      fill.style.width = `${(100 * n / max).toFixed(1)}%`;
      track.append(fill);
      const count = el('span', 'count', fmt(n));
      count.dataset.count = String(n);
      row.append(el('span', 'name', c), track, count);
      bars.append(row);
    }
    $('total').textContent = fmt(r.total);
    $('total').dataset.total = String(r.total || 0);
  }

  async function vote(candidate, button) {
    const key = crypto.randomUUID ? crypto.randomUUID() : randomKey();
    const out = $('vote-result');
    button.disabled = true;
    say(out, 'Sending…');
    let r;
    for (let attempt = 0; attempt < 3; attempt++) {
      // The same Idempotency-Key on a retry: a vote that was stored counts once.
      r = await ingress(`/v1/windows/${encodeURIComponent(windowId)}/votes`, { method: 'POST', auth: true, body: { candidateId: candidate }, headers: { 'Idempotency-Key': key } });
      if (r.ok || (r.status !== 503 && r.status !== 0)) break;
      await new Promise(res => setTimeout(res, 1000 * Math.max(1, r.retryAfter || 1)));
    }
    button.disabled = false;
    if (r.ok) {
      say(out, `Vote for ${candidate} stored. Receipt ${r.data.voteId}.`, true);
      out.dataset.voteId = r.data.voteId;
      remember('receipt:' + r.data.voteId, r.data.receipt);
    } else {
      say(out, r.error, false);
    }
    refreshWallet();
  }

  // ---- the live formats (rewards' lineup) ------------------------------------------------------------------------
  async function refreshLineup() {
    clearTimeout(lineupTimer);
    const r = await rewards('/v1/live');
    if (r.ok) {
      const seen = new Set();
      for (const item of r.data.items) {
        const key = `${item.kind}:${item.id}`;
        seen.add(key);
        let card = cards.get(key);
        if (!card) { card = makeCard(item); cards.set(key, card); $('formats').append(card.root); }
        card.item = item;
        await card.update().catch(() => {});
      }
      for (const [key, card] of cards) {
        if (!seen.has(key)) { card.root.remove(); cards.delete(key); }
      }
    }
    if (token) lineupTimer = setTimeout(refreshLineup, 2000);
  }

  function makeCard(item) {
    const root = document.getElementById('t-' + item.kind).content.firstElementChild.cloneNode(true);
    root.dataset.kind = item.kind;
    root.dataset.id = item.id;
    const card = { root, item, update: async () => {} };
    const q = sel => root.querySelector(sel);
    q('.title').textContent = item.title;
    const state = text => { q('.state').textContent = text + (card.item.minTier ? ` · VIP: ${card.item.minTier} and up` : ''); };
    if (item.kind === 'poll') pollCard(card, q, state);
    if (item.kind === 'trivia') triviaCard(card, q, state);
    if (item.kind === 'raffle') raffleCard(card, q, state);
    if (item.kind === 'wheel') wheelCard(card, q, state);
    return card;
  }

  function pollCard(card, q, state) {
    let built = false;
    card.update = async () => {
      const r = await rewards(`/v1/polls/${encodeURIComponent(card.item.id)}`);
      if (!r.ok) return;
      const p = r.data;
      state(p.state === 'open' ? `Open until ${time(p.closesAt)}` : p.state === 'scheduled' ? `Opens at ${time(p.opensAt)}` : 'Closed');
      if (!built) {
        built = true;
        const box = q('.questions');
        for (const question of p.questions) {
          const fs = el('fieldset', 'q');
          fs.dataset.question = String(question.question);
          fs.append(el('legend', '', question.text + (question.maxChoices > 1 ? ` (up to ${question.maxChoices})` : '')));
          for (const o of question.options) {
            const label = el('label', 'check');
            const input = el('input');
            input.type = question.maxChoices > 1 ? 'checkbox' : 'radio';
            input.name = `${p.pollId}-${question.question}`;
            input.value = o.optionId;
            const count = el('span', 'muted count');
            count.dataset.option = o.optionId;
            label.append(input, el('span', '', o.label), count);
            fs.append(label);
          }
          box.append(fs);
        }
        q('.answer').addEventListener('click', () => answerPoll(card, q, p));
      }
      for (const question of p.questions) {
        for (const c of q(`fieldset[data-question="${question.question}"]`).querySelectorAll('.count')) {
          c.textContent = question.counts ? ` — ${fmt(question.counts[c.dataset.option] || 0)}` : '';
        }
      }
      if (p.hideResultsUntilClose && p.state !== 'closed') q('.state').textContent += ' · results shown at the close';
      q('.answer').disabled = p.state !== 'open' || !!mine['poll:' + p.pollId];
    };
  }

  async function answerPoll(card, q, p) {
    const answers = [];
    for (const fs of q('.questions').querySelectorAll('fieldset')) {
      const choices = Array.from(fs.querySelectorAll('input:checked')).map(i => i.value);
      if (choices.length) answers.push({ question: Number(fs.dataset.question), choices });
    }
    if (!answers.length) { say(q('.result'), 'Pick an answer first.', false); return; }
    const r = await rewards(`/v1/polls/${encodeURIComponent(p.pollId)}/answers`, { method: 'POST', auth: true, body: { answers } });
    if (r.ok) { remember('poll:' + p.pollId, true); say(q('.result'), 'Your answer is in.', true); q('.answer').disabled = true; } else say(q('.result'), r.error, false);
    await card.update();
  }

  function triviaCard(card, q, state) {
    let shown = -1;
    card.update = async () => {
      const r = await rewards(`/v1/trivia/${encodeURIComponent(card.item.id)}`);
      if (!r.ok) return;
      const round = r.data;
      const now = Date.now();
      const open = round.questions.find(x => x.state === 'open');
      const next = round.questions.find(x => x.state === 'scheduled');
      const last = [...round.questions].reverse().find(x => x.state === 'closed');
      const box = q('.choices');
      if (open) {
        state(`Question ${open.question + 1} of ${round.questions.length} · ${Math.max(0, Math.ceil((new Date(open.closesAt) - now) / 1000))} s left`);
        if (shown !== open.question) {
          shown = open.question;
          q('.question').textContent = open.text || '';
          box.textContent = '';
          say(q('.result'), '');
          for (const o of open.options || []) {
            const b = el('button', '', o.label);
            b.type = 'button';
            b.dataset.choice = o.optionId;
            b.addEventListener('click', () => answerTrivia(round.roundId, open.question, o, q));
            box.append(b);
          }
        }
        const chosen = mine[`trivia:${round.roundId}:${open.question}`];
        for (const b of box.querySelectorAll('button')) { b.disabled = !!chosen; b.classList.toggle('chosen', b.dataset.choice === chosen); }
      } else {
        shown = -1;
        box.textContent = '';
        state(next ? `Next question at ${time(next.opensAt)}` : round.credited ? 'Round over · points credited' : 'Round over · scoring');
        if (last) {
          const right = (last.options || []).find(o => o.optionId === last.correct);
          const yours = mine[`trivia:${round.roundId}:${last.question}`];
          q('.question').textContent = `${last.text || ''} Answer: ${right ? right.label : last.correct || '…'}`;
          say(q('.result'), yours ? (yours === last.correct ? 'You got it right!' : 'Not this time.') : '', yours ? yours === last.correct : undefined);
        }
      }
      const lb = await rewards(`/v1/trivia/${encodeURIComponent(round.roundId)}/leaderboard?top=5`);
      if (lb.ok) {
        const ol = q('.leaderboard');
        ol.textContent = '';
        for (const line of lb.data.lines) ol.append(el('li', '', `${line.holder.slice(0, 8)} · ${fmt(line.points)} pts (${line.correct} right)`));
      }
    };
  }

  async function answerTrivia(roundId, question, option, q) {
    const r = await rewards(`/v1/trivia/${encodeURIComponent(roundId)}/answers`, { method: 'POST', auth: true, body: { question, choice: option.optionId } });
    if (r.ok || r.status === 409) {
      if (r.ok) remember(`trivia:${roundId}:${question}`, r.data.choice);
      say(q('.result'), r.ok ? `Locked in: ${option.label}.` : r.error, r.ok);
    } else say(q('.result'), r.error, false);
    for (const b of q('.choices').querySelectorAll('button')) { b.disabled = true; b.classList.toggle('chosen', r.ok && b.dataset.choice === option.optionId); }
  }

  function raffleCard(card, q, state) {
    let built = false;
    card.update = async () => {
      const r = await rewards(`/v1/raffles/${encodeURIComponent(card.item.id)}`);
      if (!r.ok) return;
      const f = r.data;
      const holder = mine['raffle:' + f.raffleId];
      state(f.state === 'open' ? `Entries close ${time(f.closesAt)} · draw ${time(f.drawAt)} · ${fmt(f.ticketsTaken)} tickets`
        : f.state === 'drawn' ? 'Drawn' : f.state === 'scheduled' ? `Opens at ${time(f.opensAt)}` : `Closed · draw at ${time(f.drawAt)}`);
      if (!built) {
        built = true;
        for (const p of f.prizes) q('.prizes').append(el('li', '', `${p.count} × ${p.label}${p.points ? ` (${fmt(p.points)} pts)` : ''}`));
        q('.enter').textContent = f.ticketCost > 0 ? `Enter (${fmt(f.ticketCost)} pts a ticket)` : 'Enter for free';
        q('.enter').addEventListener('click', () => enterRaffle(card, q, f));
      }
      q('.enter').disabled = f.state !== 'open';
      if (f.state === 'drawn' && holder) {
        const won = (f.winners || []).filter(w => w.holder === holder);
        say(q('.result'), won.length ? `You won: ${won.map(w => w.label).join(', ')}!` : 'Not drawn this time. The draw can be checked with its published seed.', won.length > 0);
      }
    };
  }

  async function enterRaffle(card, q, f) {
    let key = mine['raffle-key:' + f.raffleId];
    if (!key) { key = 'entry-' + randomKey(); remember('raffle-key:' + f.raffleId, key); }
    const r = await rewards(`/v1/raffles/${encodeURIComponent(f.raffleId)}/entries`, { method: 'POST', auth: true, body: { entryKey: key, tickets: 1 } });
    if (r.ok) {
      remember('raffle:' + f.raffleId, r.data.holder);
      remember('raffle-key:' + f.raffleId, '');
      say(q('.result'), `You're in: ticket #${r.data.firstTicket}${r.data.tickets > 1 ? `–${r.data.lastTicket}` : ''}.`, true);
      if (r.data.balanceAfter !== null && r.data.balanceAfter !== undefined) showBalance(r.data.balanceAfter);
    } else say(q('.result'), r.error, false);
    refreshWallet();
  }

  function wheelCard(card, q, state) {
    let built = false;
    card.update = async () => {
      const r = await rewards(`/v1/wheels/${encodeURIComponent(card.item.id)}`);
      if (!r.ok) return;
      const w = r.data;
      state(w.state === 'open' ? `${fmt(w.cost)} pts a spin` + (w.closesAt ? ` · until ${time(w.closesAt)}` : '') : w.state);
      if (!built) {
        built = true;
        const body = q('.odds tbody');
        for (const s of w.segments) {
          const tr = el('tr');
          tr.append(el('td', '', s.prize ? `${s.label} (${fmt(s.prize)} pts)` : s.label), el('td', '', `${(100 * s.odds).toFixed(1)} %`));
          body.append(tr);
        }
        q('.edge').textContent = `Pays back ${fmt(w.expectedPayout)} pts a spin on average (house edge ${(100 * w.houseEdge).toFixed(1)} %). Every spin can be checked once the wheel closes.`;
        q('.spin').textContent = `Spin for ${fmt(w.cost)} pts`;
        q('.spin').addEventListener('click', () => spin(q, w));
      }
      q('.spin').disabled = w.state !== 'open';
      // A refusal for want of points is stale once the points are there.
      if (q('.result').classList.contains('bad') && Number($('balance').dataset.balance || 0) >= w.cost) say(q('.result'), '');
    };
  }

  async function spin(q, w) {
    const button = q('.spin');
    button.disabled = true;
    const r = await rewards(`/v1/wheels/${encodeURIComponent(w.wheelId)}/spins`, { method: 'POST', auth: true, body: { spinKey: 'spin-' + randomKey(), clientSeed: randomKey() } });
    button.disabled = false;
    if (r.ok) {
      const s = r.data;
      const result = q('.result');
      say(result, s.prize > 0 ? `${s.label}! You won ${fmt(s.prize)} pts.` : `${s.label}. No prize this time.`, s.prize > 0);
      result.dataset.spins = String(Number(result.dataset.spins || 0) + 1);
      showBalance(s.balanceAfter);
    } else say(q('.result'), r.error, false);
    refreshWallet();
  }

  // ---- points and tier -------------------------------------------------------------------------------------------
  function showBalance(n) {
    $('balance').textContent = fmt(n);
    $('balance').dataset.balance = String(n);
  }

  async function refreshWallet() {
    clearTimeout(walletTimer);
    const [b, t, s] = await Promise.all([
      rewards('/v1/me/balance', { auth: true }), rewards('/v1/me/tier', { auth: true }), rewards('/v1/me/statement?limit=8', { auth: true }),
    ]);
    if (!token) return;
    if (b.ok) { showBalance(b.data.balance); say($('wallet-error'), ''); } else say($('wallet-error'), b.error, false);
    if (t.ok) {
      const tier = t.data.tier;
      $('tier').textContent = tier.badge || tier.name;
      $('tier').dataset.tier = tier.name;
      $('tier-line').textContent = `Tier ${tier.name} · ${fmt(t.data.earned)} pts earned this season` + (t.data.next ? ` · ${fmt(t.data.pointsToNext)} more for ${t.data.next.name}` : '');
    }
    if (s.ok) {
      const ol = $('statement');
      ol.textContent = '';
      for (const line of s.data.entries) {
        const li = el('li');
        li.dataset.reason = line.reason;
        li.append(el('span', '', `${time(line.at)} ${line.reason.replaceAll('-', ' ')}`), el('span', line.amount >= 0 ? 'plus' : 'minus', (line.amount >= 0 ? '+' : '') + fmt(line.amount)));
        ol.append(li);
      }
      if (!s.data.entries.length) ol.append(el('li', 'muted', 'No points yet: vote, play trivia or win a raffle to earn some.'));
    }
    if (token) walletTimer = setTimeout(refreshWallet, 5000);
  }

  // ---- start ----------------------------------------------------------------------------------------------------
  async function start() {
    $('signin').classList.add('hidden');
    $('notice').classList.add('hidden');
    $('me').classList.remove('hidden');
    $('play').classList.remove('hidden');
    scheduleRefresh();
    await Promise.all([loadWindows(), refreshLineup(), refreshWallet()]);
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('guest').addEventListener('click', guest);
    $('otp-send').addEventListener('click', sendCode);
    $('otp-verify').addEventListener('click', verifyCode);
    $('sign-out').addEventListener('click', () => signOut());
    $('window').addEventListener('change', async () => {
      const r = await results(`/v1/windows/${encodeURIComponent($('window').value)}/results`);
      showWindow($('window').value, r.ok ? r.data : null);
    });
    const c = await ingress('/app/config.json');
    if (!c.ok) { say($('signin-error'), c.error, false); $('signin').classList.remove('hidden'); return; }
    config = c.data;
    document.body.dataset.ready = 'true';
    if (token && expiresAt && new Date(expiresAt) > new Date()) await start(); else await showSignIn();
  });
})();
