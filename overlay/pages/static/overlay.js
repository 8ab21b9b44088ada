// study-overlay pages (a module: strict, deferred). The page carries its first snapshot as JSON
// (#so-snapshot), painted here at once; a WebSocket then brings one per change. Each [data-field]
// gets textContent by the rules below, the only place they are written for pages. Clocks tick from
// the snapshot's anchors once a second: a rAF loop would cost about 20 times the CPU in OBS.
const root = document.documentElement;
const fields = Array.from(document.querySelectorAll("[data-field]"), (el) => [el, el.dataset.field]);
const lists = document.querySelectorAll("[data-steps]");
const MOVING = ["session.elapsed", "step.elapsed", "step.delta", "deadline.left", "deadline.word", "deadline.days",
  "phase"];
const ticking = fields.filter(([, name]) => MOVING.includes(name));
const clocks = ticking.some(([, name]) => !name.startsWith("deadline.") && name !== "phase");
const cycles = ticking.some(([, name]) => name === "phase"); // the badge counts a focus or break down
const countdowns = ticking.some(([, name]) => name.startsWith("deadline."));
const hooks = { snapshot: [], message: [], close: [] };
let snap = null; // the last snapshot shown
let at = 0; // performance.now() when it arrived: the anchor its elapsed figures count from
let ws = null;
let fresh = true; // the next snapshot is the first on a new connection
let retry = 0;
let timer = 0;
let offline = false;

// Words in the page's language: the page carries its catalog's translations (#so-words; none for
// English, whose texts are the messages themselves). _() and ngettext() are what `make messages`
// extracts; %(name)s is filled from `values`, and ngettext's count is %(num)s.
const words = JSON.parse((document.getElementById("so-words") || { textContent: "{}" }).textContent);
const code = root.getAttribute("lang") || "en";
const plurals = new Intl.PluralRules(code);
const numbers = new Intl.NumberFormat(code, { maximumFractionDigits: 1 });
const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (all, name) => (Object.hasOwn(values, name) ? values[name] : all));
const _ = (message, values) => fill(typeof words[message] === "string" ? words[message] : message, values || {});
const ngettext = (one, many, num, values) => {
  const forms = words[one];
  const text = Array.isArray(forms) ? forms[words.plural_index[plurals.select(num)] || 0] : num === 1 ? one : many;
  return fill(text, { num, ...values });
};

const pad = (n) => (n < 10 ? "0" : "") + n;
const clock = (t) => {
  const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
  return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
};
const delta = (elapsed, target) => {
  const d = Math.floor(elapsed) - Math.floor(target);
  return (d > 0 ? "+" : d < 0 ? "\u2212" : "") + clock(Math.abs(d));
};
// The deadline in the words the CLI and /history use (overlay/i18n/texts.py): "90 days left".
const countdown = (left) => {
  const min = left > 0 ? Math.ceil(left / 60) : Math.floor(-left / 60);
  const h = Math.floor(min / 60), m = min % 60;
  return h ? _("%(h)sh %(m)sm", { h, m: pad(m) }) : _("%(m)sm", { m });
};
const days = (left) => {
  const num = Math.floor(Math.abs(left) / 86400), time = countdown(left);
  if (left > 0) return num ? ngettext("%(num)s day left", "%(num)s days left", num) : _("%(time)s left", { time });
  return num ? ngettext("%(num)s day past", "%(num)s days past", num) : _("%(time)s past", { time });
};
const onDeadline = (f) => (s, v) => (s.deadline ? f(v.left) : "");
const units = (g, n) => n + " " + (n === 1 ? g.unit : g.unit_plural); // config.yaml's own words
const pacing = (s) => !!(s.goal && s.goal.left && !s.goal.passed); // a pace still means something
const ON_TRACK = _("on track"), BEHIND = _("behind");
const track = (s) => (pacing(s) && s.goal.on_track !== null ? (s.goal.on_track ? ON_TRACK : BEHIND) : "");
const needed = (g) => {
  if (g.needed_every_days !== null) return _("1 %(unit)s every %(days)s days", { unit: g.unit, days: numbers.format(g.needed_every_days) });
  const rate = g.needed_per_day;
  return rate === null ? "" : _("%(units)s a day", { units: numbers.format(rate) + " " + (rate === 1 ? g.unit : g.unit_plural) });
};
const soFar = (g) =>
  g.pace_per_day === null ? _("pace: too early to tell")
    : g.so_far_every_days === null ? _("no %(units)s done yet", { units: g.unit_plural })
      : _("so far 1 %(unit)s every %(days)s days", { unit: g.unit, days: numbers.format(g.so_far_every_days) });
