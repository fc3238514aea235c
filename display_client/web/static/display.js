// Hall screen: every counter's number, the latest calls, waiting per item and
// a scrolling notice; every call announced (chime, then the sentence twice).
// Announcements queue up so a burst of calls is never dropped or cut off.
import { api, deviceToken, el, EventStream, pathParam } from "./api.js";
import { applyStatic, currentLang, register, t } from "./i18n.js";
import { spokenCall } from "./speech.js";

register({
  "zh-CN": {
    "display.latest": "最近叫号",
    "display.waiting": "等候人数",
    "display.total": "共 {n} 人",
    "display.window": "{n} 号窗口",
    "display.idle": "—",
    "display.paused": "暂停服务",
    "display.closed": "未开放",
    "display.green": "绿色通道 {n}",
    "display.hotline": "服务热线：{n}",
    "display.welcome": "欢迎光临，请取号后留意叫号",
    "display.rest": "休息",
    "display.shut": "现在不是办理时间",
    "display.holiday": "今天是法定节假日，暂停办理",
    "display.opens": "下次开放：{when}",
  },
  en: {
    "display.latest": "Latest calls",
    "display.waiting": "Waiting",
    "display.total": "{n} in total",
    "display.window": "Counter {n}",
    "display.idle": "—",
    "display.paused": "Paused",
    "display.closed": "Closed",
    "display.green": "green {n}",
    "display.hotline": "Hotline: {n}",
    "display.welcome": "Welcome: please take a ticket and watch for your number",
    "display.rest": "Closed",
    "display.shut": "The hall is closed now",
    "display.holiday": "Public holiday: the hall is closed today",
    "display.opens": "Opens: {when}",
  },
});

const hallCode = pathParam(1);
const token = deviceToken("display");
const $ = (id) => document.getElementById(id);

const state = { snap: null, offset: 0, lastCallAt: 0, loaded: false };

// ---------------------------------------------------------------- speech --
const SAY_TIMES = 2;
let audioCtx = null;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function chime() {
  try {
    audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
    if (audioCtx.state === "suspended") await Promise.race([audioCtx.resume(), sleep(200)]);
    const now = audioCtx.currentTime;
    // The two-tone "ding-dong" of hall call systems.
    [[880, 0], [660, 0.4]].forEach(([freq, at]) => {
      const osc = audioCtx.createOscillator();
      const gain = audioCtx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.4, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.38);
      osc.connect(gain).connect(audioCtx.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.4);
    });
  } catch (e) {
    // No audio device: the flash still shows.
  }
  await sleep(850);
}

function zhVoice() {
  if (!("speechSynthesis" in window)) return null;
  const voices = speechSynthesis.getVoices();
  return voices.find((v) => /^zh[-_]CN/i.test(v.lang)) || voices.find((v) => /^(zh|cmn)/i.test(v.lang)) || null;
}

let serverTts = true; // until the server says it has no engine

function speakBrowser(text, voice) {
  return new Promise((resolve) => {
    // Spoken letter by letter and digit by digit ("A 0 1 2"), as the server voice does.
    const u = new SpeechSynthesisUtterance(spokenCall(text));
    u.voice = voice;
    u.lang = voice.lang;
    u.rate = 0.9;
    const done = () => resolve(true);
    u.onend = done;
    u.onerror = done;
    setTimeout(done, 1500 + text.length * 450); // never wedge the queue
    speechSynthesis.speak(u);
  });
}

function speakServer(text) {
  return new Promise((resolve) => {
    const audio = new Audio(`/api/v1/tts?text=${encodeURIComponent(text)}`);
    let settled = false;
    const finish = (ok) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    audio.addEventListener("ended", () => finish(true));
    audio.addEventListener("error", () => {
      serverTts = false;
      finish(false);
    });
    audio.addEventListener("loadedmetadata", () => {
      // Bound by the clip's own length so a stalled device cannot block later calls.
      setTimeout(() => finish(true), (audio.duration || 6) * 1000 + 1500);
    });
    setTimeout(() => finish(true), 12000);
    audio.play().catch(() => finish(false));
  });
}

