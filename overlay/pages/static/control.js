// The control dock: buttons, the failure note, keyboard shortcuts, the step list and the log.
// Commands go through overlay.js's socket; the state shown always comes from the server.
const SO = window.StudyOverlay;
const { _, ngettext } = SO; // words in the page's language (overlay.js)
const note = document.getElementById("so-note");
const result = document.getElementById("so-result");
const steps = document.getElementById("so-steps");
const log = document.getElementById("so-log");
const logMore = document.getElementById("so-log-more");
const confirmLine = document.getElementById("so-confirm");
const KEYS = { n: "next", p: "prev", " ": "toggle-pause", u: "undo-fail", s: "start", k: "skip", m: "toggle-mute" };
const pending = new Map(); // command id -> resolve
let armed = null; // a Finish/Reset button waiting for its second click
let seq = 0;

const settle = (answer) => {
  const resolve = pending.get(answer.id);
  if (resolve) {
    pending.delete(answer.id);
    resolve(answer);
  }
};
SO.onMessage((message) => message.type === "result" && settle(message));
SO.onClose(() => {
  for (const id of Array.from(pending.keys())) {
    settle({ id, ok: false, status: 0, error: _("the connection closed before the server answered") });
  }
});

// Send a command on the page's socket; resolves with the server's result message.
const send = (command) =>
  new Promise((resolve) => {
    const ws = SO.socket();
    if (!ws) {
      resolve({ ok: false, status: 0, error: _("not connected to the server; the command was not sent") });
      return;
    }
    const id = ++seq;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ ...command, id, door: "dock" }));
    setTimeout(() => settle({ id, ok: false, status: 0, error: _("no answer from the server within 5 s") }), 5000);
  });
SO.send = send;

const el = (tag, cls, content) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (content !== undefined) node.textContent = content;
  return node;
};

const pad = (n) => (n < 10 ? "0" : "") + n;
const offset = (s, at) => {
  if (!s.session) return "";
  const t = Math.max(0, Math.floor((Date.parse(at) - Date.parse(s.session.started_at)) / 1000));
  const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60;
  return "+" + (h ? h + ":" + pad(m) : m) + ":" + pad(t % 60);
};

// What a command is called on the dock (the same words as its button).
const LABELS = {
  start: _("Start"), prev: _("Prev"), next: _("Next"), pause: _("Pause"), resume: _("Resume"),
  "toggle-pause": _("pause / resume"), "undo-fail": _("Undo fail"), finish: _("Finish"), reset: _("Reset"),
  restore: _("Restore the reset session"), fail: _("Log failure"), skip: _("Skip"), extend: _("+5 min"),
  shorten: _("−5 min"), mute: _("Mute sounds"), unmute: _("Unmute sounds"), "toggle-mute": _("mute / unmute"),
  goto: _("go to a step"), follow: _("go to a step"), "unit-done": _("unit done"), "unit-undo": _("unit undone"),
  "test-sound": _("test sound"), undo: _("Undo"), redo: _("Redo"),
};
// The cues' names, for the Test buttons and the result line.
const CUE_NAMES = {
  target: _("target reached"), break: _("break starts"), focus: _("break ends"), fail: _("failure logged"),
  deadline: _("deadline reminder"),
};
const labelOf = (command) => {
  const unit = (SO.snapshot().goal || {}).unit || "";
  if (command.command === "goto") return _("go to step %(step)s", { step: command.step });
  if (command.command === "unit-done") return _("%(unit)s done", { unit: unit.charAt(0).toUpperCase() + unit.slice(1) });
  if (command.command === "unit-undo") return _("Undo %(unit)s", { unit });
  if (command.command === "test-sound") return _("Test sound: %(cue)s", { cue: CUE_NAMES[command.cue] || command.cue });
  return LABELS[command.command] || command.command;
};

// A refusal's reason in the page's language: the server words it in English, the catalog's source.
const run = async (command) => {
  const label = labelOf(command);
  result.className = "result";
  result.textContent = label + "\u2026";
  const answer = await send(command);
  if (answer.ok) {
    result.className = "result is-ok";
    result.textContent = _("%(command)s: done", { command: label });
  } else {
    result.className = "result is-refused";
    result.textContent = _("%(command)s refused: %(reason)s", { command: label, reason: _(answer.error) }) +
      (answer.refusal ? " (" + answer.refusal + ")" : "");
  }
  return answer.ok;
};

