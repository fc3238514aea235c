// Counter page: staff log in, pick a counter, and drive it with big buttons
// or one-key shortcuts. All state comes from the server; events only say
// "something changed", so a reload or a dropped connection loses nothing.
import { api, ApiError, el, EventStream, login, setStaffToken, staffToken } from "./api.js";
import { applyStatic, register, t, toggleLang } from "./i18n.js";
import { PrinterWatch } from "./printer-status.js";

register({
  "zh-CN": {
    "counter.title": "窗口叫号",
    "counter.window": "{n} 号窗口",
    "counter.pick": "请选择您的窗口",
    "counter.switch": "换窗口",
    "counter.live": "实时",
    "counter.offline": "连接中断",
    "counter.current": "当前号",
    "counter.none": "暂无",
    "counter.call_next": "叫号",
    "counter.recall": "重呼",
    "counter.start": "开始办理",
    "counter.finish": "办结",
    "counter.no_show": "过号",
    "counter.hold": "挂起",
    "counter.callback": "回呼",
    "counter.transfer": "转移",
    "counter.call_number": "指定叫号",
    "counter.pause": "暂停",
    "counter.resume": "恢复",
    "counter.paused": "本窗口已暂停服务，按“恢复”继续叫号",
    "counter.target": "目标 {n} 分钟",
    "counter.recalls": "已重呼 {n} 次",
    "counter.queue": "等候队列",
    "counter.queue.count": "（共 {n} 人）",
    "counter.queue.empty": "暂无等候",
    "counter.col.pos": "序",
    "counter.col.number": "号码",
    "counter.col.service": "业务",
    "counter.col.waited": "已等",
    "counter.minutes": "{n} 分",
    "counter.outcome.title": "选择办结结果（按 1-4）",
    "outcome.completed": "办结",
    "outcome.incomplete_papers": "容缺受理",
    "outcome.informed": "一次性告知",
    "outcome.proxy": "帮办代办",
    "counter.cancel": "取消",
    "counter.ok": "确定",
    "counter.number.title": "输入要呼叫的号码",
    "counter.callback.title": "回呼挂起的号码",
    "counter.transfer.title": "转移到其他业务或窗口（保留排队位置）",
    "counter.transfer.service": "业务",
    "counter.transfer.counter": "窗口",
    "counter.transfer.any": "（不指定）",
    "counter.today.served": "今日办结",
    "counter.today.avg": "平均用时",
    "counter.today.over": "超时",
    "counter.today.no_show": "过号",
    "counter.duration": "{m} 分 {s} 秒",
    "counter.held.none": "暂无挂起的号码",
    "counter.held.at": "{n} 号窗口挂起",
    "counter.issue": "取号",
    "counter.issue.title": "为居民取号（无自助机时使用）",
    "counter.issue.service": "业务",
    "counter.issue.green": "老年人 / 行动不便 绿色通道",
    "counter.issue.go": "取号",
    "counter.issue.number": "新号码",
    "counter.issue.ahead": "前面 {n} 人",
    "counter.issue.printed": "号票已打印",
    "counter.issue.unprinted": "未能打印（{reason}），请告知居民号码",
    "counter.issue.another": "再取一张",
    "counter.issue.done": "完成",
    "counter.book": "代为预约",
  },
  en: {
    "counter.title": "Counter",
    "counter.window": "Counter {n}",
    "counter.pick": "Choose your counter",
    "counter.switch": "Switch counter",
    "counter.live": "Live",
    "counter.offline": "Disconnected",
    "counter.current": "Current",
    "counter.none": "None",
    "counter.call_next": "Call next",
    "counter.recall": "Recall",
    "counter.start": "Start",
    "counter.finish": "Finish",
    "counter.no_show": "No-show",
    "counter.hold": "Hold",
    "counter.callback": "Call back",
    "counter.transfer": "Transfer",
    "counter.call_number": "Call number",
    "counter.pause": "Pause",
    "counter.resume": "Resume",
    "counter.paused": "This counter is paused; press Resume to call again",
    "counter.target": "target {n} min",
    "counter.recalls": "recalled {n}×",
    "counter.queue": "Waiting",
    "counter.queue.count": "({n})",
    "counter.queue.empty": "Nobody is waiting",
    "counter.col.pos": "#",
    "counter.col.number": "Number",
    "counter.col.service": "Service",
    "counter.col.waited": "Waited",
    "counter.minutes": "{n} min",
    "counter.outcome.title": "Choose the outcome (keys 1-4)",
    "outcome.completed": "Completed",
    "outcome.incomplete_papers": "Accepted, papers to follow",
    "outcome.informed": "Told what to bring",
    "outcome.proxy": "Handled on their behalf",
    "counter.cancel": "Cancel",
    "counter.ok": "OK",
    "counter.number.title": "Number to call",
    "counter.callback.title": "Call back a held number",
    "counter.transfer.title": "Transfer to another service or counter (keeps the place)",
    "counter.transfer.service": "Service",
    "counter.transfer.counter": "Counter",
    "counter.transfer.any": "(any)",
    "counter.today.served": "Served today",
    "counter.today.avg": "Average",
    "counter.today.over": "Over target",
    "counter.today.no_show": "No-shows",
    "counter.duration": "{m} min {s} s",
    "counter.held.none": "No held numbers",
    "counter.held.at": "held at counter {n}",
    "counter.issue": "Issue ticket",
    "counter.issue.title": "Issue a ticket for a resident (where there is no kiosk)",
    "counter.issue.service": "Service",
    "counter.issue.green": "Elderly / limited mobility green channel",
    "counter.issue.go": "Issue",
    "counter.issue.number": "New number",
    "counter.issue.ahead": "{n} ahead",
    "counter.issue.printed": "Ticket printed",
    "counter.issue.unprinted": "Not printed ({reason}); tell the resident the number",
    "counter.issue.another": "Another",
    "counter.issue.done": "Done",
    "counter.book": "Book for a resident",
  },
});

