// Supervisor dashboard: live "now" panels, the standard's figures for a period,
// ECharts charts, report exports, bad-rating follow-ups and the plan for tomorrow.
import { register, t, toggleLang, applyStatic, currentLang } from "./i18n.js";
import { ApiError, EventStream, api, el, pathParam, setStaffToken, staffToken, bindLoginForm, signedInSupervisor } from "./api.js";
import { PrinterWatch } from "./printer-status.js";

register({
  "zh-CN": {
    "sup.title": "监管看板", "sup.cases": "帮办代办", "sup.from": "从", "sup.to": "至", "sup.show": "查看",
    "sup.today": "今天", "sup.export": "导出报表：", "sup.exportDayXlsx": "日报 XLSX", "sup.exportDayCsv": "日报 CSV",
    "sup.exportMonthXlsx": "月报 XLSX", "sup.exportRange": "所选时段 XLSX", "sup.exportAudit": "操作日志 CSV",
    "sup.waiting": "当前等候", "sup.item": "事项", "sup.count": "人数", "sup.counters": "窗口状态",
    "sup.counter": "窗口", "sup.state": "状态", "sup.ticket": "票号", "sup.clock": "计时",
    "sup.alerts": "超时提醒", "sup.badToday": "今日差评", "sup.followups": "差评整改", "sup.score": "评价",
    "sup.callbackDue": "回访期限", "sup.resolveDue": "整改期限", "sup.editFollowup": "整改记录",
    "sup.edit": "记录", "sup.none": "暂无", "sup.overdue": "逾期", "sup.denied": "此页面需要监管（主管）账号。",
    "sup.overtimeAlert": "{counter}号窗口 {number} 办理已 {min} 分钟（时限 {target} 分钟）",
    "sup.badItem": "{number} {service} {counter}号窗口：{label}",
    "sup.totalWaiting": "合计",
    "counter.open": "服务中", "counter.paused": "暂停服务", "counter.closed": "关闭",
    "fu.calledBack": "已回访", "fu.callbackNote": "回访记录", "fu.cause": "差评原因", "fu.action": "整改措施",
    "fu.second": "群众复评", "fu.resolved": "整改完成", "fu.save": "保存", "fu.cancel": "取消",
    "fu.state.open": "待回访", "fu.state.called_back": "已回访", "fu.state.resolved": "已整改",
    "kpi.issued": "取号", "kpi.served": "办结", "kpi.noShow": "过号", "kpi.waitingNow": "当前等候",
    "kpi.waitAvg": "平均等候（分钟）", "kpi.waitP90": "等候P90（分钟）", "kpi.serviceAvg": "平均办理（分钟）",
    "kpi.instantAvg": "即时办结平均（分钟）", "kpi.instantStd": "标准 ≤ 10 分钟",
    "kpi.instantOver": "即时办结超时占比", "kpi.overCount": "{n} 件超时",
    "kpi.satisfaction": "满意率（好差评口径）", "kpi.satStd": "非常满意+满意+基本满意；标准 ≥ 95%",
    "kpi.strict": "满意率（严格口径）", "kpi.strictSub": "仅非常满意+满意",
    "kpi.ratingRate": "评价率", "kpi.ratingSub": "{n} 条评价 / {s} 件办结",
    "kpi.green": "绿色通道", "kpi.greenSub": "等候P90 {g} 分钟，普通 {n} 分钟",
    "kpi.fuOverdue": "差评整改逾期", "kpi.fuSub": "新增 {n} 件",
    "kpi.casesOverdue": "帮办代办逾期", "kpi.casesSub": "受理 {n} 件，超期上报 {l} 件",
    "chart.hourly": "各时段取号与办结", "chart.wait": "等候时长分布", "chart.service": "各事项平均办理时长与时限",
    "chart.util": "窗口利用率", "chart.sat": "满意率趋势", "chart.arrivals": "取号", "chart.servedS": "办结",
    "chart.tickets": "人数", "chart.avg": "平均办理", "chart.target": "时限", "chart.sat1": "好差评口径",
    "chart.sat2": "严格口径", "chart.minutes": "分钟",
    "plan.title": "明日窗口安排建议", "plan.loading": "正在根据历史取号记录模拟…", "plan.hour": "时段",
    "plan.counters": "建议开放窗口", "plan.p90": "模拟等候P90（分钟）", "plan.greenP90": "绿色通道P90（分钟）",
    "plan.target": "目标：等候P90 ≤ {t} 分钟，绿色通道 ≤ {g} 分钟；本厅共 {n} 个窗口。",
    "plan.met": "按此安排可达标，共 {h} 窗口·小时。",
    "plan.notMet": "即使开放全部 {n} 个窗口，标红时段仍无法达标。",
    "plan.basis.same_weekday": "依据近 {d} 个{wd}的取号记录（{n} 张），模拟 {s} 天。",
    "plan.basis.working_days": "近期{wd}的记录不足，依据近 {d} 个工作日的取号记录（{n} 张），模拟 {s} 天。",
    "plan.reason.closed": "{date} 大厅不开放，无需安排窗口。",
    "plan.reason.holiday": "{date} 为法定节假日，大厅不开放。",
    "plan.reason.no_history": "近 28 天的取号记录不足，暂无法给出建议。",
    "plan.failed": "窗口安排建议暂时无法计算：{msg}", "plan.late": "超标",
    "wd.0": "周一", "wd.1": "周二", "wd.2": "周三", "wd.3": "周四", "wd.4": "周五", "wd.5": "周六", "wd.6": "周日",
  },
  en: {
    "sup.title": "Supervisor dashboard", "sup.cases": "Proxy cases", "sup.from": "From", "sup.to": "To",
    "sup.show": "Show", "sup.today": "Today", "sup.export": "Export:", "sup.exportDayXlsx": "Day XLSX",
    "sup.exportDayCsv": "Day CSV", "sup.exportMonthXlsx": "Month XLSX", "sup.exportRange": "Period XLSX",
    "sup.exportAudit": "Audit log CSV", "sup.waiting": "Waiting now", "sup.item": "Item", "sup.count": "People",
    "sup.counters": "Counters", "sup.counter": "Counter", "sup.state": "State", "sup.ticket": "Ticket",
    "sup.clock": "Clock", "sup.alerts": "Overtime alerts", "sup.badToday": "Bad ratings today",
    "sup.followups": "Bad-rating follow-ups", "sup.score": "Rating", "sup.callbackDue": "Call back by",
    "sup.resolveDue": "Resolve by", "sup.editFollowup": "Follow-up record", "sup.edit": "Record",
    "sup.none": "None", "sup.overdue": "Overdue", "sup.denied": "This page needs a supervisor account.",
    "sup.overtimeAlert": "Counter {counter}: {number} has taken {min} min (target {target} min)",
    "sup.badItem": "{number} {service} counter {counter}: {label}", "sup.totalWaiting": "Total",
    "counter.open": "Open", "counter.paused": "Paused", "counter.closed": "Closed",
    "fu.calledBack": "Called back", "fu.callbackNote": "Call-back note", "fu.cause": "Cause",
    "fu.action": "Action taken", "fu.second": "Second opinion", "fu.resolved": "Resolved", "fu.save": "Save",
    "fu.cancel": "Cancel", "fu.state.open": "To call back", "fu.state.called_back": "Called back",
    "fu.state.resolved": "Resolved",
    "kpi.issued": "Issued", "kpi.served": "Served", "kpi.noShow": "No-show", "kpi.waitingNow": "Waiting now",
    "kpi.waitAvg": "Average wait (min)", "kpi.waitP90": "Wait p90 (min)", "kpi.serviceAvg": "Average service (min)",
    "kpi.instantAvg": "Instant items average (min)", "kpi.instantStd": "Standard ≤ 10 min",
    "kpi.instantOver": "Instant items over target", "kpi.overCount": "{n} over target",
    "kpi.satisfaction": "Satisfaction (national reading)", "kpi.satStd": "top three levels; standard ≥ 95%",
    "kpi.strict": "Satisfaction (strict)", "kpi.strictSub": "top two levels only",
    "kpi.ratingRate": "Rating rate", "kpi.ratingSub": "{n} ratings / {s} served",
    "kpi.green": "Green channel", "kpi.greenSub": "wait p90 {g} min, normal {n} min",
    "kpi.fuOverdue": "Follow-ups overdue", "kpi.fuSub": "{n} opened",
    "kpi.casesOverdue": "Proxy cases overdue", "kpi.casesSub": "{n} accepted, {l} submitted late",
    "chart.hourly": "Arrivals and served per hour", "chart.wait": "Wait distribution",
    "chart.service": "Service time per item against its target", "chart.util": "Counter utilisation",
    "chart.sat": "Satisfaction trend", "chart.arrivals": "Arrivals", "chart.servedS": "Served",
    "chart.tickets": "People", "chart.avg": "Average", "chart.target": "Target", "chart.sat1": "National reading",
    "chart.sat2": "Strict", "chart.minutes": "min",
    "plan.title": "Counters for tomorrow (suggested)", "plan.loading": "Simulating from the ticket history…",
    "plan.hour": "Hour", "plan.counters": "Counters to open", "plan.p90": "Simulated wait p90 (min)",
    "plan.greenP90": "Green channel p90 (min)",
    "plan.target": "Target: wait p90 ≤ {t} min, green channel ≤ {g} min; the hall has {n} counters.",
    "plan.met": "This plan meets the target with {h} counter-hours.",
    "plan.notMet": "Even with all {n} counters open, the hours in red miss the target.",
    "plan.basis.same_weekday": "Based on the last {d} {wd}s ({n} tickets), {s} simulated days.",
    "plan.basis.working_days": "Too few recent {wd}s on record: based on the last {d} working days ({n} tickets), {s} simulated days.",
    "plan.reason.closed": "The hall is closed on {date}: nothing to plan.",
    "plan.reason.holiday": "{date} is a public holiday: the hall is closed.",
    "plan.reason.no_history": "Not enough tickets in the last 28 days to suggest a plan yet.",
    "plan.failed": "The plan could not be computed: {msg}", "plan.late": "over target",
    "wd.0": "Monday", "wd.1": "Tuesday", "wd.2": "Wednesday", "wd.3": "Thursday", "wd.4": "Friday",
    "wd.5": "Saturday", "wd.6": "Sunday",
  },
});

