// Sounds, on the pages that opt in (/overlay/sound, or ?sound=on): each cue in the snapshot plays
// once per occurrence. The server lists occurrences from a minute ago to an hour ahead, each with
// a name that never changes (break:4:2:1 is the break after session 4's second step's first
// focus) and `in_s`, its moment from the snapshot's time. Played names are kept in localStorage,
// so a reload, a reconnect or a restart of the server never plays one again; one older than a
// minute is never played (it was due while the page was closed). Muted: nothing plays, and what
// came due meanwhile counts as played.
const SO = window.StudyOverlay;
const KEY = "study-overlay.played";
const FRESH_S = 60;
const KEEP_MS = 2 * 86400 * 1000; // names are forgotten after two days
const players = new Map(); // one <audio> per file, made when first needed
let timers = [];

const played = () => {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
};

// Returns false when the name was played already (here, or by another page of this server).
const claim = (id) => {
  const seen = played();
  if (seen[id]) return false;
  const now = Date.now();
  for (const name in seen) if (now - seen[name] > KEEP_MS) delete seen[name];
  seen[id] = now;
  try {
    localStorage.setItem(KEY, JSON.stringify(seen));
  } catch {
    // storage full or off: the page still plays, and may repeat a cue after a reload
  }
  return true;
};

const play = (cue) => {
  if (!claim(cue.id) || SO.snapshot().sound.muted) return;
  let audio = players.get(cue.url);
  if (!audio) {
    audio = new Audio(cue.url);
    audio.preload = "auto";
    players.set(cue.url, audio);
  }
  audio.volume = cue.volume;
  audio.currentTime = 0;
  const started = audio.play();
  if (started) started.catch(() => {}); // a browser that blocks autoplay: OBS does not
};

SO.onSnapshot((s) => {
  for (const t of timers) clearTimeout(t);
  timers = [];
  if (!s.sound) return;
  const since = (performance.now() - SO.anchor()) / 1000; // a snapshot painted late (a reload)
  for (const cue of s.sound.cues) {
    const due = cue.in_s - since;
    if (due < -FRESH_S) continue;
    if (due <= 0) play(cue);
    else timers.push(setTimeout(() => play(cue), due * 1000));
  }
});