const $ = (id) => document.getElementById(id);
const OUTCOMES = ["completed", "incomplete_papers", "informed", "proxy"];
const KEYS = { n: "call-next", r: "recall", s: "start", f: "finish", x: "no-show", h: "hold", b: "callback", t: "transfer", c: "call", p: "pause", i: "issue" };

const state = {
  me: null,
  hall: null,
  counterId: null,
  counter: null,
  fetchedAt: 0,
  queue: [],
  services: [],
  today: null,
  stream: null,
  busy: false,
  printer: null, // PrinterWatch of the hall's kiosk printer
};
window.hallq = { state };

function error(msg) {
  $("error").textContent = msg || "";
  $("error").classList.toggle("hidden", !msg);
}

function view(name) {
  for (const id of ["login", "pick", "desk"]) $(id).classList.toggle("hidden", id !== name);
  $("logout").classList.toggle("hidden", name === "login");
  $("switch").classList.toggle("hidden", name !== "desk");
  renderPrinter();
}

function token() {
  return staffToken();
}

async function call(method, path, body) {
  try {
    return await api(method, path, { token: token(), body });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setStaffToken(null);
      start();
    }
    throw e;
  }
}

// ---- start-up: login -> hall -> counter ----
async function start() {
  applyStatic();
  if (!token()) {
    view("login");
    $("who").textContent = "";
    return;
  }
  try {
    state.me = await call("GET", "/api/v1/auth/me");
  } catch (e) {
    error(e.message);
    return;
  }
  $("who").textContent = state.me.display_name || state.me.name;
  const params = new URLSearchParams(location.search);
  const halls = state.me.halls && state.me.halls.length ? state.me.halls : (await api("GET", "/api/v1/halls")).map((h) => h.code);
  state.hall = params.get("hall") || sessionStorage.getItem("hallq.counter.hall") || halls[0];
  const saved = Number(params.get("counter") || sessionStorage.getItem("hallq.counter.id") || 0);
  if (saved) {
    await openCounter(saved);
  } else {
    await pickCounter();
  }
}