const $ = (sel) => document.querySelector(sel);
const hall = pathParam(1);
const state = {
  report: null, live: null, alerts: [], stream: null, charts: {}, refreshTimer: null, today: null,
  plan: null, planError: null,
};
// The kiosk's ticket printer: a line in the "now" area, red when it cannot print.
const printer = new PrinterWatch(hall, staffToken, renderPrinter);

// Formatting shared by every figure on the page (the browser test reads these).
export function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}
export function mins(v) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(1);
}

function call(method, path, body) {
  return api(method, path, { body, token: staffToken() });
}

function flash(msg) {
  const f = $("#flash");
  f.textContent = msg || "";
  f.classList.toggle("hidden", !msg);
}

function showView(name) {
  $("#login-view").classList.toggle("hidden", name !== "login");
  $("#board").classList.toggle("hidden", name !== "board");
  $("#logout").classList.toggle("hidden", name === "login");
  $("#cases-link").classList.toggle("hidden", name !== "board");
}

// ---- figures -----------------------------------------------------------------

function kpi(key, label, value, sub, ok) {
  const cls = ok === true ? "kpi ok" : ok === false ? "kpi bad" : "kpi";
  return el("div", { class: cls, dataset: { kpi: key } },
    el("div", { class: "label" }, label),
    el("div", { class: "value", dataset: { value: "" } }, value),
    sub ? el("div", { class: "sub" }, sub) : null);
}