const PHASES = { idle: _("not started"), running: _("running"), paused: _("paused"), finished: _("finished") };
const STATES = {
  off: _("off"), connecting: _("connecting"), connected: _("connected"), error: _("error"), active: _("active"),
  logged_out: _("logged out"),
};
const status = (st) => (st && st.words ? _(st.words[0], st.words[1]) : (st && st.reason) || "");

// The step overlay has room (overlay.css) for REVIEW_LINES notes or steps up next; the last says "+N more".
const REVIEW_LINES = 4;
const shown = (items) => (items.length > REVIEW_LINES ? items.slice(0, REVIEW_LINES - 1) : items);
const more = (items) => {
  const n = items.length - shown(items).length;
  return n ? ngettext("+%(num)s more", "+%(num)s more", n) : "";
};
const upNext = (s) =>
  (s.phase === "finished" ? [] : s.steps.slice(s.step.index + 1).filter((st) => st.state !== "done"));
const reviewNotes = (r) => (r ? r.notes.map((n) => n.note + " (" + n.step + ")") : []);

// The focus/break cycle in the badge, one meaning at a time: "Focus 2/4 · 12:34 left" while a
// focus counts down, "Break · 4:12 left", "Break over"; a pause says "paused" as ever.
const cycle = (s, v) => {
  const f = s.focus;
  if (!f || !(s.phase === "running" || (s.phase === "paused" && f.phase === "break_over"))) return "";
  const time = clock(Math.max(0, Math.ceil(v.cycle)));
  if (f.phase === "focus") {
    return _("Focus %(n)s/%(of)s · %(time)s left", { n: ((f.cycle - 1) % f.long_every) + 1, of: f.long_every, time });
  }
  if (f.phase === "break") return _("Break · %(time)s left", { time });
  if (f.phase === "long_break") return _("Long break · %(time)s left", { time });
  return _("Break over");
};

const FORMATS = {
  "phase": (s, v) => cycle(s, v) || PHASES[s.phase] || s.phase,
  "session.elapsed": (s, v) => clock(Math.floor(v.session)),
  "step.elapsed": (s, v) => clock(Math.floor(v.step)),
  "step.target": (s) => (s.step.target_s ? clock(Math.floor(s.step.target_s)) : ""),
  "step.delta": (s, v) => (s.step.target_s && s.session ? delta(v.step, s.step.target_s) : ""),
  "deadline.left": onDeadline((left) => {
    const num = Math.floor(Math.abs(left) / 86400);
    return num ? ngettext("%(num)s day", "%(num)s days", num) : countdown(left);
  }),
  // The word agrees with the figure before it ("1 giorno rimasto", "3 giorni rimasti"); under a
  // day the figure is a time, which takes the plural.
  "deadline.word": onDeadline((left) => {
    const num = Math.floor(Math.abs(left) / 86400) || 2;
    return left > 0 ? ngettext("left", "left", num) : ngettext("past", "past", num);
  }),
  "deadline.days": onDeadline(days),
  "goal.left": ({ goal: g }) =>
    !g ? "" : !g.left ? _("all %(units)s done", { units: units(g, g.units) })
      : g.passed ? _("%(done)s of %(units)s done", { done: g.done, units: units(g, g.units) })
        : _("%(units)s left", { units: units(g, g.left) }),
  "goal.pace": (s) => (pacing(s) ? needed(s.goal) : ""),
  "goal.so_far": (s) => (pacing(s) ? soFar(s.goal) : ""),
  "goal.track": track,
  "obs.state": (s) => STATES[s.obs.state] || s.obs.state,
  "obs.reason": (s) => status(s.obs),
  "hotkeys.state": (s) => STATES[s.hotkeys.state] || s.hotkeys.state,
  "hotkeys.reason": (s) => status(s.hotkeys),
  "twitch.state": (s) => (s.twitch ? STATES[s.twitch.state] || s.twitch.state : ""),
  "twitch.reason": (s) => status(s.twitch),
  "twitch.login": (s) => (s.twitch && s.twitch.login ? _("as %(login)s", { login: s.twitch.login }) : ""),
  "review.head": ({ review: r }) =>
    r ? _("session %(number)s", { number: r.session }) + " \u00b7 " + ngettext("%(num)s failure", "%(num)s failures", r.count) : "",
  "review.notes": ({ review: r }) => reviewNotes(r).join("\n"),
  "review.lines": ({ review: r }) => shown(reviewNotes(r)).join("\n"),
  "review.more": ({ review: r }) => more(reviewNotes(r)),
  "next.head": (s) => (s.phase === "finished" ? "" : upNext(s).length ? _("up next") : _("last step")),
  "next.steps": (s) => shown(upNext(s)).map((st) => st.title).join("\n"),
  "next.more": (s) => more(upNext(s)),
};