async function pickCounter() {
  view("pick");
  try {
    const counters = await call("GET", `/api/v1/halls/${encodeURIComponent(state.hall)}/counters`);
    $("counters").replaceChildren(
      ...counters.map((c) =>
        el("button", { class: "btn", dataset: { counter: c.number }, onclick: () => openCounter(c.id) },
          t("counter.window", { n: c.number }), el("br"), el("small", {}, c.staff || c.name)),
      ),
    );
  } catch (e) {
    error(e.message);
  }
}

async function openCounter(id) {
  state.counterId = id;
  sessionStorage.setItem("hallq.counter.id", String(id));
  sessionStorage.setItem("hallq.counter.hall", state.hall);
  view("desk");
  $("book-for").href = `/book/${encodeURIComponent(state.hall)}?staff=1`;
  try {
    state.services = await api("GET", `/api/v1/halls/${encodeURIComponent(state.hall)}/services`);
  } catch (e) {
    error(e.message);
  }
  if (state.stream) state.stream.close();
  if (!state.printer || state.printer.hall !== state.hall) state.printer = new PrinterWatch(state.hall, token, renderPrinter);
  state.stream = new EventStream(`/ws/staff?token=${encodeURIComponent(token())}&hall=${encodeURIComponent(state.hall)}`, {
    onSnapshot: async () => {
      await Promise.all([refresh(), state.printer ? state.printer.refresh() : null]);
      const snap = await api("GET", `/api/v1/halls/${encodeURIComponent(state.hall)}/display`);
      return snap.seq;
    },
    onEvent: onEvent,
    onDenied: () => {
      // The account was deactivated or its login expired: log in again.
      setStaffToken(null);
      start();
    },
    onStatus: (up) => {
      $("live").classList.toggle("off", !up);
      $("live").textContent = t(up ? "counter.live" : "counter.offline");
      if (up) {
        refresh();
        if (state.printer) state.printer.refresh();
      }
    },
  });
  state.stream.start().catch((e) => error(e.message));
}

// ---- data ----
async function refresh() {
  if (!state.counterId) return;
  try {
    const [counter, queue, today] = await Promise.all([
      call("GET", `/api/v1/counters/${state.counterId}`),
      call("GET", `/api/v1/halls/${encodeURIComponent(state.hall)}/queue`),
      call("GET", `/api/v1/counters/${state.counterId}/today`),
    ]);
    state.counter = counter;
    state.fetchedAt = performance.now();
    state.queue = queue;
    state.today = today;
    render();
  } catch (e) {
    error(e.message);
  }
}

let refreshTimer = null;
function onEvent(ev) {
  // A printer's state changed: the banner asks again; the queue is untouched.
  if (state.printer && state.printer.onEvent(ev)) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 120); // a burst of events is one refresh
}

// ---- rendering ----
// The kiosk's printer in trouble: a banner under the top bar, never in the way
// of the buttons. Nothing while it prints, or when the hall does not print.
function renderPrinter() {
  const box = $("printer-banner");
  const b = state.printer && !$("desk").classList.contains("hidden") ? state.printer.banner() : null;
  box.classList.toggle("hidden", !b);
  box.dataset.level = b ? b.level : "";
  box.dataset.state = b ? b.state : "";
  // What the server said ("local", "agent", "off"; empty before it answered).
  box.dataset.mode = (state.printer && state.printer.printer && state.printer.printer.mode) || "";
  box.textContent = b ? b.text : "";
}