function renderKpis() {
  const r = state.report;
  if (!r) return;
  const o = r.overall;
  const rt = o.ratings;
  const fu = (r.extensions && r.extensions.followups) || {};
  const cs = (r.extensions && r.extensions.cases) || {};
  const box = $("#kpis");
  box.replaceChildren(
    kpi("issued", t("kpi.issued"), o.issued),
    kpi("served", t("kpi.served"), o.served),
    kpi("no_show", t("kpi.noShow"), o.no_show),
    kpi("waiting_now", t("kpi.waitingNow"), state.live ? state.live.waiting_total : o.waiting_now),
    kpi("wait_avg", t("kpi.waitAvg"), mins(o.wait_avg), `P90 ${mins(o.wait_p90)} · max ${mins(o.wait_max)}`),
    kpi("service_avg", t("kpi.serviceAvg"), mins(o.service_avg), `P90 ${mins(o.service_p90)}`),
    kpi("instant_avg", t("kpi.instantAvg"), mins(o.instant_service_avg), t("kpi.instantStd"), o.instant_meets_standard),
    kpi("instant_over", t("kpi.instantOver"), pct(o.instant_over_target_share), t("kpi.overCount", { n: o.instant_over_target })),
    kpi("satisfaction", t("kpi.satisfaction"), pct(rt.satisfaction), t("kpi.satStd"), rt.meets_standard),
    kpi("strict", t("kpi.strict"), pct(rt.strict_satisfaction), t("kpi.strictSub")),
    kpi("rating_rate", t("kpi.ratingRate"), pct(rt.rating_rate), t("kpi.ratingSub", { n: rt.count, s: rt.served })),
    kpi("green", t("kpi.green"), o.green_issued, t("kpi.greenSub", { g: mins(o.green_wait_p90), n: mins(o.normal_wait_p90) })),
    kpi("followups_overdue", t("kpi.fuOverdue"), fu.overdue ?? 0, t("kpi.fuSub", { n: fu.opened ?? 0 }), (fu.overdue ?? 0) === 0),
    kpi("cases_overdue", t("kpi.casesOverdue"), cs.overdue ?? 0,
      t("kpi.casesSub", { n: cs.opened ?? 0, l: cs.submitted_late ?? 0 }), (cs.overdue ?? 0) === 0),
  );
}

