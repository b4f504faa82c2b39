// The marking page (course mark): one reflection per screen, scored line by line from the keyboard.
// Everything a trainee wrote is put on the page with textContent only: never as markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const base = location.pathname.replace(/\/+$/, "");
  const token = new URLSearchParams(location.search).get("token");
  const state = {
    session: null, queue: [], index: 0, cache: new Map(), item: null,
    scores: {}, comment: "", cursor: 0, saved: null, busy: false,
  };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function cookie(name) {
    const m = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return m ? decodeURIComponent(m.slice(name.length + 1)) : "";
  }

  async function api(path, body) {
    const headers = { "X-XSRFToken": cookie("_xsrf") };
    if (token) headers.Authorization = "token " + token;
    const opts = { headers, credentials: "same-origin" };
    if (body !== undefined) {
      opts.method = "POST";
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(base + path, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = { error: "the server answered " + r.status }; }
    if (!r.ok) throw new Error((data && data.error) || "the server answered " + r.status);
    return data;
  }

  function say(text, bad) {
    const m = $("message");
    m.textContent = text || "";
    m.className = bad ? "bad" : "";
  }

  const key = (q) => q.trainee + "\u0000" + q.module;

  function fetchItem(i) {
    const q = state.queue[i];
    if (!q) return Promise.resolve(null);
    const k = key(q);
    if (!state.cache.has(k)) {
      const p = api("/api/item?trainee=" + encodeURIComponent(q.trainee) + "&module=" + encodeURIComponent(q.module));
      p.catch(() => state.cache.delete(k));
      state.cache.set(k, p);
    }
    return state.cache.get(k);
  }

  function prefetch() {
    for (const d of [1, -1, 2]) fetchItem(state.index + d);
  }

  function scheme() { return state.session.schemes[state.item.module]; }

  function dirty() {
    if (!state.saved) return Object.keys(state.scores).length > 0 || state.comment.trim() !== "";
    const same = JSON.stringify(sorted(state.scores)) === JSON.stringify(sorted(state.saved.scores));
    return !same || state.comment !== state.saved.comment;
  }

  function sorted(o) {
    const out = {};
    for (const k of Object.keys(o).sort()) out[k] = o[k];
    return out;
  }

  function complete() {
    return scheme().criteria.every((c) => Number.isInteger(state.scores[c.id]));
  }

  async function save() {
    if (!dirty()) return true;
    const missing = scheme().criteria.filter((c) => !Number.isInteger(state.scores[c.id]));
    if (missing.length) {
      say("Score every line before saving: " + missing.map((c) => c.text).join(" / "), true);
      return false;
    }
    const it = state.item;
    try {
      const done = await api("/api/mark", {
        trainee: it.trainee, module: it.module, scores: state.scores,
        comment: state.comment, fingerprint: it.fingerprint,
      });
      state.saved = { scores: { ...state.scores }, comment: state.comment };
      it.mark = { scores: { ...state.scores }, comment: state.comment, marker: state.session.marker,
                  marked_at: done.marked_at, total: done.total, stale: false };
      it.status = done.status;
      state.queue[state.index].status = done.status;
      say("Saved " + it.trainee + " (" + done.total + " points) at " + done.marked_at + ".");
      showStatus();
      showProgress();
      return true;
    } catch (e) {
      say("Not saved: " + e.message, true);
      return false;
    }
  }

  async function go(delta) {
    if (state.busy) return;
    const target = state.index + delta;
    if (target < 0 || target >= state.queue.length) {
      say(delta > 0 ? "This is the last reflection." : "This is the first reflection.");
      return;
    }
    state.busy = true;
    try {
      if (!(await save())) return;
      await show(target);
    } finally {
      state.busy = false;
    }
  }

  async function show(i) {
    state.index = i;
    const started = performance.now();
    let item;
    try {
      item = await fetchItem(i);
    } catch (e) {
      say("Could not load this reflection: " + e.message, true);
      return;
    }
    state.item = item;
    // A mark of a text that has changed since (a resubmission) is not put back in the boxes: the earlier comment
    // would otherwise go out again beside a new text. It is shown in the status line; the marker marks afresh.
    const current = item.mark && !item.mark.stale ? item.mark : null;
    state.scores = current ? { ...current.scores } : {};
    state.comment = current ? current.comment : "";
    state.saved = current ? { scores: { ...current.scores }, comment: current.comment } : null;
    const sc = scheme();
    const first = sc.criteria.findIndex((c) => !Number.isInteger(state.scores[c.id]));
    state.cursor = first < 0 ? 0 : first;
    render();
    window.courseMarkShownAt = performance.now();
    window.courseMarkReadyMs = window.courseMarkShownAt - started;
    document.body.dataset.shown = item.trainee + "/" + item.module;
    prefetch();
  }

  function render() {
    const it = state.item;
    const sc = scheme();
    $("where").textContent = sc.title + ": " + it.trainee;
    $("prompt").textContent = sc.prompt;
    const r = $("reflection");
    r.replaceChildren();
    if (it.text.trim()) {
      for (const para of it.text.split(/\n\s*\n/)) r.append(el("p", para));
    } else {
      r.append(el("p", "No reflection was submitted.", "empty"));
    }
    r.scrollTop = 0;
    renderCriteria();
    renderDecisions();
    $("comment").value = state.comment;
    showStatus();
    showProgress();
    renderStock();
  }

  function renderCriteria() {
    const sc = scheme();
    const list = $("criteria");
    list.replaceChildren();
    sc.criteria.forEach((c, n) => {
      const li = el("li", null, "crit" + (n === state.cursor ? " current" : ""));
      li.dataset.criterion = c.id;
      const head = el("p", null, "crit-text");
      head.append(el("span", c.text), el("span", " (" + c.points + (c.points === 1 ? " point)" : " points)"), "hint"));
      li.append(head);
      const levels = el("ul", null, "levels" + (c.levels.length <= 3 ? " side-by-side" : ""));
      for (const lv of c.levels) {
        const b = el("button", null, "level" + (state.scores[c.id] === lv.points ? " chosen" : ""));
        b.type = "button";
        b.dataset.points = lv.points;
        b.setAttribute("aria-pressed", String(state.scores[c.id] === lv.points));
        b.append(el("strong", String(lv.points)), el("span", lv.descriptor, "descriptor"));
        if (lv.anchor && n === state.cursor) b.append(el("span", "e.g. \u201c" + lv.anchor + "\u201d", "anchor"));
        b.addEventListener("click", () => { state.cursor = n; setLevel(lv.points); });
        const item = el("li");
        item.append(b);
        levels.append(item);
      }
      li.append(levels);
      list.append(li);
    });
    const cur = list.children[state.cursor];
    if (cur && cur.scrollIntoView) cur.scrollIntoView({ block: "nearest" });
  }

  function renderDecisions() {
    const it = state.item;
    $("decisions-problem").textContent = it.problem || "";
    const list = $("decisions");
    list.replaceChildren();
    if (!it.decisions.length) list.append(el("li", "This module has no decisions.", "hint"));
    for (const d of it.decisions) {
      // One compact entry per decision (click or Enter shows it whole): question and score, the option chosen,
      // the reasons.
      const li = el("li", null, "decision");
      li.tabIndex = 0;
      const score = d.answered ? d.points + "/" + d.max_points : "\u2013/" + d.max_points;
      const q = el("p", null, "question clamp1");
      q.append(el("span", score + " ", "score"), el("span", d.question));
      li.append(q);
      if (!d.answered) {
        li.append(el("p", "Not answered." + (d.problem ? " " + d.problem : ""), "empty clamp2"));
      } else {
        li.append(el("p", d.chosen.map((o) => o.text + " (" + o.points + ")").join("; "), "chosen clamp1"));
        const conf = d.confidence === null || d.confidence === undefined ? "" : " [confidence " + d.confidence + "]";
        li.append(el("p", (d.rationale ? "Why: " + d.rationale : "No rationale given.") + conf, "rationale clamp1"));
      }
      const toggle = () => li.classList.toggle("open");
      li.addEventListener("click", toggle);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); ev.stopPropagation(); toggle(); } });
      list.append(li);
    }
  }

  function total() {
    return scheme().criteria.reduce((s, c) => s + (Number.isInteger(state.scores[c.id]) ? state.scores[c.id] : 0), 0);
  }

  function showStatus() {
    const it = state.item;
    const sc = scheme();
    const scored = sc.criteria.filter((c) => Number.isInteger(state.scores[c.id])).length;
    $("total").textContent = total() + " / " + sc.points + (scored < sc.criteria.length
      ? " (" + scored + " of " + sc.criteria.length + " lines scored)" : "");
    let s;
    if (it.mark && it.mark.stale) {
      s = "Changed since it was marked by " + it.mark.marker + " (" + it.mark.total + " points): mark it again." +
        (it.mark.comment ? " Earlier comment: \u201c" + it.mark.comment + "\u201d" : "");
    }
    else if (it.mark) s = "Marked by " + it.mark.marker + " at " + it.mark.marked_at + ".";
    else s = "Not marked yet.";
    if (dirty()) s += " Unsaved changes.";
    $("status").textContent = s;
  }

  function showProgress() {
    const left = state.queue.filter((q) => q.status !== "marked").length;
    $("progress").textContent = (state.index + 1) + " of " + state.queue.length + " \u00b7 " + left + " to mark";
  }

  function stockFor(c) {
    const bank = state.session.bank[state.item.module] || {};
    const v = state.scores[c.id];
    if (!Number.isInteger(v)) return [];
    return ((bank[c.id] || {})[String(v)] || []);
  }

  function renderStock() {
    const c = scheme().criteria[state.cursor];
    const v = state.scores[c.id];
    $("stock-heading").textContent = "Stock comments, line " + (state.cursor + 1) +
      (Number.isInteger(v) ? " at " + v : " (score it first)");
    $("stock-heading").title = c.text;
    const list = $("stock");
    list.replaceChildren();
    for (const text of stockFor(c)) {
      const b = el("button", text, "stock");
      b.type = "button";
      b.addEventListener("click", () => insert([text]));
      const li = el("li");
      li.append(b);
      list.append(li);
    }
  }

  function setLevel(points) {
    const c = scheme().criteria[state.cursor];
    if (!c.levels.some((lv) => lv.points === points)) {
      say(c.text + ": no level " + points + " (0 to " + c.points + ").", true);
      return;
    }
    state.scores[c.id] = points;
    say("");
    if (state.cursor < scheme().criteria.length - 1) state.cursor += 1;
    renderCriteria();
    renderStock();
    showStatus();
  }

  function moveCursor(d) {
    const n = scheme().criteria.length;
    state.cursor = Math.max(0, Math.min(n - 1, state.cursor + d));
    renderCriteria();
    renderStock();
  }

  function insert(texts) {
    const fresh = texts.filter((t) => !state.comment.includes(t));
    if (!fresh.length) { say("No stock comment to add here: score the line first, or it is already in."); return; }
    state.comment = [state.comment.trim(), ...fresh].filter(Boolean).join("\n\n");
    $("comment").value = state.comment;
    showStatus();
  }

  function insertCurrent() {
    const c = scheme().criteria[state.cursor];
    const stock = stockFor(c).filter((t) => !state.comment.includes(t));
    insert(stock.slice(0, 1));
  }

  function insertAll() {
    insert(scheme().criteria.map((c) => stockFor(c)[0]).filter(Boolean));
  }

  async function toBank() {
    const c = scheme().criteria[state.cursor];
    const v = state.scores[c.id];
    const text = $("comment").value.trim();
    if (!Number.isInteger(v) || !text) {
      say("To save a comment to the bank, score the highlighted line and write the comment first.", true);
      return;
    }
    try {
      const done = await api("/api/bank", { module: state.item.module, criterion: c.id, points: v, text });
      state.session.bank = done.bank;
      renderStock();
      say("Saved to the comment bank (" + state.session.bank_file + ") for \u201c" + c.text + "\u201d at " + v + ".");
    } catch (e) {
      say("Not saved to the bank: " + e.message, true);
    }
  }

  function toggleHelp() {
    const h = $("help");
    h.hidden = !h.hidden;
    $("help-button").setAttribute("aria-expanded", String(!h.hidden));
  }

  function onKey(ev) {
    if (!state.item) return;
    const inComment = ev.target === $("comment");
    if (inComment) {
      if (ev.key === "Escape") { ev.preventDefault(); $("comment").blur(); }
      else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $("comment").blur(); go(1); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target instanceof HTMLElement && ev.target.tagName === "BUTTON" && ev.key === "Enter") return;
    const k = ev.key;
    let handled = true;
    if (k === "j" || k === "PageDown") go(1);
    else if (k === "k" || k === "PageUp") go(-1);
    else if (/^[0-9]$/.test(k)) setLevel(Number(k));
    else if (k === "ArrowDown") moveCursor(1);
    else if (k === "ArrowUp") moveCursor(-1);
    else if (k === "c") insertCurrent();
    else if (k === "a") insertAll();
    else if (k === "e") { $("comment").focus(); }
    else if (k === "b") toBank();
    else if (k === "s") save();
    else if (k === "?") toggleHelp();
    else handled = false;
    if (handled) ev.preventDefault();
  }

  async function start() {
    try {
      state.session = await api("/api/session");
    } catch (e) {
      say("The marking page cannot start: " + e.message, true);
      return;
    }
    const s = state.session;
    state.queue = s.queue;
    $("who").textContent = "Marker: " + s.marker + (s.moderate ? " (moderation)" : "");
    $("moderation").hidden = !s.moderate;
    document.body.classList.toggle("moderating", s.moderate);
    $("comment").addEventListener("input", () => { state.comment = $("comment").value; showStatus(); });
    $("prev").addEventListener("click", () => go(-1));
    $("next").addEventListener("click", () => go(1));
    $("save").addEventListener("click", () => save());
    $("to-bank").addEventListener("click", () => toBank());
    $("help-button").addEventListener("click", toggleHelp);
    $("prompt").addEventListener("click", () => $("prompt").classList.toggle("open"));
    document.addEventListener("keydown", onKey);
    window.addEventListener("beforeunload", (ev) => { if (state.item && dirty()) ev.preventDefault(); });
    if (!state.queue.length) { say("Nothing to mark here."); return; }
    const open = state.queue.findIndex((q) => q.status !== "marked");
    await show(open < 0 ? 0 : open);
    document.body.dataset.ready = "1";
  }

  start();
})();