function fmtDuration(sec) {
  const m = Math.floor(sec / 60);
  const s = sec % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function elapsed() {
  const c = state.counter;
  if (!c || c.elapsed_seconds === null) return null;
  // Server elapsed at fetch time plus what passed since: no reliance on the
  // browser's clock agreeing with the server's.
  return c.elapsed_seconds + Math.floor((performance.now() - state.fetchedAt) / 1000);
}

function clockLevel(sec) {
  const tk = state.counter && state.counter.ticket;
  if (!tk || !tk.started_at || sec === null) return "none";
  const target = tk.target_minutes * 60;
  if (sec > target) return "red";
  if (sec >= 0.8 * target) return "amber";
  return "ok";
}

function renderClock() {
  const sec = elapsed();
  const box = $("cur-clock");
  box.textContent = sec === null ? "--:--" : fmtDuration(sec);
  box.dataset.level = clockLevel(sec);
}

function render() {
  const c = state.counter;
  if (!c) return;
  $("where").textContent = `· ${t("counter.window", { n: c.number })}`;
  const tk = c.ticket;
  $("cur-number").textContent = tk ? tk.number : t("counter.none");
  $("cur-service").replaceChildren(
    ...(tk ? [tk.service_name, " ", tk.channel === "green" ? el("span", { class: "tag-green" }, t("channel.green")) : null] : []),
  );
  $("cur-state").textContent = tk ? t(`state.${tk.state}`) + (tk.recall_count ? ` · ${t("counter.recalls", { n: tk.recall_count })}` : "") : "";
  $("cur-target").textContent = tk ? t("counter.target", { n: tk.target_minutes }) : "";
  renderClock();
  const paused = c.state === "paused";
  $("paused").classList.toggle("hidden", !paused);
  $("pause-label").textContent = t(paused ? "counter.resume" : "counter.pause");
  const enabled = {
    "call-next": !tk && !paused,
    recall: tk && tk.state === "called",
    start: tk && tk.state === "called",
    finish: tk && tk.state === "serving",
    "no-show": tk && tk.state === "called",
    hold: tk && (tk.state === "called" || tk.state === "serving"),
    callback: !tk && !paused,
    transfer: !!tk,
    call: !tk && !paused,
    pause: true,
    issue: true,
  };
  for (const b of document.querySelectorAll("[data-action]")) b.disabled = !enabled[b.dataset.action] || state.busy;
  // Held numbers come with the counter snapshot: holds made at a keypad, in
  // another browser or before a reload are all there.
  const held = c.held || [];
  $("held-count").textContent = held.length ? String(held.length) : "";
  $("held-count").classList.toggle("hidden", !held.length);

  $("queue-count").textContent = t("counter.queue.count", { n: state.queue.length });
  $("queue").replaceChildren(
    ...(state.queue.length
      ? state.queue.map((q) =>
          el("tr", { class: q.channel === "green" ? "green" : "", dataset: { number: q.number } },
            el("td", {}, q.position),
            el("td", { class: "num" }, q.number, " ", q.channel === "green" ? el("span", { class: "tag-green" }, t("channel.green")) : null),
            el("td", {}, q.service_name),
            el("td", {}, t("counter.minutes", { n: q.waited_minutes }))),
        )
      : [el("tr", {}, el("td", { colspan: 4 }, t("counter.queue.empty")))]),
  );
  const d = state.today;
  if (d) {
    const avg = d.average_service_seconds;
    $("today").replaceChildren(
      el("span", {}, t("counter.today.served"), " ", el("b", { id: "today-served" }, d.served)),
      el("span", {}, t("counter.today.avg"), " ", el("b", { id: "today-avg" }, avg === null ? "—" : t("counter.duration", { m: Math.floor(avg / 60), s: avg % 60 }))),
      el("span", {}, t("counter.today.over"), " ", el("b", {}, d.over_target)),
      el("span", {}, t("counter.today.no_show"), " ", el("b", {}, d.no_show)),
    );
  }
}

// ---- actions ----
async function act(action, body) {
  if (state.busy) return;
  state.busy = true;
  error("");
  render();
  try {
    const res = await call("POST", `/api/v1/counters/${state.counterId}/${action}`, body);
    state.counter = res.counter;
    state.fetchedAt = performance.now();
    closeDialog();
  } catch (e) {
    error(e.message);
  } finally {
    state.busy = false;
    await refresh();
  }
}

function closeDialog() {
  $("dialog").classList.add("hidden");
  $("dialog").replaceChildren();
  state.dialog = null;
}

function dialog(name, ...children) {
  state.dialog = name;
  const box = $("dialog");
  box.replaceChildren(...children);
  box.classList.remove("hidden");
  const first = box.querySelector("input, select");
  if (first) first.focus();
}

// suggestions: [{ number, note? }]: one tap calls that number.
function numberDialog(titleKey, suggestions, emptyKey) {
  const input = el("input", { id: "dialog-number", maxlength: 8, placeholder: "A012", autocomplete: "off" });
  const go = () => act("call", { number: input.value.trim().toUpperCase() });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") go();
  });
  dialog(titleKey,
    el("h3", {}, t(titleKey)),
    el("div", { class: "row" }, input,
      el("button", { class: "btn", onclick: go }, t("counter.ok")),
      el("button", { class: "btn secondary", onclick: closeDialog }, t("counter.cancel"))),
    suggestions.length
      ? el("div", { class: "row c-suggest" }, ...suggestions.map((x) =>
          el("button", { class: "btn secondary", dataset: { number: x.number }, onclick: () => act("call", { number: x.number }) },
            x.number, x.note ? el("small", {}, x.note) : null)))
      : emptyKey ? el("p", { class: "c-empty" }, t(emptyKey)) : null);
}