// The snapshot's moving figures as of `now`: clocks advance only while running.
const view = (s, now) => {
  const wall = (now - at) / 1000, run = s.clock.running ? wall : 0;
  return {
    session: s.session ? s.session.elapsed_s + run : 0,
    step: s.step.elapsed_s + run,
    left: s.deadline ? s.deadline.left_s - wall : 0,
    cycle: s.focus ? s.focus.left_s - (s.focus.running ? wall : 0) : 0,
  };
};

const text = (s, name, v) => {
  const format = FORMATS[name];
  if (format) return format(s, v);
  let x = s;
  for (const part of name.split(".")) x = x && typeof x === "object" && !Array.isArray(x) ? x[part] : null;
  return x === null || x === undefined || typeof x === "object" ? "" : String(x);
};

const write = (list, s, v) => {
  for (const [el, name] of list) {
    const t = text(s, name, v);
    if (el.textContent !== t) el.textContent = t;
  }
  const over = !!(s.session && s.step.target_s) && Math.floor(v.step) > Math.floor(s.step.target_s);
  root.classList.toggle("is-over", over);
  root.classList.toggle("is-passed", !!s.deadline && v.left <= 0);
};

const paint = (now) => {
  const s = snap, t = track(s);
  write(fields, s, view(s, now));
  const flags = {
    "no-deadline": !s.deadline,
    "no-session": !s.session,
    "no-target": !s.step.target_s,
    "no-note": !s.failures.last_note,
    "can-restore": !!s.can_restore,
    "no-goal": !s.goal,
    "is-on-track": t === ON_TRACK,
    "is-behind": t === BEHIND,
    "no-review": !s.review,
    "no-focus": !s.focus,
    "in-break": !!(s.focus && s.focus.phase !== "focus"),
    "in-cycle": !!cycle(s, view(s, now)),
    "is-muted": !!(s.sound && s.sound.muted),
  };
  for (const name in flags) root.classList.toggle(name, flags[name]);
  for (const name of Array.from(root.classList)) {
    if (name.startsWith("phase-") && name !== "phase-" + s.phase) root.classList.remove(name);
  }
  root.classList.add("phase-" + s.phase);
  root.classList.add("is-painted");
};

const pips = (s) => {
  for (const ol of lists) {
    while (ol.children.length > s.steps.length) ol.lastChild.remove();
    while (ol.children.length < s.steps.length) ol.append(document.createElement("li"));
    s.steps.forEach((st, i) => {
      const li = ol.children[i], cls = "so-pip is-" + st.state;
      if (li.className !== cls) li.className = cls;
      const title = st.state === "skipped" ? _("%(step)s (skipped)", { step: st.title }) : st.title;
      if (li.title !== title) li.title = title;
    });
  }
};

// Wake when a shown second (session or step; they roll over apart after a step change) or the
// deadline minute changes, computing from the anchor so a late timer never drifts. A page without
// a moving figure (the step overlay) never wakes at all.
const untilNext = (x) => 1 - (x - Math.floor(x));
const schedule = (now) => {
  clearTimeout(timer);
  const v = view(snap, now);
  let wait = Infinity;
  if (clocks && snap.clock.running) wait = Math.min(untilNext(v.step), untilNext(v.session)) * 1000;
  if (countdowns && snap.deadline) wait = Math.min(wait, (((v.left % 60) + 60) % 60) * 1000 || 60000);
  if (cycles && snap.focus && snap.focus.running && v.cycle > 0) wait = Math.min(wait, (v.cycle - Math.floor(v.cycle) || 1) * 1000);
  if (wait !== Infinity) timer = setTimeout(tick, Math.max(20, wait + 3));
};

const tick = () => {
  const now = performance.now();
  if (!offline) write(ticking, snap, view(snap, now));
  schedule(now);
};

// Failures that come quickly each bump again: the class alternates between two animations with
// the same frames, which restarts it without reading layout (a forced layout on every failure).
const bump = () => {
  const again = root.classList.contains("is-bump");
  root.classList.toggle("is-bump", !again);
  root.classList.toggle("is-bump2", again);
};
root.addEventListener("animationend", () => root.classList.remove("is-bump", "is-bump2"));

