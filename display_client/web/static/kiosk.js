// Self-service ticket kiosk: pick an item, see its materials, take a ticket.
// At most three taps (green channel, item, take); scanners type like a keyboard,
// or (serial scanners) reach the page through `hallq scanner-bridge` on this PC.
import { api, ApiError, deviceToken, el, EventStream, localMessage, pathParam } from "./api.js";
import { applyStatic, currentLang, register, t, toggleLang } from "./i18n.js";

register({
  "zh-CN": {
    "kiosk.subtitle": "自助取号",
    "kiosk.green": "老年人 / 行动不便 绿色通道",
    "kiosk.green.hint": "点此优先办理，再选择业务",
    "kiosk.green.on": "已选择绿色通道",
    "kiosk.pick": "请选择要办理的业务",
    "kiosk.waiting": "等候 {n} 人",
    "kiosk.checkin": "预约签到",
    "kiosk.checkin.title": "预约签到",
    "kiosk.checkin.hint": "请扫描预约二维码，或输入预约码",
    "kiosk.checkin.go": "签到取号",
    "kiosk.scan.hint": "可直接扫描身份证号码或二维码",
    "kiosk.scan.id": "已读取身份证：{masked}",
    "kiosk.scan.id.green": "已读取身份证：{masked}，已为您转入老年人绿色通道",
    "kiosk.scan.other": "已读取二维码",
    "kiosk.materials": "请备齐以下材料（一次性告知）",
    "kiosk.materials.none": "本业务无需携带材料",
    "kiosk.back": "返回",
    "kiosk.take": "取号",
    "kiosk.printed": "请取走号票，留意叫号",
    "kiosk.unprinted": "很抱歉，打印机暂时无法出票（{reason}）。您的号已排上，请用手机拍下本屏幕，凭号码办理。",
    "kiosk.ahead.label": "前面还有",
    "kiosk.ahead": "{n} 人",
    "kiosk.wait.label": "预计等候",
    "kiosk.wait": "约 {n} 分钟",
    "kiosk.wait.unknown": "稍候",
    "kiosk.qr": "手机扫码，随时查看排队进度",
    "kiosk.issued": "取号时间 {time}",
    "kiosk.done": "完成",
    "kiosk.closed": "现在不是办理时间，暂停取号",
    "kiosk.closed.holiday": "今天是法定节假日，暂停办理",
    "kiosk.closed.checkin": "已预约？点此签到",
    "kiosk.opens": "下次开放：{when}",
    "kiosk.opens.unknown": "开放时间请咨询工作人员",
    "kiosk.hotline": "服务热线",
    "kiosk.printer.warn": "打印机{state}：取号后请拍下屏幕上的号码",
    "kiosk.no_token": "本机尚未配对，请联系管理员（需要自助机设备令牌）",
    "kiosk.printer.unknown": "暂不可用",
    "kiosk.printer.state.paper_out": "缺纸",
    "kiosk.printer.state.paper_near_end": "纸将用完",
    "kiosk.printer.state.cover_open": "上盖打开",
    "kiosk.printer.state.offline": "离线",
    "kiosk.clear": "清空",
    "kiosk.scanner.ok": "扫码器已连接",
    "kiosk.scanner.port-down": "扫码桥运行中，但扫码器未连接",
    "kiosk.scanner.down": "扫码桥未运行（hallq scanner-bridge）",
    "kiosk.early": "签到时间未到，请于 {when} 后再来签到",
    "kiosk.late": "已超过签到时间（{time}），本次预约不能签到。您可以改取普通号办理。",
    "kiosk.late.take": "取普通号：{service}",
  },
  en: {
    "kiosk.subtitle": "Take a ticket",
    "kiosk.green": "Elderly / limited mobility green channel",
    "kiosk.green.hint": "Tap for priority, then choose a service",
    "kiosk.green.on": "Green channel selected",
    "kiosk.pick": "Please choose a service",
    "kiosk.waiting": "{n} waiting",
    "kiosk.checkin": "Appointment check-in",
    "kiosk.checkin.title": "Appointment check-in",
    "kiosk.checkin.hint": "Scan the appointment QR code or key in the code",
    "kiosk.checkin.go": "Check in",
    "kiosk.scan.hint": "You can scan an ID card number or a QR code",
    "kiosk.scan.id": "ID card read: {masked}",
    "kiosk.scan.id.green": "ID card read: {masked}; you are in the elderly green channel",
    "kiosk.scan.other": "QR code read",
    "kiosk.materials": "Please bring these materials",
    "kiosk.materials.none": "No materials are needed for this service",
    "kiosk.back": "Back",
    "kiosk.take": "Take a ticket",
    "kiosk.printed": "Please take your ticket and watch for your number",
    "kiosk.unprinted": "Sorry, the printer cannot print right now ({reason}). You are in the queue: please take a photo of this screen and keep your number.",
    "kiosk.ahead.label": "Ahead of you",
    "kiosk.ahead": "{n}",
    "kiosk.wait.label": "Estimated wait",
    "kiosk.wait": "about {n} min",
    "kiosk.wait.unknown": "shortly",
    "kiosk.qr": "Scan with your phone to follow the queue",
    "kiosk.issued": "Issued at {time}",
    "kiosk.done": "Done",
    "kiosk.closed": "The hall is closed; no tickets now",
    "kiosk.closed.holiday": "Public holiday: the hall is closed today",
    "kiosk.closed.checkin": "Booked? Check in here",
    "kiosk.opens": "Opens: {when}",
    "kiosk.opens.unknown": "Please ask the staff for opening hours",
    "kiosk.hotline": "Hotline",
    "kiosk.printer.warn": "Printer {state}: please photograph your number on the screen",
    "kiosk.printer.state.paper_out": "out of paper",
    "kiosk.printer.state.paper_near_end": "running low on paper",
    "kiosk.printer.state.cover_open": "cover open",
    "kiosk.printer.state.offline": "offline",
    "kiosk.no_token": "This kiosk is not paired yet; please call the administrator (kiosk device token needed)",
    "kiosk.printer.unknown": "unavailable",
    "kiosk.clear": "Clear",
    "kiosk.scanner.ok": "Scanner connected",
    "kiosk.scanner.port-down": "Scanner bridge running, scanner not connected",
    "kiosk.scanner.down": "Scanner bridge not running (hallq scanner-bridge)",
    "kiosk.early": "Too early to check in: please come back after {when}",
    "kiosk.late": "Check-in closed at {time}; this booking can no longer check in. You can take a normal ticket instead.",
    "kiosk.late.take": "Take a normal ticket: {service}",
  },
});