function chart(id) {
  if (!window.echarts) return null;
  if (!state.charts[id]) state.charts[id] = window.echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  return state.charts[id];
}

function renderCharts() {
  const r = state.report;
  if (!r) return;
  const base = { animation: false, tooltip: { trigger: "axis" }, grid: { left: 48, right: 24, top: 36, bottom: 32 } };
  const hours = r.by_hour.map((h) => `${String(h.hour).padStart(2, "0")}:00`);
  chart("chart-hourly")?.setOption({
    ...base, legend: { top: 0 },
    xAxis: { type: "category", data: hours }, yAxis: { type: "value", name: t("chart.tickets"), minInterval: 1 },
    series: [
      // Arrivals by issue hour; served by the hour the transaction finished (throughput).
      { name: t("chart.arrivals"), type: "bar", data: r.by_hour.map((h) => h.issued) },
      { name: t("chart.servedS"), type: "line", data: r.by_hour.map((h) => h.finished_in_hour) },
    ],
  }, true);
  chart("chart-wait")?.setOption({
    ...base,
    xAxis: { type: "category", data: r.wait_histogram.map((b) => b.label), name: t("chart.minutes") },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: r.wait_histogram.map((b) => b.count), itemStyle: { color: "#0b5cab" } }],
  }, true);
  const items = r.by_service.filter((f) => f.service_avg !== null);
  chart("chart-service")?.setOption({
    ...base, legend: { top: 0 },
    xAxis: { type: "category", data: items.map((f) => f.label), axisLabel: { interval: 0, rotate: items.length > 5 ? 30 : 0 } },
    yAxis: { type: "value", name: t("chart.minutes") },
    series: [
      { name: t("chart.avg"), type: "bar", data: items.map((f) => ({
        value: f.service_avg,
        itemStyle: { color: f.instant_meets_standard === false ? "#b91c1c" : "#0a7a3d" },
      })) },
      { name: t("chart.target"), type: "line", step: "middle", data: items.map((f) => targetOf(f.key)),
        lineStyle: { type: "dashed", color: "#b45309" }, itemStyle: { color: "#b45309" } },
    ],
  }, true);
  chart("chart-util")?.setOption({
    ...base,
    tooltip: { trigger: "axis", valueFormatter: (v) => pct(v) },
    xAxis: { type: "category", data: r.by_counter.map((c) => c.label) },
    yAxis: { type: "value", max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    series: [{ type: "bar", data: r.by_counter.map((c) => c.utilisation ?? 0), itemStyle: { color: "#0b5cab" } }],
  }, true);
  chart("chart-sat")?.setOption({
    ...base, legend: { top: 0 },
    tooltip: { trigger: "axis", valueFormatter: (v) => pct(v) },
    xAxis: { type: "category", data: r.by_day.map((d) => d.label) },
    yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    series: [
      { name: t("chart.sat1"), type: "line", data: r.by_day.map((d) => d.ratings.satisfaction),
        markLine: { silent: true, symbol: "none", data: [{ yAxis: 0.95 }], lineStyle: { color: "#b91c1c" },
          label: { position: "insideEndTop", formatter: "95%" } } },
      { name: t("chart.sat2"), type: "line", data: r.by_day.map((d) => d.ratings.strict_satisfaction) },
    ],
  }, true);
}