const logFailure = async (withNote) => {
  const text = withNote ? note.value.trim() : "";
  if (await run({ command: "fail", note: text })) {
    if (withNote) note.value = "";
  }
};

const press = (button) => {
  const command = button.dataset.command;
  if (command === "fail") return; // the form's submit handles it
  if (button.dataset.confirm && armed !== button) {
    disarm();
    armed = button;
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.confirm;
    button.classList.add("is-armed");
    setTimeout(() => armed === button && disarm(), 3000);
    return;
  }
  disarm();
  if (command === "goto") run({ command, step: button.dataset.step });
  else if (command === "test-sound") run({ command, cue: button.dataset.cue });
  else run({ command });
};

const disarm = () => {
  if (!armed) return;
  armed.textContent = armed.dataset.label;
  armed.classList.remove("is-armed");
  armed = null;
};

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-command]");
  if (button) press(button);
});

document.getElementById("so-fail-form").addEventListener("submit", (event) => {
  event.preventDefault();
  logFailure(true);
  note.blur();
});

document.addEventListener("keydown", (event) => {
  const typing = event.target.matches && event.target.matches("input, textarea, select, [contenteditable]");
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z" && !typing) {
    event.preventDefault(); // Ctrl+Z in the note field stays the field's own undo
    if (!event.repeat) run({ command: event.shiftKey ? "redo" : "undo" });
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target;
  if (target.matches && target.matches("input, textarea, select, [contenteditable]")) {
    if (event.key === "Escape") target.blur();
    return; // typing a note never fires a shortcut
  }
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (key === "f") {
    event.preventDefault();
    if (event.shiftKey) logFailure(false);
    else note.focus();
  } else if (KEYS[key]) {
    event.preventDefault(); // Space would also press a focused button or scroll
    run({ command: KEYS[key] });
  } else if (/^[1-9]$/.test(key)) {
    event.preventDefault();
    run({ command: "goto", step: Number(key) });
  }
});

const logItem = (s, f) => {
  const li = el("li");
  li.append(el("span", "when", offset(s, f.at)), " ", el("span", "step", f.step_id), " ", el("span", "note", f.note));
  return li;
};

// The log, newest first. A new failure adds one item (and the capped log may drop its oldest);
// anything else (undo, a new session) rebuilds the list.
let shownLog = [];
const renderLog = (s) => {
  const keys = s.failures.log.map((f) => f.at + " " + f.note);
  const drop = keys.length ? shownLog.indexOf(keys[0]) : -1;
  const kept = drop >= 0 ? shownLog.length - drop : 0;
  const grows = drop >= 0 && kept <= keys.length && shownLog.slice(drop).every((k, i) => k === keys[i]);
  if (grows && log.children.length === shownLog.length) {
    for (let i = 0; i < drop; i++) log.lastElementChild.remove();
    for (const f of s.failures.log.slice(kept)) log.prepend(logItem(s, f));
  } else if (keys.join("\n") !== shownLog.join("\n") || log.children.length !== keys.length) {
    log.replaceChildren(...s.failures.log.slice().reverse().map((f) => logItem(s, f)));
  }
  shownLog = keys;
  // The snapshot carries the newest only: the rest are on the session's own history page.
  logMore.hidden = !s.session || s.failures.session <= keys.length;
  if (s.session) logMore.firstElementChild.href = "/history/" + s.session.number + logMore.firstElementChild.dataset.query;
};

// What the core would refuse now is disabled, with the refusal's own words on hover; the
// likely next action is the main button.
const MAIN = { idle: "start", running: "next", paused: "resume", finished: "start" };
const buttons = Array.from(document.querySelectorAll("button[data-command]")).filter((b) => !b.closest("#so-steps"));
const controls = (s) => {
  const refused = s.refused || {};
  for (const b of buttons) {
    const why = refused[b.dataset.command];
    if (b.dataset.hint === undefined) b.dataset.hint = b.title;
    b.disabled = Boolean(why) && b !== armed;
    b.title = why ? _("not now: %(reason)s", { reason: _(why) }) : b.dataset.hint;
    b.classList.toggle("main", b.dataset.command === MAIN[s.phase]);
  }
};