const IDLE_MS = 15000;
const hallCode = pathParam(1);
const token = deviceToken("kiosk");
const $ = (id) => document.getElementById(id);

const state = {
  hall: null,
  services: [],
  green: false,
  idNumber: null, // from a scan; sent so the server can route by age
  selected: null,
  key: null, // Idempotency-Key of the ticket being taken
  ticket: null,
  code: "",
  printer: null,
  serverOffset: 0, // server local time minus browser time, for the clock
};

// Exposed for tests and the support console.
window.hallq = { state };

function show(screen) {
  for (const s of document.querySelectorAll(".k-screen")) s.classList.toggle("hidden", s.id !== `screen-${screen}`);
  state.screen = screen;
  document.body.dataset.screen = screen;
}

function error(msg) {
  const box = $("error");
  box.textContent = localMessage(msg || "", currentLang());
  box.classList.toggle("hidden", !msg);
}

function serviceName(svc) {
  return svc.name_zh;
}

// The item as the resident reads it: Chinese, and in English both names (as on the item buttons).
function shownName(svc) {
  return serviceName(svc) + (currentLang() === "en" && svc.name_en ? ` · ${svc.name_en}` : "");
}

// ---- idle timer: back to the start after 15 s without a touch ----
// Also on the start screen while it holds one resident's choices (a scanned ID
// number, the green channel, an item): the next person must not take a ticket
// carrying them.
let idleTimer = null;
function touch() {
  clearTimeout(idleTimer);
  const personal = state.idNumber || state.green || state.selected;
  if ((state.screen && state.screen !== "start" && state.screen !== "closed") || personal) {
    idleTimer = setTimeout(reset, IDLE_MS);
  }
}
function reset() {
  clearTimeout(idleTimer);
  state.green = false;
  state.idNumber = null;
  state.selected = null;
  state.key = null;
  state.ticket = null;
  state.code = "";
  hideOffer();
  $("scan-info").classList.add("hidden");
  error("");
  renderGreen();
  show(state.hall && !state.hall.open_now ? "closed" : "start");
  refresh();
}
for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touch, true);