// is-live: a snapshot came over the socket; is-offline: the socket closed since.
const setOffline = (value) => {
  offline = value;
  root.classList.toggle("is-offline", value);
  if (value) root.classList.remove("is-live");
};

// rev counts commands; status_rev counts status-only pushes (OBS link, hotkeys) at the same rev.
const older = (s, shown) => s.rev < shown.rev || (s.rev === shown.rev && s.status_rev < shown.status_rev);

const accept = (s, now) => {
  if (!fresh && older(s, snap)) return; // an older state than the one shown
  fresh = false;
  setOffline(false);
  root.classList.add("is-live");
  show(s, now);
};

const show = (s, now) => {
  const before = snap;
  snap = s;
  at = now;
  if (before && s.rev > before.rev && s.failures.session > before.failures.session) bump();
  paint(now);
  pips(s);
  for (const fn of hooks.snapshot) fn(s);
  schedule(now);
};

// The server says something at least every 10 s; silence means it is frozen or the link is
// half-open, and a page must not go on showing its numbers as live.
const SILENCE_MS = window.studyOverlaySilenceMs || 25000; // a test simulating an hour sets it
let watchdog = 0;

const lost = (socket) => {
  clearTimeout(watchdog);
  if (ws !== socket) return;
  ws = null;
  setOffline(true);
  for (const fn of hooks.close) fn();
  const wait = Math.min(3000, 250 * 2 ** retry++);
  setTimeout(connect, wait * (1 + Math.random() * 0.25));
};

const heard = (socket) => {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    lost(socket);
    socket.close();
  }, SILENCE_MS);
};

// A patch (RFC 6902: add, remove, replace) applied to a snapshot without touching it: only the
// objects on the changed paths are copied, so code still holding the old snapshot sees it whole.
const unescape = (part) => part.replace(/~1/g, "/").replace(/~0/g, "~");
const patched = (doc, ops) => {
  const root = { doc };
  const copied = new Set();
  const own = (parent, key) => {
    const value = parent[key];
    if (copied.has(value)) return value;
    const copy = Array.isArray(value) ? value.slice() : { ...value };
    parent[key] = copy;
    copied.add(copy);
    return copy;
  };
  for (const op of ops) {
    const parts = op.path.split("/").slice(1).map(unescape);
    const last = parts.pop();
    let node = own(root, "doc");
    for (const part of parts) node = own(node, Array.isArray(node) ? +part : part);
    if (!Array.isArray(node)) {
      if (op.op === "remove") delete node[last];
      else node[last] = op.value;
    } else if (op.op === "remove") node.splice(+last, 1);
    else if (op.op === "add") node.splice(last === "-" ? node.length : +last, 0, op.value);
    else node[+last] = op.value;
  }
  return root.doc;
};

const connect = () => {
  const token = new URLSearchParams(location.search).get("token");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  // patch=1: after the first snapshot, each change comes as a patch to the one before.
  const socket = new WebSocket(scheme + location.host + "/ws?patch=1" + (token ? "&token=" + encodeURIComponent(token) : ""));
  ws = socket;
  fresh = true;
  socket.onopen = () => heard(socket);
  socket.onmessage = (event) => {
    heard(socket);
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") {
      retry = 0;
      accept(message, performance.now());
    } else if (message.type === "patch") {
      // It applies to the snapshot it names; anything else (a frame missed) asks for a full one.
      if (snap && !fresh && message.base[0] === snap.rev && message.base[1] === snap.status_rev) accept(patched(snap, message.ops), performance.now());
      else socket.send('{"type":"resync"}');
    } else {
      for (const fn of hooks.message) fn(message);
    }
  };
  socket.onclose = () => lost(socket);
};

// The dock builds on this: it sends commands on the same socket and reads their results.
window.StudyOverlay = {
  _,
  ngettext,
  snapshot: () => snap,
  anchor: () => at, // performance.now() when the snapshot arrived (for tests)
  socket: () => (ws && ws.readyState === WebSocket.OPEN ? ws : null),
  onSnapshot: (fn) => {
    hooks.snapshot.push(fn);
    if (snap) fn(snap);
  },
  onMessage: (fn) => hooks.message.push(fn),
  onClose: (fn) => hooks.close.push(fn),
};

const embedded = document.getElementById("so-snapshot");
if (embedded) show(JSON.parse(embedded.textContent), performance.now()); // is-live waits for the socket
connect();