// Connect Twitch: the service asks Twitch for a code; the streamer enters it at the address shown.
// The login itself never reaches this page (the service keeps it); the state line says when it worked.
const twitchButton = document.getElementById("so-twitch-login");
const twitchCode = document.getElementById("so-twitch-code");
twitchButton.addEventListener("click", async () => {
  const token = new URLSearchParams(location.search).get("token");
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  twitchButton.disabled = true;
  try {
    const answer = await fetch("/api/twitch/login", { method: "POST", headers, body: "{}" });
    const body = await answer.json();
    twitchCode.textContent = answer.ok
      ? _("Open %(url)s and enter the code %(code)s", { url: body.verification_uri.split("?")[0], code: body.user_code })
      : _("Connect Twitch refused: %(reason)s", { reason: _(body.error || String(answer.status)) });
    twitchCode.dataset.url = answer.ok ? body.verification_uri : "";
  } catch {
    twitchCode.textContent = _("not connected to the server; the command was not sent");
  } finally {
    twitchButton.disabled = false;
  }
});

// "Undo: next (2 min ago)": what Ctrl+Z would take back.
const undoLine = document.getElementById("so-undo");
const ago = (s, at) => {
  const num = Math.max(0, Math.round((Date.parse(s.server_time) - Date.parse(at)) / 60000));
  return num ? ngettext("%(num)s min ago", "%(num)s min ago", num) : _("just now");
};

// After `finish`, the recap to post: fetched once per finished session, copied with one click.
const recapBox = document.getElementById("so-recap");
const recapText = document.getElementById("so-recap-text");
const recapCopy = document.getElementById("so-recap-copy");
let recapFor = null;
const showRecap = async (s) => {
  const number = s.phase === "finished" && s.session ? s.session.number : null;
  if (number === recapFor) return;
  recapFor = number;
  recapBox.hidden = true;
  if (number === null) return;
  const lang = new URLSearchParams(location.search).get("lang");
  const query = lang ? "?lang=" + encodeURIComponent(lang) : "";
  try {
    const answer = await fetch("/api/sessions/" + number + "/recap" + query);
    if (!answer.ok || recapFor !== number) return;
    const body = await answer.json();
    recapText.textContent = body.short;
    document.getElementById("so-recap-long").href = "/history/" + number + "/recap" + query;
    recapBox.hidden = false;
  } catch {
    // the recap is a convenience: /history has the session whatever happens here
  }
};
recapCopy.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(recapText.textContent);
  } catch {
    const range = document.createRange(); // a dock without clipboard access: select it for Ctrl+C
    range.selectNodeContents(recapText);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  recapCopy.textContent = _("Copied");
  setTimeout(() => (recapCopy.textContent = _("Copy")), 2000);
});

let shownSteps = null;
const render = (s) => {
  controls(s);
  const key = s.steps.map((st) => st.id + " " + st.state).join("|");
  if (key !== shownSteps) {
    shownSteps = key;
    steps.replaceChildren(...s.steps.map((st) => {
      const button = el("button", null, st.title);
      button.type = "button";
      button.dataset.command = "goto";
      button.dataset.step = st.id;
      const li = el("li", "is-" + st.state);
      if (st.state === "skipped") button.title = _("skipped: jumped over without being done");
      li.append(button);
      return li;
    }));
  }
  renderLog(s);
  const c = s.hotkeys && s.hotkeys.confirm; // a hotkey waits for its second press
  confirmLine.textContent = c ? _("press the hotkey again to confirm: %(command)s", { command: LABELS[c] || c }) : "";
  document.getElementById("so-obs").dataset.state = (s.obs && s.obs.state) || "off";
  document.getElementById("so-hotkeys").dataset.state = (s.hotkeys && s.hotkeys.state) || "off";
  showRecap(s);
  undoLine.textContent = s.undo ? _("Undo: %(command)s (%(ago)s)", { command: LABELS[s.undo.command] || s.undo.command, ago: ago(s, s.undo.at) }) : "";
  const twitch = (s.twitch && s.twitch.state) || "off";
  document.getElementById("so-twitch").dataset.state = twitch;
  twitchButton.hidden = !(twitch === "logged_out" || (twitch === "error" && !s.twitch.login));
  twitchButton.textContent = twitch === "error" ? _("Reconnect Twitch") : _("Connect Twitch");
  if (twitch === "connected") twitchCode.textContent = "";
};

SO.onSnapshot(render);
