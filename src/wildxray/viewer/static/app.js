// The inspector page: queue, scan view, verdicts. Every piece of data reaches the page through
// textContent or canvas text, never through innerHTML, so a label or file name is always text.
import { api, setCsrf, whenLoggedOut } from "./api.js";
import { ScanCanvas, PALETTE } from "./canvas.js";
import { MODES, availableModes, renderMode } from "./display.js";

const $ = (id) => document.getElementById(id);
const state = {
  queue: [], filters: { decision: "", class: "", state: "" },
  scan: null, sources: null, pictures: {}, mode: "colour",
  threshold: null,            // null: each class at the model's operating point
  hidden: new Set(), selected: null, picker: null,
};

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function status(text) { $("status").textContent = text; }
function fail(err) { status(`⚠ ${err.message || err}`); }

// ---- login --------------------------------------------------------------------------------
function showLogin() {
  $("app").hidden = true;
  $("login").hidden = false;
  $("token").focus();
}
whenLoggedOut(showLogin);

async function start(me) {
  setCsrf(me.csrf_token);
  $("whoami").textContent = me.inspector;
  $("login").hidden = true;
  $("app").hidden = false;
  await loadQueue();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("scan");
  const first = wanted || (state.queue[0] && state.queue[0].scan_id);
  if (first) await openScan(first);
  $("view").focus();
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    const me = await api.login($("token").value.trim());
    $("token").value = "";
    await start(me);
  } catch (err) {
    $("login-error").textContent = err.message;
  }
});
$("logout").addEventListener("click", async () => {
  await api.logout().catch(() => {});
  setCsrf(null);
  showLogin();
});

// ---- queue --------------------------------------------------------------------------------
async function loadQueue() {
  const data = await api.scans(state.filters);
  state.queue = data.scans;
  const c = data.counts;
  const counts = [["total", c.total], ["alarm", c.alarm], ["clear", c.clear], ["error", c.error],
    ["pending", c.pending], ["reviewed", c.reviewed]];
  $("counts").replaceChildren(...counts.map(([k, v]) => el("li", { "data-count": k }, [el("b", { text: String(v) }), ` ${k}`])));
  const sel = $("f-class");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "", text: "all classes" }),
    ...data.classes.map((name) => el("option", { value: name, text: name })));
  sel.value = keep;
  $("problems-box").hidden = data.problems.length === 0;
  $("problems-title").textContent = `${data.problems.length} unreadable result file(s)`;
  $("problems").replaceChildren(...data.problems.map((p) => el("li", { text: p })));
  renderQueue();
}

function renderQueue() {
  const current = state.scan && state.scan.scan_id;
  $("queue").replaceChildren(...state.queue.map((s) => el("li", {
    class: s.scan_id === current ? "current" : "", "data-scan": s.scan_id, onclick: () => openScan(s.scan_id).catch(fail),
  }, [
    el("div", { class: "qline" }, [el("span", { class: `badge ${s.decision}`, text: s.decision }),
      el("span", { class: "qid", text: s.scan_id }),
      el("span", { class: `qstate ${s.state}`, text: s.parcel_verdict ? `✓ ${s.parcel_verdict}` : s.state })]),
    el("span", { class: "qsrc", text: s.source_name }),
    el("span", { class: "qclasses", text: s.classes.join(", ") }),
    el("span", { class: "qtime", text: new Date(s.received_at).toLocaleString() }),
  ])));
}

for (const [id, key] of [["f-decision", "decision"], ["f-class", "class"], ["f-state", "state"]]) {
  $(id).addEventListener("change", () => { state.filters[key] = $(id).value; loadQueue().catch(fail); });
}

function stepScan(delta) {
  const ids = state.queue.map((s) => s.scan_id);
  const i = state.scan ? ids.indexOf(state.scan.scan_id) : -1;
  const next = ids[i < 0 ? 0 : i + delta];
  if (next) openScan(next).catch(fail);
  else status(delta > 0 ? "last scan in the queue" : "first scan in the queue");
}