// Item targets come from the live view's counters and the catalogue.
state.targets = {};
function targetOf(code) {
  return state.targets[code] ?? null;
}

async function loadCatalogTargets() {
  try {
    const items = await call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/services`);
    for (const s of items || []) state.targets[s.code] = s.target_minutes;
  } catch (e) {
    // Targets only decorate a chart; the figures stand without them.
  }
}

async function loadFigures() {
  const f = $("#period");
  const q = new URLSearchParams({ from: f.from.value, to: f.to.value });
  state.report = await call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/figures?${q}`);
  renderKpis();
  renderCharts();
}

// ---- now ---------------------------------------------------------------------

function fmtClock(sec) {
  if (sec === null || sec === undefined) return "";
  const m = Math.floor(sec / 60);
  const s = sec % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

function renderLive() {
  const d = state.live;
  if (!d) return;
  state.today = d.date;
  const name = (w) => (currentLang() === "en" && w.name_en ? w.name_en : w.name);
  const rows = d.waiting.filter((w) => w.waiting > 0).map((w) =>
    el("tr", { dataset: { service: w.service } }, el("td", {}, name(w)), el("td", {}, w.waiting)));
  rows.push(el("tr", { class: "total" }, el("th", {}, t("sup.totalWaiting")), el("th", { dataset: { total: "" } }, d.waiting_total)));
  $("#waiting tbody").replaceChildren(...rows);
  $("#counters tbody").replaceChildren(...d.counters.map((c) => {
    const level = c.elapsed_seconds === null ? "" : c.overtime ? "clock-red"
      : c.elapsed_seconds > 0.8 * c.target_minutes * 60 ? "clock-amber" : "clock-ok";
    return el("tr", { dataset: { counter: c.counter } },
      el("td", {}, `${c.counter} ${c.name || ""}`),
      el("td", {}, el("span", { class: `pill ${c.state === "open" ? "ok" : "warn"}` }, t(`counter.${c.state}`))),
      el("td", {}, c.number || "", c.ticket_state ? ` (${t(`state.${c.ticket_state}`)})` : ""),
      el("td", {}, c.service_name || ""),
      el("td", { class: level, dataset: { started: c.started_at || "", target: c.target_minutes || "" } }, fmtClock(c.elapsed_seconds)));
  }));
  for (const o of d.overtime) addAlert(o);
  renderAlerts();
  const bad = d.bad_ratings_today.map((f) => el("li", { class: "bad" },
    t("sup.badItem", { number: f.number, service: f.service_name, counter: f.counter ?? "-", label: f.score_label })));
  $("#bad").replaceChildren(...(bad.length ? bad : [el("li", { class: "empty" }, t("sup.none"))]));
}

function renderPrinter() {
  const box = $("#printer-status");
  const line = printer.line();
  box.classList.toggle("hidden", !line);
  box.dataset.level = line ? line.level : "";
  box.dataset.state = line ? line.state : "";
  // What the server said ("local", "agent", "off"; empty before it answered).
  box.dataset.mode = (printer && printer.printer && printer.printer.mode) || "";
  box.textContent = line ? line.text : "";
}

function addAlert(o) {
  const key = `${o.counter}:${o.number}`;
  if (state.alerts.some((a) => a.key === key)) return;
  state.alerts.unshift({ key, ...o });
  state.alerts = state.alerts.slice(0, 20);
}

function renderAlerts() {
  const items = state.alerts.map((a) => el("li", {}, t("sup.overtimeAlert", {
    counter: a.counter, number: a.number, min: Math.floor((a.elapsed_seconds || 0) / 60), target: a.target_minutes,
  })));
  $("#alerts").replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, t("sup.none"))]));
}