// 取号 at the desk: village points may have no kiosk, so staff issue the ticket
// (and the hall's printer, if any, prints it as for a kiosk ticket).
function issueDialog() {
  const svc = el("select", { id: "issue-service" },
    ...state.services.map((s) => el("option", { value: s.code }, s.name_zh)));
  const green = el("input", { id: "issue-green", type: "checkbox" });
  const result = el("div", { id: "issue-result", class: "c-issued hidden", "aria-live": "polite" });
  const go = el("button", { id: "issue-go", class: "btn" }, t("counter.issue.go"));
  // One key per ticket: a double click issues (and prints) once.
  let key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  go.addEventListener("click", async () => {
    if (go.disabled || !svc.value) return;
    go.disabled = true;
    error("");
    const body = { service: svc.value };
    if (green.checked) body.channel = "green";
    try {
      const tk = await api("POST", `/api/v1/halls/${encodeURIComponent(state.hall)}/tickets`, {
        token: token(), body, headers: { "Idempotency-Key": key },
      });
      result.dataset.number = tk.number;
      result.dataset.printed = tk.printed === true ? "yes" : tk.printed === false ? "no" : "";
      // printed: true printed, false failed (say why), null: the hall prints nothing.
      const print = tk.printed === true
        ? el("div", { id: "issue-print", class: "c-print-ok" }, t("counter.issue.printed"))
        : tk.printed === false
          ? el("div", { id: "issue-print", class: "c-print-bad", role: "alert" }, t("counter.issue.unprinted", { reason: tk.print_error || "—" }))
          : el("div", { id: "issue-print" });
      result.replaceChildren(
        el("div", {},
          el("div", { class: "c-label" }, t("counter.issue.number")),
          el("div", { id: "issue-number", class: "c-issued-number" }, tk.number)),
        el("div", { class: "c-issued-info" },
          el("div", {}, tk.service_name, " ", tk.channel === "green" ? el("span", { class: "tag-green" }, t("channel.green")) : null,
            tk.ahead === null ? "" : ` · ${t("counter.issue.ahead", { n: tk.ahead })}`),
          print,
          el("div", { class: "row" },
            el("button", { class: "btn secondary", id: "issue-again", onclick: () => issueDialog() }, t("counter.issue.another")),
            el("button", { class: "btn", onclick: closeDialog }, t("counter.issue.done")))),
      );
      // The form has done its work: the result takes its place (one screen, no scrolling).
      form.classList.add("hidden");
      result.classList.remove("hidden");
      key = null; // this ticket is issued; another needs a new dialog
      refresh();
    } catch (e) {
      go.disabled = false;
      error(e.message);
    }
  });
  const form = el("div", { id: "issue-form" },
    el("div", { class: "row" }, t("counter.issue.service"), svc,
      el("label", { class: "c-check" }, green, t("counter.issue.green"))),
    el("div", { class: "row" }, go, el("button", { class: "btn secondary", onclick: closeDialog }, t("counter.cancel"))));
  dialog("issue", el("h3", {}, t("counter.issue.title")), form, result);
}