// ---- scan view ----------------------------------------------------------------------------
const view = new ScanCanvas($("view"), {
  onSelect: (item) => { state.selected = item; renderItems(); },
  onDrawn: (box) => chooseClass("Class of the new box", (label) => boxVerdict(null, "added", label, box),
    () => { view.sketch = null; view.draw(); }),
});

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${url}`));
    img.src = url;
  });
}

let openTicket = 0;   // only the latest openScan may render (j j j pressed fast)

async function openScan(id) {
  const ticket = ++openTicket;
  const scan = await api.scan(id);
  const sources = {};
  for (const kind of ["image", "high", "low"]) {
    if (scan.views.includes(kind)) sources[kind] = await loadImage(api.viewUrl(id, kind));
  }
  if (!sources.image && scan.views.includes("overlay")) sources.image = await loadImage(api.viewUrl(id, "overlay"));
  if (ticket !== openTicket) return;
  state.scan = scan;
  state.sources = sources.image ? sources : null;
  state.pictures = {};
  state.selected = null;
  state.threshold = null;
  if (!availableModes(scan.views).some((m) => m.id === state.mode)) state.mode = "colour";
  history.replaceState(null, "", `#scan=${encodeURIComponent(id)}`);
  renderScan(false);
  renderQueue();
}

function picture() {
  if (!state.sources) return null;
  if (!state.pictures[state.mode]) state.pictures[state.mode] = renderMode(state.mode, state.sources);
  return state.pictures[state.mode];
}

const classIndex = (label) => Math.max(0, state.scan.class_names.indexOf(label));
const colourOf = (label) => PALETTE[classIndex(label) % PALETTE.length];
const thresholdOf = (label) => state.threshold ?? state.scan.thresholds[label] ?? 0.5;

// Detections and added boxes with the verdict in force and whether the current filters show them.
function items() {
  const s = state.scan;
  const out = s.detections.map((d) => {
    const v = s.verdicts[d.item] || null;
    const label = v && v.verdict === "relabel" ? v.label : d.label;
    return { ...d, label, original: d.label, verdict: v && v.verdict,
      visible: d.score >= thresholdOf(d.label) && !state.hidden.has(label) };
  });
  for (const [item, v] of Object.entries(s.verdicts)) {
    if (item.startsWith("add:") && v.verdict !== "reject") {
      out.push({ item, label: v.label, score: null, box: v.box, verdict: "added", visible: !state.hidden.has(v.label) });
    }
  }
  return out;
}

function itemText(it) {
  const mark = { confirm: "✓ ", reject: "✗ ", relabel: "→ ", added: "+ " }[it.verdict] || "";
  return `${mark}${it.label}${it.score === null ? "" : ` ${it.score.toFixed(2)}`}`;
}

function renderScan(keepView) {
  const s = state.scan;
  $("empty").hidden = true;
  $("scan-decision").className = `badge ${s.decision}`;
  $("scan-decision").textContent = s.decision;
  $("scan-title").textContent = s.scan_id;
  $("scan-source").textContent = s.source_name;
  $("scan-meta").textContent = [s.modality, s.width && `${s.width}×${s.height}`, s.model_name,
    s.parcel_score !== null && `parcel score ${s.parcel_score.toFixed(2)}`].filter(Boolean).join(" · ");
  $("scan-error").hidden = !s.error;
  $("scan-error").textContent = s.error ? `${s.error.code}: ${s.error.message}` : "";
  $("modes").replaceChildren(...availableModes(s.views).map((m) => el("button", {
    type: "button", class: m.id === state.mode ? "on" : "", "data-mode": m.id, title: `${m.name} (${m.key})`,
    text: m.name, onclick: () => setMode(m.id),
  })));
  $("class-toggles").replaceChildren(...s.class_names.map((name, i) => {
    const box = el("input", { type: "checkbox", "data-class": name });
    box.checked = !state.hidden.has(name);
    box.addEventListener("change", () => toggleClass(name));
    return el("label", { title: `Shift+${i + 1}` }, [box, el("span", { class: "swatch" }), name]);
  }));
  // Colours are set through the CSSOM (allowed by the CSP), not through a style attribute.
  [...$("class-toggles").querySelectorAll(".swatch")].forEach((sw, i) => { sw.style.background = colourOf(s.class_names[i]); });
  view.setPicture(picture(), keepView);
  renderThreshold();
  renderItems();
  renderParcel();
}

function renderThreshold() {
  const t = Object.values(state.scan.thresholds);
  const op = t.length ? Math.min(...t) : 0.5;
  const same = t.every((v) => v === t[0]);
  $("threshold").value = String(state.threshold ?? op);
  $("threshold-out").textContent = state.threshold === null
    ? `operating point (${same ? op.toFixed(2) : "per class"})` : state.threshold.toFixed(2);
}