async function speak(text) {
  const voice = zhVoice();
  if (voice) {
    await speakBrowser(text, voice);
    return "speech";
  }
  if (serverTts && (await speakServer(text))) return "audio";
  await sleep(2500); // chime and flash only: leave the sentence on screen a while
  return "flash";
}

class Announcer {
  constructor() {
    this.items = []; // {text, number, counter, kind, state: pending|speaking|done, mode}
    this.running = false;
  }

  push(item) {
    this.items.push({ ...item, state: "pending", mode: null });
    // Keep the history bounded but never drop what is still to be said.
    while (this.items.length > 200 && this.items[0].state === "done") this.items.shift();
    this.run();
  }

  async run() {
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        item.state = "speaking";
        showFlash(item);
        await chime();
        for (let i = 0; i < SAY_TIMES; i++) item.mode = await speak(item.text);
        item.state = "done";
        hideFlash();
      }
    } finally {
      this.running = false;
    }
  }

  next() {
    return this.items.find((i) => i.state === "pending");
  }
}

const announcer = new Announcer();

function sentence(number, counter) {
  return counter ? `请 ${number} 号 到 ${counter} 号窗口 办理` : `请 ${number} 号`;
}

function showFlash(item) {
  const f = $("flash");
  f.textContent = item.text;
  f.classList.toggle("green", item.channel === "green");
  f.classList.remove("hidden");
  const tile = document.querySelector(`.d-counter[data-counter="${item.counter}"]`);
  if (tile) {
    tile.classList.remove("flash");
    void tile.offsetWidth; // restart the animation
    tile.classList.add("flash");
  }
}

function hideFlash() {
  $("flash").classList.add("hidden");
}

// ---------------------------------------------------------------- render --
function fmt(date, opts) {
  return new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "zh-CN", { timeZone: state.tz || "Asia/Shanghai", ...opts }).format(date);
}