function press(action) {
  const b = document.querySelector(`[data-action="${action}"]`);
  if (!b || b.disabled) return;
  if (action === "finish") {
    dialog("finish",
      el("h3", {}, t("counter.outcome.title")),
      el("div", { class: "row" },
        ...OUTCOMES.map((o, i) => el("button", { class: "btn", dataset: { outcome: o }, onclick: () => act("finish", { outcome: o }) }, `${i + 1} ${t(`outcome.${o}`)}`)),
        el("button", { class: "btn secondary", onclick: closeDialog }, t("counter.cancel"))));
    return;
  }
  if (action === "call") return numberDialog("counter.number.title", state.queue.slice(0, 6).map((q) => ({ number: q.number })));
  if (action === "callback") {
    const held = (state.counter && state.counter.held) || [];
    return numberDialog("counter.callback.title",
      held.map((h) => ({ number: h.number, note: `${h.service_name}${h.here || h.counter === null ? "" : ` · ${t("counter.held.at", { n: h.counter })}`}` })),
      "counter.held.none");
  }
  if (action === "issue") return issueDialog();
  if (action === "transfer") {
    const svc = el("select", { id: "transfer-service" }, el("option", { value: "" }, t("counter.transfer.any")),
      ...state.services.map((s) => el("option", { value: s.code }, s.name_zh)));
    const ctr = el("input", { id: "transfer-counter", type: "number", min: 1, max: 999 });
    const go = () => {
      const body = {};
      if (svc.value) body.service = svc.value;
      if (ctr.value) body.counter = Number(ctr.value);
      act("transfer", body);
    };
    dialog("transfer",
      el("h3", {}, t("counter.transfer.title")),
      el("div", { class: "row" }, t("counter.transfer.service"), svc, t("counter.transfer.counter"), ctr,
        el("button", { class: "btn", onclick: go }, t("counter.ok")),
        el("button", { class: "btn secondary", onclick: closeDialog }, t("counter.cancel"))));
    return;
  }
  if (action === "pause") return act(state.counter && state.counter.state === "paused" ? "resume" : "pause");
  act(action);
}

for (const b of document.querySelectorAll("[data-action]")) b.addEventListener("click", () => press(b.dataset.action));

document.addEventListener("keydown", (e) => {
  if ($("desk").classList.contains("hidden") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape") return closeDialog();
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (typing) return;
  if (state.dialog === "finish" && /^[1-4]$/.test(e.key)) {
    e.preventDefault();
    act("finish", { outcome: OUTCOMES[Number(e.key) - 1] });
    return;
  }
  const action = KEYS[e.key.toLowerCase()];
  if (action) {
    e.preventDefault();
    press(action);
  }
});

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  error("");
  try {
    await login($("username").value, $("password").value);
    await start();
  } catch (err) {
    error(err.message);
  }
});
$("logout").addEventListener("click", () => {
  setStaffToken(null);
  sessionStorage.removeItem("hallq.counter.id");
  if (state.stream) state.stream.close();
  state.counterId = null;
  state.printer = null;
  start();
});
$("switch").addEventListener("click", () => {
  sessionStorage.removeItem("hallq.counter.id");
  if (state.stream) state.stream.close();
  state.counterId = null;
  pickCounter();
});
// 帮办: the booking page in staff mode, for this hall, in its own tab. The tab
// opens with an opener, so it inherits this tab's session (the staff login) and
// starts in staff mode without a second login.
$("book-for").addEventListener("click", () => {
  if (state.me) sessionStorage.setItem("hallq.book.staff", state.me.display_name || state.me.name || "");
});
$("lang").addEventListener("click", toggleLang);
document.addEventListener("hallq:lang", () => {
  applyStatic();
  render();
  renderPrinter();
});
setInterval(renderClock, 1000);
start();