function renderItems() {
  const list = items();
  const shown = list.filter((it) => it.visible);
  if (state.selected && !shown.some((it) => it.item === state.selected)) state.selected = null;
  view.setBoxes(shown.map((it) => ({
    item: it.item, box: it.box, color: colourOf(it.label), text: itemText(it),
    dashed: it.verdict === "added" || it.verdict === "reject", faded: it.verdict === "reject",
    selected: it.item === state.selected,
  })));
  $("detections").replaceChildren(...list.map((it) => {
    const li = el("li", {
      class: [it.item === state.selected ? "selected" : "", it.visible ? "" : "hidden-box"].join(" ").trim(),
      "data-item": it.item, onclick: () => { if (it.visible) { state.selected = it.item; renderItems(); } },
    }, [el("span", { class: "swatch" }), el("span", { text: it.label }),
      el("span", { class: "dscore", text: it.score === null ? "added" : it.score.toFixed(2) }),
      el("span", { class: `dverdict v-${it.verdict || "none"}`, text: it.verdict || "" })]);
    li.querySelector(".swatch").style.background = colourOf(it.label);
    return li;
  }));
}

function renderParcel() {
  const p = state.scan.parcel;
  $("parcel-state").textContent = p ? `${p.verdict} — ${p.inspector}, ${new Date(p.at).toLocaleString()}` : "no parcel verdict yet";
  $("parcel-contraband").className = p && p.verdict === "contraband" ? "on" : "";
  $("parcel-clear").className = p && p.verdict === "clear" ? "on" : "";
  $("history").replaceChildren(...state.scan.history.slice().reverse().map((h) => el("li", {
    text: `${new Date(h.at).toLocaleTimeString()} ${h.actor}: ${h.action.replace("_", " ")}${h.detail.label ? ` ${h.detail.label}` : ""}`,
  })));
}

function setMode(mode) {
  if (!state.scan || !availableModes(state.scan.views).some((m) => m.id === mode)) return;
  state.mode = mode;
  renderScan(true);
}

function toggleClass(name) {
  if (state.hidden.has(name)) state.hidden.delete(name); else state.hidden.add(name);
  renderScan(true);
}

$("threshold").addEventListener("input", () => { state.threshold = Number($("threshold").value); renderThreshold(); renderItems(); });
$("threshold-reset").addEventListener("click", () => { state.threshold = null; renderThreshold(); renderItems(); });

function nudgeThreshold(delta) {
  const v = Math.min(1, Math.max(0, Number($("threshold").value) + delta));
  state.threshold = Math.round(v * 100) / 100;
  renderThreshold();
  renderItems();
}

// ---- verdicts -----------------------------------------------------------------------------
function selectStep(delta) {
  const shown = items().filter((it) => it.visible);
  if (!shown.length) return;
  const i = shown.findIndex((it) => it.item === state.selected);
  state.selected = shown[(i + delta + shown.length) % shown.length].item;
  renderItems();
}

// Writes go one at a time, in key-press order, so each response is the latest state of the scan.
let writes = Promise.resolve();
function serial(fn) {
  const next = writes.then(fn);
  writes = next.catch(() => {});
  return next;
}

function boxVerdict(item, verdict, label, box) {
  if (!state.scan) return Promise.resolve();
  const body = { item, verdict };
  if (label) body.label = label;
  if (box) body.box = box.map((v) => Math.round(v * 10) / 10);
  const id = state.scan.scan_id;
  return serial(async () => {
    const scan = await api.boxVerdict(id, body);
    if (!state.scan || state.scan.scan_id !== id) return;   // the inspector moved on meanwhile
    state.scan = scan;
    view.sketch = null;
    status(`${verdict}${label ? ` ${label}` : ""} saved`);
    renderItems();
    renderParcel();
    loadQueue().catch(fail);
  });
}

// After a verdict, select the next box below that has none yet; stop (no wrap-around) at the end,
// so a fast run of key presses never lands on a box already judged.
function advanceFrom(item) {
  const shown = items().filter((it) => it.visible);
  const i = shown.findIndex((it) => it.item === item);
  const next = shown.slice(i + 1).find((it) => !it.verdict);
  state.selected = next ? next.item : null;
  if (!next) status("all boxes judged: a / l for the parcel, j for the next scan");
  renderItems();
}

function withSelected(fn) {
  if (!state.selected) { status("select a box first (n / p, or click it)"); return; }
  fn(items().find((it) => it.item === state.selected));
}

const confirmSelected = () => withSelected((it) => {
  if (it.verdict === "added") { status("an added box needs no confirmation"); return; }
  advanceFrom(it.item);   // move on at once: the next key press is about the next box
  boxVerdict(it.item, "confirm").catch(fail);
});
const rejectSelected = () => withSelected((it) => { advanceFrom(it.item); boxVerdict(it.item, "reject").catch(fail); });
const relabelSelected = () => withSelected((it) =>
  chooseClass(`Relabel ${it.label} as`, (label) => boxVerdict(it.item, "relabel", label)));