function tick() {
  const now = new Date(Date.now() + state.offset);
  $("date").textContent = fmt(now, { year: "numeric", month: "long", day: "numeric", weekday: "long" });
  $("time").textContent = fmt(now, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

function renderCounters() {
  const s = state.snap;
  $("counters").replaceChildren(
    ...s.counters.map((c) => {
      const cur = c.current;
      const paused = c.state !== "open";
      const cls = ["d-counter", cur && cur.channel === "green" ? "green" : "", paused && !cur ? "paused" : ""].join(" ");
      let big = cur ? cur.number : t("display.idle");
      if (!cur && c.state === "paused") big = t("display.paused");
      if (!cur && c.state === "closed") big = t("display.closed");
      if (!cur && !s.open_now) big = t("display.rest");
      return el("div", { class: cls, dataset: { counter: c.number } },
        el("div", { class: "d-cname" }, t("display.window", { n: c.number })),
        el("div", { class: "d-cnum" }, big),
        el("div", { class: "d-csvc" }, cur ? cur.service_name : "\u00a0"));
    }),
  );
}

function renderSide() {
  const s = state.snap;
  $("calls").replaceChildren(
    ...s.calls.slice(0, 6).map((c) =>
      el("li", { class: c.channel === "green" ? "green" : "" },
        el("span", { class: "n" }, c.number),
        el("span", {}, c.counter ? t("display.window", { n: c.counter }) : "")),
    ),
  );
  $("waiting-total").textContent = t("display.total", { n: s.waiting_total });
  $("waiting").replaceChildren(
    ...s.waiting.filter((w) => w.waiting > 0).map((w) =>
      el("tr", {},
        el("td", {}, currentLang() === "en" && w.name_en ? w.name_en : w.name,
          w.green ? el("span", { class: "g" }, t("display.green", { n: w.green })) : null),
        el("td", { class: "c" }, w.waiting)),
    ),
  );
  const parts = [s.notice || t("display.welcome")];
  if (!s.open_now) {
    // Closed: say so first, and when it opens, instead of inviting people to take a ticket.
    parts.splice(0, 1, t(s.day_kind === "holiday" ? "display.holiday" : "display.shut"));
    if (s.opens_at) {
      const when = fmt(new Date(s.opens_at), { month: "long", day: "numeric", weekday: "long", hour: "2-digit", minute: "2-digit", hour12: false });
      parts.splice(1, 0, t("display.opens", { when }));
    }
    if (s.notice) parts.push(s.notice);
  }
  if (s.hotline) parts.push(t("display.hotline", { n: s.hotline }));
  const text = parts.join("　　　");
  if ($("notice").textContent !== text) {
    $("notice").textContent = text;
    $("notice").style.setProperty("--marquee-seconds", `${Math.max(20, text.length * 0.45)}s`);
  }
}

function render() {
  if (!state.snap) return;
  $("hall-name").textContent = state.snap.hall_name;
  renderCounters();
  renderSide();
  tick();
}

// ---------------------------------------------------------------- data ----
async function loadSnapshot({ announceMissed }) {
  const snap = await api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/display`);
  state.snap = snap;
  state.offset = new Date(snap.local_time).getTime() - Date.now();
  if (announceMissed) {
    // A gap too large to replay: announce calls we have not seen, oldest first.
    const missed = snap.calls.filter((c) => Date.parse(c.at) > state.lastCallAt).reverse();
    for (const c of missed) announcer.push({ text: c.text, number: c.number, counter: c.counter, channel: c.channel, kind: "called" });
  }
  for (const c of snap.calls) state.lastCallAt = Math.max(state.lastCallAt, Date.parse(c.at));
  render();
  return snap.seq;
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => loadSnapshot({ announceMissed: false }).catch(() => {}), 150);
}

function onEvent(ev) {
  const d = ev.data || {};
  if (ev.type === "ticket.called" || ev.type === "ticket.recalled") {
    const text = sentence(d.number, d.counter);
    announcer.push({ text, number: d.number, counter: d.counter, channel: d.channel, kind: ev.type.slice(7), seq: ev.seq });
    state.lastCallAt = Math.max(state.lastCallAt, Date.parse(ev.at));
    // Show it at once; the snapshot that follows fills in the rest.
    if (state.snap) {
      const c = state.snap.counters.find((x) => x.number === d.counter);
      if (c) c.current = { number: d.number, state: "called", service: d.service, service_name: d.service_name, channel: d.channel };
      if (ev.type === "ticket.called") {
        state.snap.calls.unshift({ number: d.number, counter: d.counter, service_name: d.service_name, channel: d.channel, at: ev.at, text });
      }
      render();
    }
  }
  refreshSoon();
}

const q = token ? `?token=${encodeURIComponent(token)}` : "";
const stream = new EventStream(`/ws/halls/${encodeURIComponent(hallCode)}/display${q}`, {
  onSnapshot: async () => {
    const seq = await loadSnapshot({ announceMissed: state.loaded });
    state.loaded = true;
    return seq;
  },
  onEvent,
  onStatus: (up) => $("conn").classList.toggle("off", !up),
});

window.hallq = { announcements: announcer.items, announcer, state, stream };

applyStatic();
document.addEventListener("hallq:lang", () => {
  applyStatic();
  render();
});
if ("speechSynthesis" in window) speechSynthesis.getVoices(); // voices load lazily
setInterval(tick, 1000);
// Opening and closing happen without an event: look again every minute.
const refresh = () => loadSnapshot({ announceMissed: false }).catch(() => {});
setInterval(refresh, 60_000);
window.hallq.refresh = refresh;
stream.start().catch(() => setTimeout(() => location.reload(), 5000));