// ---- rendering ----
function renderGreen() {
  const b = $("green");
  b.setAttribute("aria-pressed", state.green ? "true" : "false");
  b.querySelector(".k-green-hint").textContent = state.green ? t("kiosk.green.on") : t("kiosk.green.hint");
}

function renderServices() {
  const box = $("services");
  box.replaceChildren(
    ...state.services.map((svc) =>
      el(
        "button",
        { class: "k-service", dataset: { service: svc.code }, onclick: () => choose(svc) },
        el("span", { class: "zh" }, serviceName(svc)),
        currentLang() === "en" && svc.name_en ? el("span", { class: "en" }, svc.name_en) : null,
        el("span", { class: "waiting" }, t("kiosk.waiting", { n: svc.waiting })),
      ),
    ),
  );
}

function formatLocal(iso, opts) {
  const tz = (state.hall && state.hall.timezone) || "Asia/Shanghai";
  return new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "zh-CN", { timeZone: tz, ...opts }).format(new Date(iso));
}

function renderHall() {
  const h = state.hall;
  if (!h) return;
  $("hall-name").textContent = h.name;
  $("hotline").textContent = h.hotline || "";
  if (!h.open_now) {
    document.querySelector("#screen-closed .k-closed-title").textContent = t(
      h.day_kind === "holiday" ? "kiosk.closed.holiday" : "kiosk.closed",
    );
    $("opens-at").textContent = h.opens_at
      ? t("kiosk.opens", {
          when: formatLocal(h.opens_at, { month: "long", day: "numeric", weekday: "long", hour: "2-digit", minute: "2-digit" }),
        })
      : t("kiosk.opens.unknown");
    if (state.screen === "start" || !state.screen) show("closed");
  } else if (state.screen === "closed" || !state.screen) {
    show("start");
  }
}

// The printer's state in the resident's language (the server's text is Chinese).
function printerState(p) {
  const key = `kiosk.printer.state.${p.state}`;
  const text = t(key);
  if (text !== key) return text;
  return currentLang() === "en" ? t("kiosk.printer.unknown") : p.text || t("kiosk.printer.unknown");
}

function renderPrinter() {
  const p = state.printer;
  const box = $("printer-warning");
  // "off" means this hall has no printer at all: nothing to warn about.
  const bad = p && p.mode !== "off" && p.can_print === false;
  box.classList.toggle("hidden", !bad);
  if (bad) box.textContent = t("kiosk.printer.warn", { state: printerState(p) });
}

function tick() {
  const now = new Date(Date.now() + state.serverOffset);
  $("clock").textContent = formatLocal(now.toISOString(), { hour: "2-digit", minute: "2-digit" });
}

// ---- data ----
async function refresh() {
  try {
    const [hall, services] = await Promise.all([
      api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}`),
      api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/services`),
    ]);
    state.hall = hall;
    state.services = services;
    state.serverOffset = new Date(hall.local_time).getTime() - Date.now();
    renderHall();
    renderServices();
    tick();
  } catch (e) {
    error(e.message);
  }
  await refreshPrinter();
}