function toggleDraw(on = !view.drawMode) {
  view.drawMode = on;
  $("view").classList.toggle("drawing", on);
  $("act-draw").className = on ? "on" : "";
  status(on ? "drag over the missed object; Esc cancels" : "");
}

function chooseClass(title, onChoose, onCancel = () => {}) {
  const names = state.scan.class_names;
  const done = (label) => {
    state.picker = null;
    $("picker").hidden = true;
    toggleDraw(false);
    if (label) Promise.resolve(onChoose(label)).catch(fail);
    else onCancel();
  };
  state.picker = { pick: (i) => names[i] && done(names[i]), cancel: () => done(null) };
  $("picker-title").textContent = title;
  $("picker-list").replaceChildren(...names.map((n) => el("li", { text: n, onclick: () => done(n) })));
  $("picker").hidden = false;
}

function parcelVerdict(verdict) {
  if (!state.scan) return Promise.resolve();
  const id = state.scan.scan_id;
  return serial(async () => {
    const scan = await api.parcelVerdict(id, { verdict });
    status(`parcel ${verdict} saved`);
    if (state.scan && state.scan.scan_id === id) { state.scan = scan; renderParcel(); }
    await loadQueue();
  });
}

$("act-confirm").addEventListener("click", confirmSelected);
$("act-reject").addEventListener("click", rejectSelected);
$("act-relabel").addEventListener("click", relabelSelected);
$("act-draw").addEventListener("click", () => toggleDraw());
$("parcel-contraband").addEventListener("click", () => parcelVerdict("contraband").catch(fail));
$("parcel-clear").addEventListener("click", () => parcelVerdict("clear").catch(fail));
$("zoom-in").addEventListener("click", () => view.zoomCentre(1.25));
$("zoom-out").addEventListener("click", () => view.zoomCentre(0.8));
$("zoom-fit").addEventListener("click", () => view.fit());
$("help-button").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });

// ---- keyboard -----------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if ($("app").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  if (t.tagName === "SELECT" || t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "range" && t.type !== "checkbox")) return;
  if (t.type === "range" && e.key.startsWith("Arrow")) return;   // the slider's own keys
  const digit = /^Digit([1-9])$/.exec(e.code);
  if (state.picker) {
    if (digit) state.picker.pick(Number(digit[1]) - 1);
    else if (e.key === "Escape") state.picker.cancel();
    e.preventDefault();
    return;
  }
  if (!state.scan && !["j", "k", "PageDown", "PageUp", "?"].includes(e.key)) return;
  if (digit) {
    const i = Number(digit[1]) - 1;
    if (e.shiftKey) { const name = state.scan.class_names[i]; if (name) toggleClass(name); }
    else if (MODES[i]) setMode(MODES[i].id);
    e.preventDefault();
    return;
  }
  const actions = {
    j: () => stepScan(1), PageDown: () => stepScan(1), k: () => stepScan(-1), PageUp: () => stepScan(-1),
    n: () => selectStep(1), "]": () => selectStep(1), p: () => selectStep(-1), "[": () => selectStep(-1),
    c: confirmSelected, x: rejectSelected, r: relabelSelected, b: () => toggleDraw(),
    a: () => parcelVerdict("contraband").catch(fail), l: () => parcelVerdict("clear").catch(fail),
    "+": () => view.zoomCentre(1.25), "=": () => view.zoomCentre(1.25), "-": () => view.zoomCentre(0.8), 0: () => view.fit(),
    ArrowLeft: () => view.panBy(60, 0), ArrowRight: () => view.panBy(-60, 0),
    ArrowUp: () => view.panBy(0, 60), ArrowDown: () => view.panBy(0, -60),
    ",": () => nudgeThreshold(-0.05), ".": () => nudgeThreshold(0.05),
    o: () => { state.threshold = null; renderThreshold(); renderItems(); },
    m: () => { const m = availableModes(state.scan.views); setMode(m[(m.findIndex((x) => x.id === state.mode) + 1) % m.length].id); },
    "?": () => { $("help").hidden = !$("help").hidden; },
    Escape: () => { toggleDraw(false); view.sketch = null; view.draw(); $("help").hidden = true; },
  };
  const fn = actions[e.key];
  if (fn) { fn(); e.preventDefault(); }
});

setInterval(() => { if (!$("app").hidden) loadQueue().catch(() => {}); }, 15000);

api.me().then((me) => (me.authenticated ? start(me) : showLogin())).catch(fail);