// The counter clocks tick locally between server updates.
function tick() {
  for (const td of document.querySelectorAll("#counters td[data-started]")) {
    if (!td.dataset.started) continue;
    const sec = Math.max(0, Math.floor((Date.now() - Date.parse(td.dataset.started)) / 1000) + (state.skew || 0));
    td.textContent = fmtClock(sec);
  }
}

async function loadLive() {
  state.live = await call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/dashboard`);
  // The server's clock decides elapsed times (tests and simulations move it).
  state.skew = Math.round((Date.parse(state.live.now) - Date.now()) / 1000);
  $("#hall-name").textContent = state.live.hall_name;
  renderLive();
  renderKpis();
}

// ---- plan for tomorrow ------------------------------------------------------------
// Simulated on the server (a second or so, then cached): loaded on its own so the
// rest of the dashboard never waits for it.

function weekdayOf(iso) {
  // 0 = Monday, as the server counts; the date is a calendar day, not a moment.
  const [y, m, d] = iso.split("-").map(Number);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

function planBar(k, n) {
  const cells = [];
  for (let i = 1; i <= Math.max(k, n); i++) cells.push(el("span", { class: i <= k ? "on" : "" }));
  return el("span", { class: "plan-bar", "aria-hidden": "true" }, cells);
}

function renderPlan() {
  const box = $("#plan");
  const p = state.plan;
  const summary = $("#plan-summary");
  const table = $("#plan-table");
  const note = $("#plan-note");
  if (state.planError) {
    box.dataset.state = "error";
    summary.textContent = t("plan.failed", { msg: state.planError });
    table.classList.add("hidden");
    note.textContent = "";
    return;
  }
  if (!p) return;
  const wd = t(`wd.${weekdayOf(p.date)}`);
  $("#plan-date").textContent = `${p.date} ${wd}`;
  if (!p.plan) {
    box.dataset.state = p.reason || "empty";
    summary.textContent = t(`plan.reason.${p.reason}`, { date: p.date });
    table.classList.add("hidden");
    note.textContent = "";
    return;
  }
  const plan = p.plan;
  box.dataset.state = "ready";
  summary.replaceChildren(
    t("plan.target", { t: p.wait_p90_target_min, g: p.green_p90_target_min, n: p.counters_available }), " ",
    el("span", { class: `pill ${plan.met ? "ok" : "bad"}`, dataset: { met: plan.met ? "1" : "0" } },
      plan.met ? t("plan.met", { h: plan.counter_hours }) : t("plan.notMet", { n: p.counters_available })));
  $("#plan-table tbody").replaceChildren(...plan.hours.map((h) => el("tr", { class: h.late ? "late" : "", dataset: { hour: h.hour } },
    el("td", {}, h.label.replace("-", "–")),
    el("td", { class: "plan-count" }, el("strong", { dataset: { counters: h.counters } }, h.counters), ` / ${p.counters_available}`),
    el("td", {}, planBar(h.counters, p.counters_available)),
    el("td", {}, mins(h.wait_p90_min), h.late ? el("span", { class: "pill bad" }, t("plan.late")) : null),
    el("td", {}, mins(h.green_wait_p90_min)))));
  table.classList.remove("hidden");
  const hist = p.history;
  note.textContent = t(`plan.basis.${hist.basis}`, { d: hist.days, wd, n: hist.tickets, s: plan.simulated_days });
}

async function loadPlan() {
  try {
    state.plan = await call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/plan`);
    state.planError = null;
  } catch (err) {
    state.planError = err.message;
  }
  renderPlan();
}

