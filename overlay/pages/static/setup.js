// The setup page: forms that save into config.yaml, and the live status of OBS, hotkeys and Twitch.
// Every save goes through the same rules as a command (same origin, the token when the server has one).
const SO = window.StudyOverlay;
const { _ } = SO; // words in the page's language (overlay.js)
const $ = (id) => document.getElementById(id);
let form = JSON.parse($("so-setup").textContent);

const token = new URLSearchParams(location.search).get("token");
const headers = { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) };

// A reason the server words in English (its catalog's source), in the page's language.
const said = (body) => {
  if (body && body.words) return _(body.words[0], body.words[1]);
  const reason = (body && (body.error || body.reason)) || JSON.stringify(body);
  return _(reason);
};

const post = async (path, data) => {
  try {
    const answer = await fetch(path, { method: "POST", headers, body: JSON.stringify(data) });
    const body = await answer.json().catch(() => ({ error: String(answer.status) }));
    return { ok: answer.ok, status: answer.status, body };
  } catch {
    return { ok: false, status: 0, body: { error: _("not connected to the server; nothing was sent") } };
  }
};

const show = (el, text, state) => {
  el.textContent = text;
  el.className = "result" + (state ? " is-" + state : "");
};

const busy = async (button, work) => {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
};

// A form's save: the page's version goes with it, and the answer brings the form as now saved.
const save = (button, path, data, result, fill, done) =>
  busy(button, async () => {
    const { ok, body } = await post(path, { ...data, version: form.version });
    if (ok) {
      form = body.form;
      fill();
      show(result, done + atStart(body), "ok");
    } else show(result, _("Not saved: %(reason)s", { reason: said(body) }), "refused");
  });

const atStart = (body) =>
  body.at_start && body.at_start.length ? " " + _("Changed by hand and read only at start: %(keys)s; restart the service.", { keys: body.at_start.join(", ") }) : "";

// --- 1. OBS -------------------------------------------------------------------------------
const obsForm = $("so-obs-form");
const obsResult = $("so-obs-result");
const fillObs = () => {
  obsForm.enabled.checked = form.obs.enabled;
  obsForm.host.value = form.obs.host;
  obsForm.port.value = form.obs.port;
  obsForm.password.value = "";
  obsForm.password.placeholder = form.obs.password_set ? _("saved; type to change") : _("none");
};
// The password field left empty keeps the saved one: the page is never sent it.
const obsValues = () => ({
  enabled: obsForm.enabled.checked,
  host: obsForm.host.value.trim(),
  port: obsForm.port.value.trim(),
  password: obsForm.password.value === "" ? null : obsForm.password.value,
});

$("so-obs-test").addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    show(obsResult, _("Connecting…"));
    const { ok, body } = await post("/api/setup/obs/test", obsValues());
    if (ok && body.ok) {
      show(obsResult, _("Connected: OBS %(obs)s, obs-websocket %(ws)s.", { obs: body.obs, ws: body.websocket }) + " " +
        (body.browser_source ? "" : _("This OBS has no Browser source: the scenes can be made, the overlays must be added from another OBS build.")), "ok");
    } else {
      show(obsResult, said(body) + (body.hint ? " " + _(body.hint) : ""), "refused");
    }
  }));

obsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  save($("so-obs-save"), "/api/setup/obs", obsValues(), obsResult, fillObs, _("Saved."));
});

// --- 2. Scenes ----------------------------------------------------------------------------
const scenesOut = $("so-scenes-out");
const createButton = $("so-scenes-create");
const runScenes = (apply) => async () => {
  scenesOut.textContent = _("Asking OBS…");
  const { ok, body } = await post("/api/setup/scenes", { apply });
  scenesOut.textContent = ok ? body.lines.join("\n") : said(body);
  scenesOut.dataset.status = ok ? body.status : "refused";
  createButton.disabled = apply || !ok || body.lines.some((line) => line.startsWith("Nothing to do"));
};
$("so-scenes-plan").addEventListener("click", (event) => busy(event.currentTarget, runScenes(false)));
createButton.addEventListener("click", async () => {
  createButton.disabled = true;
  await runScenes(true)();
});

// --- 3. Overlays --------------------------------------------------------------------------
for (const button of document.querySelectorAll("button.copy")) {
  button.addEventListener("click", async () => {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const field = button.closest("tr").querySelector("input");
      field.select();
      document.execCommand("copy");
    }
    button.textContent = _("Copied");
    setTimeout(() => (button.textContent = _("Copy")), 1500);
  });
}

// --- 4. Routine ---------------------------------------------------------------------------
const routineForm = $("so-routine-form");
const routineResult = $("so-routine-result");
const stepsBody = $("so-steps");

const cell = (child) => {
  const td = document.createElement("td");
  if (child) td.append(child);
  return td;
};
const input = (name, value, size) => {
  const el = document.createElement("input");
  el.name = name;
  el.value = value;
  el.size = size;
  return el;
};
const tool = (label, title, fn) => {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.className = "tool";
  b.addEventListener("click", fn);
  return b;
};

