// Rating pad (好差评): idle shows the counter and who serves there; when the
// counter finishes a transaction the resident picks one of five levels, and a
// low score may add a reason. One rating per ticket (the server enforces it).
import { api, deviceToken, el, EventStream } from "./api.js";
import { applyStatic, register, t, toggleLang } from "./i18n.js";

// The Chinese strings are also the canonical reason labels stored with a
// rating: the same reason must read the same in reports whatever the pad's language.
const ZH = {
  "rate.window": "{n} 号窗口",
  "rate.staff": "工作人员：{name}",
  "rate.staff.none": "暂无工作人员",
  "rate.welcome": "欢迎您，请为我们的服务评价",
  "rate.question": "请您对本次服务进行评价",
  "rate.5": "非常满意",
  "rate.4": "满意",
  "rate.3": "基本满意",
  "rate.2": "不满意",
  "rate.1": "非常不满意",
  "rate.reason.question": "请告诉我们不满意的原因（可跳过）",
  "rate.reason.wait": "等候时间太长",
  "rate.reason.slow": "办理时间太长",
  "rate.reason.attitude": "服务态度不好",
  "rate.reason.materials": "材料要求不清楚",
  "rate.reason.unsolved": "问题没有解决",
  "rate.reason.other": "其他原因",
  "rate.reason.skip": "跳过",
  "rate.thanks": "感谢您的评价！",
  "rate.thanks.more": "祝您生活愉快",
  "rate.no_token": "本评价器尚未配对，请联系管理员",
};

register({
  "zh-CN": ZH,
  en: {
    "rate.window": "Counter {n}",
    "rate.staff": "Served by {name}",
    "rate.staff.none": "No staff signed in",
    "rate.welcome": "Welcome. Please rate our service",
    "rate.question": "How was your service?",
    "rate.5": "Very satisfied",
    "rate.4": "Satisfied",
    "rate.3": "Fairly satisfied",
    "rate.2": "Dissatisfied",
    "rate.1": "Very dissatisfied",
    "rate.reason.question": "Please tell us why (optional)",
    "rate.reason.wait": "Waited too long",
    "rate.reason.slow": "Took too long",
    "rate.reason.attitude": "Unfriendly service",
    "rate.reason.materials": "Unclear about papers",
    "rate.reason.unsolved": "Problem not solved",
    "rate.reason.other": "Other",
    "rate.reason.skip": "Skip",
    "rate.thanks": "Thank you!",
    "rate.thanks.more": "Have a nice day",
    "rate.no_token": "This pad is not paired yet; please call the administrator",
  },
});

// Drawn faces, not emoji: tablets in halls often have no colour emoji font.
function face(score) {
  const curve = { 5: 16, 4: 9, 3: 0, 2: -9, 1: -16 }[score];
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("class", "face");
  svg.setAttribute("aria-hidden", "true");
  svg.innerHTML =
    '<circle cx="50" cy="50" r="44" fill="none" stroke="currentColor" stroke-width="7"/>' +
    '<circle cx="34" cy="40" r="6" fill="currentColor"/><circle cx="66" cy="40" r="6" fill="currentColor"/>' +
    `<path d="M28 ${68 - curve / 2} Q50 ${68 + curve} 72 ${68 - curve / 2}" fill="none" stroke="currentColor" stroke-width="7" stroke-linecap="round"/>`;
  return svg;
}
const REASONS = ["wait", "slow", "attitude", "materials", "unsolved", "other"];
const ASK_MS = 60000;
const THANKS_MS = 4000;
const token = deviceToken("rating_pad");
const $ = (id) => document.getElementById(id);
const state = { pad: null, ticketId: null, number: null, score: null, timer: null, busy: false };
window.hallq = { state };

function error(msg) {
  $("error").textContent = msg || "";
  $("error").classList.toggle("hidden", !msg);
}

function show(name, ms) {
  for (const s of document.querySelectorAll(".p-screen")) s.classList.toggle("hidden", s.id !== name);
  document.body.dataset.screen = name;
  clearTimeout(state.timer);
  if (ms) state.timer = setTimeout(idle, ms);
}

function idle() {
  state.ticketId = null;
  state.score = null;
  show("idle");
}

function renderPad() {
  const p = state.pad;
  if (!p) return;
  $("hall").textContent = p.hall_name;
  $("counter").textContent = t("rate.window", { n: p.counter });
  $("staff").textContent = p.staff ? t("rate.staff", { name: p.staff }) : t("rate.staff.none");
}

function renderChoices() {
  $("scores").replaceChildren(
    ...[5, 4, 3, 2, 1].map((s) =>
      el("button", { class: "p-score", dataset: { score: s }, onclick: () => choose(s) },
        face(s), t(`rate.${s}`)),
    ),
  );
  $("reasons").replaceChildren(
    ...REASONS.map((r) => el("button", { class: "btn secondary", dataset: { reason: r }, onclick: () => send(ZH[`rate.reason.${r}`]) }, t(`rate.reason.${r}`))),
  );
}

async function loadPad() {
  try {
    state.pad = await api("GET", "/api/v1/pad", { token });
    renderPad();
    return state.pad;
  } catch (e) {
    error(e.message);
    return null;
  }
}

function ask(ticketId, number) {
  state.ticketId = ticketId;
  state.number = number;
  $("ask-number").textContent = number || "";
  error("");
  show("ask", ASK_MS);
}

function choose(score) {
  state.score = score;
  // 不满意 / 非常不满意 ask for an optional reason (it opens a follow-up).
  if (score <= 2) show("reason", ASK_MS);
  else send(null);
}

async function send(reason) {
  if (state.busy || !state.ticketId) return;
  state.busy = true;
  try {
    await api("POST", `/api/v1/tickets/${state.ticketId}/rating`, {
      token,
      body: { score: state.score, reason: reason || null },
    });
    show("thanks", THANKS_MS);
  } catch (e) {
    // Already rated (e.g. on the phone) or not finished: tell and go back.
    error(e.message);
    show("idle");
  } finally {
    state.busy = false;
    state.ticketId = null;
  }
}

function onEvent(ev) {
  const d = ev.data || {};
  if (!state.pad || d.counter !== state.pad.counter) {
    if (ev.type === "counter.updated" && d.counter_id === state.pad?.counter_id) loadPad();
    return;
  }
  if (ev.type === "ticket.finished") ask(d.ticket_id, d.number);
  else if (ev.type === "ticket.called") loadPad(); // who is at the counter may have changed
}

$("lang").addEventListener("click", toggleLang);
$("skip").addEventListener("click", () => send(null));
document.addEventListener("hallq:lang", () => {
  applyStatic();
  renderPad();
  renderChoices();
});

applyStatic();
renderChoices();
show("idle");
if (!token) {
  error(t("rate.no_token"));
} else {
  loadPad().then((pad) => {
    if (!pad) return;
    const stream = new EventStream(`/ws/staff?token=${encodeURIComponent(token)}&hall=${encodeURIComponent(pad.hall)}`, {
      onSnapshot: async () => {
        await loadPad();
        return null; // live events only: a missed finish is not asked again later
      },
      onEvent,
    });
    window.hallq.stream = stream;
    stream.start();
  });
}