// ---- follow-ups ----------------------------------------------------------------

async function loadFollowups() {
  const rows = await call("GET", `/api/v1/halls/${encodeURIComponent(hall)}/followups`);
  state.followups = rows;
  $("#followups tbody").replaceChildren(...rows.map((f) => el("tr", { class: f.overdue ? "overdue" : "", dataset: { id: f.id } },
    el("td", {}, f.number), el("td", {}, f.service_name), el("td", {}, f.counter ?? ""),
    el("td", {}, f.score_label),
    el("td", {}, el("span", { class: `pill ${f.state === "resolved" ? "ok" : "warn"}` }, t(`fu.state.${f.state}`)),
      f.overdue ? el("span", { class: "pill bad" }, t("sup.overdue")) : null),
    el("td", { class: f.callback_overdue ? "clock-red" : "" }, f.callback_due),
    el("td", { class: f.resolve_overdue ? "clock-red" : "" }, f.resolve_due),
    el("td", {}, el("button", { class: "btn secondary", type: "button", onclick: () => editFollowup(f) }, t("sup.edit"))))));
}

function editFollowup(f) {
  const form = $("#followup-form");
  form.dataset.id = f.id;
  form.querySelector("[data-number]").textContent = f.number;
  form.called_back.checked = f.state !== "open";
  form.callback_note.value = f.callback_note || "";
  form.cause.value = f.cause || "";
  form.action_taken.value = f.action_taken || "";
  form.second_opinion.value = f.second_opinion ?? "";
  form.resolved.checked = f.state === "resolved";
  form.querySelector("[data-error]").classList.add("hidden");
  form.classList.remove("hidden");
}

async function saveFollowup(ev) {
  ev.preventDefault();
  const form = $("#followup-form");
  const body = {
    called_back: form.called_back.checked || undefined,
    callback_note: form.callback_note.value || undefined,
    cause: form.cause.value || undefined,
    action_taken: form.action_taken.value || undefined,
    second_opinion: form.second_opinion.value ? Number(form.second_opinion.value) : undefined,
    resolved: form.resolved.checked || undefined,
  };
  try {
    await call("PATCH", `/api/v1/followups/${form.dataset.id}`, body);
    form.classList.add("hidden");
    await loadFollowups();
  } catch (err) {
    const box = form.querySelector("[data-error]");
    box.textContent = err.message;
    box.classList.remove("hidden");
  }
}

// ---- export --------------------------------------------------------------------