const stepRow = (step) => {
  const tr = document.createElement("tr");
  tr.dataset.id = step.id || "";
  const focus = document.createElement("input");
  focus.type = "checkbox";
  focus.name = "focus";
  focus.checked = step.focus;
  const tools = document.createElement("span");
  tools.append(
    tool("↑", _("Move up"), () => tr.previousElementSibling && tr.after(tr.previousElementSibling) && renumber()),
    tool("↓", _("Move down"), () => tr.nextElementSibling && tr.before(tr.nextElementSibling) && renumber()),
    tool("✕", _("Remove"), () => {
      if (stepsBody.children.length > 1) tr.remove();
      renumber();
    }),
  );
  tr.append(cell(), cell(input("title", step.title, 30)), cell(input("target", step.target, 6)), cell(input("scene", step.scene, 16)), cell(focus), cell(tools));
  return tr;
};

const renumber = () => {
  [...stepsBody.children].forEach((tr, i) => (tr.firstElementChild.textContent = i + 1));
  return true;
};

const fillRoutine = () => {
  stepsBody.replaceChildren(...form.steps.map(stepRow));
  renumber();
  routineForm.deadline_at.value = form.deadline.at;
  routineForm.deadline_label.value = form.deadline.label;
  routineForm.goal_units.value = form.goal.units || "";
  routineForm.goal_unit.value = form.goal.unit;
};

$("so-step-add").addEventListener("click", () => {
  stepsBody.append(stepRow({ id: "", title: "", target: "", scene: "", focus: false }));
  renumber();
  stepsBody.lastElementChild.querySelector("input").focus();
});

routineForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const steps = [...stepsBody.children].map((tr) => {
    const get = (name) => tr.querySelector(`[name="${name}"]`);
    return { id: tr.dataset.id || null, title: get("title").value, target: get("target").value, scene: get("scene").value, focus: get("focus").checked };
  });
  const data = {
    steps,
    deadline: { at: routineForm.deadline_at.value, label: routineForm.deadline_label.value },
    goal: { units: routineForm.goal_units.value.trim(), unit: routineForm.goal_unit.value },
  };
  save($("so-routine-save"), "/api/setup/routine", data, routineResult, fillRoutine, _("Saved; the overlays show it now."));
});

// --- 5. Hotkeys ---------------------------------------------------------------------------
const bindings = $("so-bindings");
const hotkeysResult = $("so-hotkeys-result");
const fillHotkeys = () => {
  bindings.replaceChildren(
    ...form.hotkeys.map((b) => {
      const tr = document.createElement("tr");
      tr.dataset.combo = b.combo;
      const keys = document.createElement("kbd");
      keys.textContent = b.combo;
      const mark = document.createElement("span");
      mark.className = "heard";
      tr.append(cell(keys), cell(document.createTextNode(b.command)), cell(mark));
      return tr;
    }),
  );
};
let lastHeard = null; // the press count already shown (a check before this page opened is not)
const checkButton = $("so-hotkeys-check");
checkButton.addEventListener("click", () =>
  busy(checkButton, async () => {
    for (const mark of bindings.querySelectorAll(".heard")) mark.textContent = "";
    const { ok, body } = await post("/api/setup/hotkeys/check", { seconds: 60 });
    show(hotkeysResult, ok ? _("Listening for 60 s: press each combination; it is only checked, not run.") : said(body), ok ? "" : "refused");
  }));

// --- 6. Twitch ----------------------------------------------------------------------------
const twitchButton = $("so-twitch-login");
const twitchCode = $("so-twitch-code");
if (twitchButton) {
  twitchButton.addEventListener("click", () =>
    busy(twitchButton, async () => {
      const { ok, body } = await post("/api/twitch/login", {});
      // The address without its query (which carries the code), as the dock shows it.
      twitchCode.textContent = ok
        ? _("Open %(url)s and enter the code %(code)s", { url: body.verification_uri.split("?")[0], code: body.user_code })
        : _("Connect Twitch refused: %(reason)s", { reason: said(body) });
      twitchCode.dataset.url = ok ? body.verification_uri : "";
    }));
}

// --- live status --------------------------------------------------------------------------
const badge = (el, part) => {
  if (!el || !part) return;
  el.dataset.state = part.state;
  el.textContent = part.state + (part.words ? " · " + _(part.words[0], part.words[1]) : part.reason ? " · " + part.reason : "");
};

SO.onSnapshot((s) => {
  badge($("so-obs-status"), s.obs);
  badge($("so-hotkeys-status"), s.hotkeys);
  badge($("so-twitch-status"), s.twitch);
  const heard = s.hotkeys && s.hotkeys.heard;
  if (lastHeard === null) lastHeard = heard ? heard.n : 0;
  else if (heard && heard.n !== lastHeard) {
    lastHeard = heard.n;
    const row = bindings.querySelector(`tr[data-combo="${CSS.escape(heard.combo)}"]`);
    if (row) row.querySelector(".heard").textContent = "✓ " + _("heard");
  }
  checkButton.disabled = !s.hotkeys || s.hotkeys.state !== "active" || s.hotkeys.checking;
  if (twitchButton && s.twitch) {
    const state = s.twitch.state;
    twitchButton.hidden = !(state === "logged_out" || (state === "error" && !s.twitch.login));
    twitchButton.textContent = state === "error" ? _("Reconnect Twitch") : _("Connect Twitch");
    if (state === "connected") twitchCode.textContent = "";
  }
});

fillObs();
fillRoutine();
fillHotkeys();