async function refreshPrinter() {
  if (!token) return;
  try {
    state.printer = await api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/printer`, { token });
  } catch (e) {
    // 404: this server has no printer information; say nothing.
    state.printer = null;
  }
  renderPrinter();
}

// ---- flow ----
function choose(svc) {
  state.selected = svc;
  state.key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  $("m-service").textContent = shownName(svc);
  $("m-channel").classList.toggle("hidden", !state.green);
  const list = $("m-list");
  list.replaceChildren(...(svc.materials.length ? svc.materials.map((m) => el("li", {}, m)) : [el("li", {}, t("kiosk.materials.none"))]));
  $("m-guide").textContent = svc.guide || "";
  $("take").disabled = false;
  show("materials");
  touch();
}

async function take(extra = {}, button = null) {
  const btn = button || (state.screen === "checkin" ? $("checkin-go") : $("take"));
  if (btn.disabled) return; // a double tap: the first tap is already on its way
  btn.disabled = true;
  error("");
  // With an appointment the booking decides the item, so no service is sent.
  const body = { ...extra };
  if (!extra.appointment_code) {
    body.service = state.selected.code;
    if (state.green) body.channel = "green";
    if (state.idNumber) body.id_number = state.idNumber;
  }
  try {
    const ticket = await api("POST", `/api/v1/halls/${encodeURIComponent(hallCode)}/tickets`, {
      token,
      body,
      headers: { "Idempotency-Key": state.key },
    });
    state.ticket = ticket;
    renderTicket(ticket);
    show("ticket");
    touch();
  } catch (e) {
    btn.disabled = false;
    if (e instanceof ApiError && e.code === "check_in_too_early" && e.details.opens_at) {
      // The server's message is half English; residents get the time in their language.
      error(t("kiosk.early", { when: formatLocal(e.details.opens_at, { month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" }) }));
    } else if (e instanceof ApiError && e.code === "check_in_too_late") {
      offerNormal(e.details);
    } else {
      error(e instanceof ApiError ? e.message : t("error.generic"));
    }
  }
}

// Too late for the booking: the server offers a normal ticket for the same item;
// one large button takes it (the resident need not find the item again).
function offerNormal(details) {
  const svc = details.offer === "normal_ticket" && state.services.find((x) => x.code === details.service);
  const closed = details.closed_at ? formatLocal(details.closed_at, { hour: "2-digit", minute: "2-digit" }) : "";
  $("late-text").textContent = t("kiosk.late", { time: closed });
  const btn = $("take-normal");
  btn.classList.toggle("hidden", !svc);
  btn.disabled = !svc;
  state.offer = svc || null;
  if (svc) btn.textContent = t("kiosk.late.take", { service: shownName(svc) });
  $("checkin-late").classList.remove("hidden");
}

function hideOffer() {
  state.offer = null;
  $("checkin-late").classList.add("hidden");
}

function takeNormal() {
  if (!state.offer) return;
  state.selected = state.offer;
  // A new ticket, not a replay of the refused check-in: its own Idempotency-Key.
  state.key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  take({}, $("take-normal"));
}

function renderTicket(tk) {
  $("t-service").textContent = tk.service_name + (currentLang() === "en" && tk.service_name_en ? ` · ${tk.service_name_en}` : "");
  $("t-number").textContent = tk.number;
  $("t-channel").classList.toggle("hidden", tk.channel !== "green");
  $("t-ahead").textContent = tk.ahead === null ? "—" : t("kiosk.ahead", { n: tk.ahead });
  $("t-wait").textContent = tk.estimated_wait_minutes === null ? t("kiosk.wait.unknown") : t("kiosk.wait", { n: tk.estimated_wait_minutes });
  const tokenPart = tk.status_url.split("/t/")[1] || "";
  $("t-qr").src = `/api/v1/qr/${encodeURIComponent(tokenPart)}.svg`;
  $("t-issued").textContent = t("kiosk.issued", { time: formatLocal(tk.issued_at, { hour: "2-digit", minute: "2-digit", second: "2-digit" }) });
  // printed === false: the printer failed; null: no printer (or not known yet).
  const failed = tk.printed === false;
  $("t-printed").classList.toggle("hidden", tk.printed !== true);
  $("t-unprinted").classList.toggle("hidden", !failed);
  $("t-unprinted").textContent = failed ? t("kiosk.unprinted", { reason: tk.print_error || t("kiosk.printer.unknown") }) : "";
  // Without a paper ticket the resident needs the materials list on screen too.
  $("t-materials-box").classList.toggle("hidden", !failed);
  $("t-materials").replaceChildren(...(tk.materials || []).map((m) => el("li", {}, m)));
}

// ---- check-in keypad ----
function renderCode() {
  hideOffer();
  $("code").textContent = state.code || "\u00a0";
  $("checkin-go").disabled = state.code.length < 4;
}
function buildKeypad() {
  const keys = ["1", "2", "3", "⌫", "4", "5", "6", "Y", "7", "8", "9", "clear", "0"];
  $("keypad").replaceChildren(
    ...keys.map((k) =>
      el("button", {
        dataset: { key: k },
        onclick: () => {
          if (k === "⌫") state.code = state.code.slice(0, -1);
          else if (k === "clear") state.code = "";
          else if (state.code.length < 16) state.code += k;
          renderCode();
        },
      }, k === "clear" ? t("kiosk.clear") : k),
    ),
  );
}
function openCheckin() {
  state.code = "";
  state.key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  renderCode();
  show("checkin");
  touch();
}
function checkin(code) {
  state.code = code.toUpperCase();
  if (state.screen !== "checkin") openCheckin();
  state.code = code.toUpperCase();
  renderCode();
  take({ appointment_code: state.code });
}

// ---- scanner: a burst of keystrokes ending in Enter ----
const ID_RE = /^\d{17}[\dXx]$/;
const APPOINTMENT_RE = /^YY[0-9A-Z]{6,14}$/i;
let scanBuf = "";
let scanAt = 0;

function ageOn(id, isoDate) {
  const [y, m, d] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)].map(Number);
  const [ty, tm, td] = isoDate.slice(0, 10).split("-").map(Number);
  let age = ty - y;
  if (tm < m || (tm === m && td < d)) age -= 1;
  return age;
}

function onScan(text) {
  text = text.trim();
  if (!text) return;
  if (APPOINTMENT_RE.test(text)) {
    checkin(text);
    return;
  }
  if (state.screen === "checkin") {
    state.code = text.toUpperCase().slice(0, 16);
    renderCode();
    return;
  }
  if (ID_RE.test(text)) {
    state.idNumber = text.toUpperCase();
    const masked = `${text.slice(0, 3)}***********${text.slice(-4)}`;
    const elderly = state.hall && ageOn(text, state.hall.local_time) >= state.hall.elderly_age;
    if (elderly) state.green = true;
    renderGreen();
    const info = $("scan-info");
    info.textContent = t(elderly ? "kiosk.scan.id.green" : "kiosk.scan.id", { masked });
    info.classList.remove("hidden");
    if (state.screen !== "start") show("start");
    touch(); // the ID is held now: arm the idle reset
    return;
  }
  const info = $("scan-info");
  info.textContent = t("kiosk.scan.other");
  info.classList.remove("hidden");
}

document.addEventListener("keydown", (ev) => {
  const now = performance.now();
  if (now - scanAt > 300) scanBuf = ""; // a human pause: not one scan
  scanAt = now;
  if (ev.key === "Enter") {
    const text = scanBuf;
    scanBuf = "";
    if (text.length >= 4) {
      ev.preventDefault();
      onScan(text);
    }
    return;
  }
  if (ev.key.length === 1) scanBuf += ev.key;
});

// ---- serial scanner: lines pushed by `hallq scanner-bridge` on this PC ----
// Opened once with ?scanner=ws://127.0.0.1:8766 (remembered like the device token;
// ?scanner=off forgets it). Each {"type":"scan","text"} goes through onScan, exactly
// like a keyboard-wedge scan. A missing bridge is retried quietly: residents see
// nothing, staff see the dot in the footer.
const SCANNER_KEY = "hallq.kiosk.scanner";

function scannerUrl() {
  const params = new URLSearchParams(location.search);
  if (params.has("scanner")) {
    const url = (params.get("scanner") || "").trim();
    if (/^wss?:\/\/./i.test(url)) localStorage.setItem(SCANNER_KEY, url);
    else localStorage.removeItem(SCANNER_KEY);
    params.delete("scanner");
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? `?${q}` : ""));
  }
  return localStorage.getItem(SCANNER_KEY);
}

function markScanner(s) {
  state.scanner = s;
  const dot = $("scanner-status");
  dot.dataset.state = s;
  dot.title = t(`kiosk.scanner.${s}`);
}

function connectScanner(url) {
  let delay = 1000;
  $("scanner-status").classList.remove("hidden");
  markScanner("down");
  const open = () => {
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      return; // not a WebSocket URL: stays "down"
    }
    ws.onopen = () => {
      delay = 1000;
    };
    ws.onmessage = (msg) => {
      let m;
      try {
        m = JSON.parse(msg.data);
      } catch (e) {
        return;
      }
      if (m.type === "scan" && typeof m.text === "string") {
        touch(); // a scan is a touch, as the keyboard scanner's keys are
        onScan(m.text);
      } else if (m.type === "status") {
        markScanner(m.port && m.port.state === "open" ? "ok" : "port-down");
      }
    };
    ws.onclose = () => {
      markScanner("down");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  open();
}

// ---- wiring ----
$("lang").addEventListener("click", toggleLang);
$("green").addEventListener("click", () => {
  state.green = !state.green;
  renderGreen();
  touch();
});
$("back").addEventListener("click", reset);
$("take").addEventListener("click", () => take());
$("done").addEventListener("click", reset);
$("checkin").addEventListener("click", openCheckin);
$("closed-checkin").addEventListener("click", openCheckin);
$("checkin-back").addEventListener("click", reset);
$("checkin-go").addEventListener("click", () => take({ appointment_code: state.code }));
$("take-normal").addEventListener("click", takeNormal);
document.addEventListener("hallq:lang", () => {
  applyStatic();
  buildKeypad();
  renderGreen();
  renderServices();
  renderHall();
  renderPrinter();
  if (state.ticket) renderTicket(state.ticket);
  if (state.offer) $("take-normal").textContent = t("kiosk.late.take", { service: shownName(state.offer) });
  if (state.scanner) markScanner(state.scanner);
  tick();
});

applyStatic();
buildKeypad();
renderGreen();
if (!token) error(t("kiosk.no_token"));
const scanner = scannerUrl();
if (scanner) connectScanner(scanner);
show("start");
refresh();
setInterval(tick, 1000);

// Live: the hall screen's public socket says when waiting counts (ticket.*), the
// catalogue or the hall (name, hours, hotline) changed; refresh at once instead
// of at the next poll. Mid-visit the screen is left alone: reset() refreshes.
// The poll below stays for what no event announces (the hours passing, the printer).
let liveTimer = null;
function onHallEvent(ev) {
  const type = ev.type || "";
  if (!(type.startsWith("ticket.") || type === "catalog.updated" || type === "hall.updated")) return;
  if (state.screen !== "start" && state.screen !== "closed") return;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(refresh, 300); // a burst of calls is one refresh
}
const live = new EventStream(`/ws/halls/${encodeURIComponent(hallCode)}/display`, {
  onSnapshot: async () => {
    // No history to replay: the kiosk reads its state afresh; the snapshot's seq
    // lets the stream notice a gap (then it comes back here).
    const [snap] = await Promise.all([
      api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/display`),
      state.hall ? refresh() : null,
    ]);
    return snap.seq;
  },
  onEvent: onHallEvent,
  onStatus: (up) => {
    document.body.dataset.live = up ? "1" : "0";
  },
});
// The server unreachable at start-up: try again later; the poll covers the meantime.
(function startLive() {
  live.start().catch(() => setTimeout(startLive, 10000));
})();
// Waiting counts, opening hours and the printer change while nobody touches the screen.
setInterval(() => {
  if (state.screen === "start" || state.screen === "closed") refresh();
  else refreshPrinter();
}, 10000);
