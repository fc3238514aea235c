// Phone status page (the QR target): number, state, people ahead, estimated
// wait, the counter when called (vibrate + beep), and the rating afterwards.
import { api, el, EventStream, pathParam } from "./api.js";
import { applyStatic, register, t, toggleLang } from "./i18n.js";

register({
  "zh-CN": {
    "phone.ahead": "前面还有",
    "phone.ahead.n": "{n} 人",
    "phone.wait": "预计等候",
    "phone.wait.n": "约 {n} 分钟",
    "phone.wait.unknown": "稍候",
    "phone.called": "请到 {n} 号窗口办理",
    "phone.serving": "正在 {n} 号窗口办理",
    "phone.rate": "请为本次服务评价",
    "phone.rated": "感谢您的评价！",
    "phone.hint": "本页面会自动更新，叫到您时手机会提示",
    "phone.hotline": "服务热线 {n}",
    "rate.5": "非常满意",
    "rate.4": "满意",
    "rate.3": "基本满意",
    "rate.2": "不满意",
    "rate.1": "非常不满意",
  },
  en: {
    "phone.ahead": "Ahead of you",
    "phone.ahead.n": "{n}",
    "phone.wait": "Estimated wait",
    "phone.wait.n": "about {n} min",
    "phone.wait.unknown": "shortly",
    "phone.called": "Please go to counter {n}",
    "phone.serving": "Being served at counter {n}",
    "phone.rate": "Please rate the service",
    "phone.rated": "Thank you for your rating!",
    "phone.hint": "This page updates itself and alerts you when you are called",
    "phone.hotline": "Hotline {n}",
    "rate.5": "Very satisfied",
    "rate.4": "Satisfied",
    "rate.3": "Fairly satisfied",
    "rate.2": "Dissatisfied",
    "rate.1": "Very dissatisfied",
  },
});

const ticketToken = pathParam(1);
const $ = (id) => document.getElementById(id);
const state = { ticket: null, alerted: null, stream: null };
window.hallq = { state };

function error(msg) {
  $("error").textContent = msg || "";
  $("error").classList.toggle("hidden", !msg);
}

function alertResident(tk) {
  // Once per call (a recall alerts again: its called_at changes).
  const key = `${tk.number}@${tk.called_at}`;
  if (state.alerted === key) return;
  state.alerted = key;
  if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.3;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.6);
  } catch (e) {
    // Phones block sound until the page is touched; the vibration and banner remain.
  }
}

function render() {
  const tk = state.ticket;
  if (!tk) return;
  $("main").classList.remove("hidden");
  $("hall").textContent = tk.hall_name;
  $("service").textContent = tk.service_name;
  $("number").textContent = tk.number;
  $("channel").classList.toggle("hidden", tk.channel !== "green");
  $("state").textContent = t(`state.${tk.state}`);
  document.body.dataset.state = tk.state;
  const waiting = tk.state === "waiting";
  $("waiting").classList.toggle("hidden", !waiting);
  if (waiting) {
    $("ahead").textContent = tk.ahead === null ? "—" : t("phone.ahead.n", { n: tk.ahead });
    $("wait").textContent = tk.estimated_wait_minutes === null ? t("phone.wait.unknown") : t("phone.wait.n", { n: tk.estimated_wait_minutes });
  }
  const called = (tk.state === "called" || tk.state === "serving") && tk.counter;
  $("called").classList.toggle("hidden", !called);
  if (called) $("called").textContent = t(tk.state === "called" ? "phone.called" : "phone.serving", { n: tk.counter });
  if (tk.state === "called") alertResident(tk);
  $("rate").classList.toggle("hidden", !tk.can_rate);
  $("rated").classList.toggle("hidden", !tk.rated);
  $("hotline").textContent = tk.hotline ? t("phone.hotline", { n: tk.hotline }) : "";
}

function renderScores() {
  $("scores").replaceChildren(
    ...[5, 4, 3, 2, 1].map((s) => el("button", { class: "btn secondary", dataset: { score: s }, onclick: () => rate(s) }, t(`rate.${s}`))),
  );
}

async function load() {
  try {
    state.ticket = await api("GET", `/api/v1/tickets/${encodeURIComponent(ticketToken)}`);
    error("");
    render();
  } catch (e) {
    error(e.message);
  }
  return state.ticket;
}

async function rate(score) {
  try {
    await api("POST", `/api/v1/tickets/${encodeURIComponent(ticketToken)}/rating`, { body: { score } });
  } catch (e) {
    error(e.message);
  }
  await load();
}

let timer = null;
function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(load, 200);
}

function onEvent(ev) {
  if (ev.type.startsWith("ticket.")) refreshSoon();
}

$("lang").addEventListener("click", toggleLang);
document.addEventListener("hallq:lang", () => {
  applyStatic();
  renderScores();
  render();
});
applyStatic();
renderScores();
load().then((tk) => {
  if (!tk) return;
  // The hall's public stream says when anything moves; the page then asks for its own status.
  state.stream = new EventStream(`/ws/halls/${encodeURIComponent(tk.hall)}/display`, {
    onSnapshot: async () => {
      await load();
      return null;
    },
    onEvent,
    // A rating (at the pad) reaches public screens only as a seq placeholder:
    // the page asks its own status, which says whether this ticket was rated.
    onHidden: refreshSoon,
  });
  state.stream.start();
});
// Phones sleep and drop sockets; a slow poll keeps the page honest anyway.
setInterval(() => {
  if (!document.hidden) load();
}, 30000);