async function download(path, fallbackName) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${staffToken()}` } });
  if (!res.ok) {
    let msg = `${res.status}`;
    try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
    throw new ApiError(res.status, "export_failed", msg);
  }
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="([^"]+)"/.exec(cd);
  const a = el("a", { href: URL.createObjectURL(blob), download: m ? m[1] : fallbackName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function exportReport(kind) {
  const f = $("#period");
  const h = encodeURIComponent(hall);
  const paths = {
    "day-xlsx": `/api/v1/halls/${h}/reports?date=${f.to.value}&format=xlsx`,
    "day-csv": `/api/v1/halls/${h}/reports?date=${f.to.value}&format=csv`,
    "month-xlsx": `/api/v1/halls/${h}/reports?month=${f.to.value.slice(0, 7)}&format=xlsx`,
    "range-xlsx": `/api/v1/halls/${h}/reports?from=${f.from.value}&to=${f.to.value}&format=xlsx`,
    "audit-csv": `/api/v1/halls/${h}/audit?from=${f.from.value}&to=${f.to.value}&format=csv`,
  };
  try {
    flash("");
    await download(paths[kind], `${hall}-${kind}`);
  } catch (err) {
    flash(err.message);
  }
}

// ---- live events ------------------------------------------------------------------

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  // Bursts of events (a call and a start) become one reload.
  state.refreshTimer = setTimeout(async () => {
    try {
      await loadLive();
      const f = $("#period");
      if (state.today && f.from.value <= state.today && state.today <= f.to.value) await loadFigures();
    } catch (err) {
      flash(err.message);
    }
  }, 300);
}

function onEvent(ev) {
  if (printer.onEvent(ev)) return; // the printer line asks again; the figures are unchanged
  if (ev.type === "transaction.overtime") {
    addAlert(ev.data);
    renderAlerts();
  }
  // A bad rating's follow-up arrives in the rating's own event (followup_id).
  const opened = ev.type === "rating.created" && ev.data && ev.data.followup_id;
  if (ev.type.startsWith("followup.") || opened) loadFollowups().catch((e) => flash(e.message));
  scheduleRefresh();
}

function startStream() {
  if (state.stream) state.stream.close();
  const token = encodeURIComponent(staffToken());
  state.stream = new EventStream(`/ws/staff?token=${token}&hall=${encodeURIComponent(hall)}`, {
    onEvent,
    onSnapshot: async () => {
      const snap = await api("GET", `/api/v1/halls/${encodeURIComponent(hall)}/display`);
      scheduleRefresh();
      printer.refresh();
      return snap.seq;
    },
    onStatus: (up) => $("#live").classList.toggle("on", up),
    onDenied: () => {
      setStaffToken(null);
      showView("login");
    },
  });
  state.stream.start().catch((e) => flash(e.message));
}

// ---- boot ---------------------------------------------------------------------------

async function boot() {
  try {
    const { me, denied } = await signedInSupervisor();
    if (!me) {
      showView("login");
      if (denied) flash(t("sup.denied"));
      return;
    }
    showView("board");
    $("#cases-link").href = `/supervisor/${encodeURIComponent(hall)}/cases`;
    loadPlan(); // not awaited: the simulation must not hold up the figures
    await Promise.all([loadLive(), printer.refresh()]);
    const f = $("#period");
    if (!f.from.value) f.from.value = state.today;
    if (!f.to.value) f.to.value = state.today;
    await loadCatalogTargets();
    await Promise.all([loadFigures(), loadFollowups()]);
    startStream();
    document.body.dataset.ready = "1";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setStaffToken(null);
      showView("login");
      return;
    }
    flash(err.message);
  }
}

function init() {
  applyStatic();
  $("#lang").addEventListener("click", () => toggleLang());
  document.addEventListener("hallq:lang", () => {
    applyStatic();
    renderKpis();
    renderLive();
    renderCharts();
    renderPlan();
    renderPrinter();
    if (state.followups) loadFollowups().catch(() => {});
  });
  $("#logout").addEventListener("click", () => {
    setStaffToken(null);
    if (state.stream) state.stream.close();
    showView("login");
  });
  bindLoginForm($("#login-form"), () => {
    flash("");
    return boot();
  });
  $("#period").addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadFigures().catch((e) => flash(e.message));
  });
  $("#today").addEventListener("click", () => {
    const f = $("#period");
    f.from.value = f.to.value = state.today;
    loadFigures().catch((e) => flash(e.message));
  });
  for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportReport(b.dataset.export));
  $("#followup-form").addEventListener("submit", saveFollowup);
  $("#followup-form [data-cancel]").addEventListener("click", () => $("#followup-form").classList.add("hidden"));
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  setInterval(tick, 1000);
  // A page left open overnight plans the new tomorrow (the server caches an hour).
  setInterval(() => { if (staffToken() && !$("#board").classList.contains("hidden")) loadPlan(); }, 30 * 60 * 1000);
  boot();
}

init();
