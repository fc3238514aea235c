// Proxy cases (帮办代办): list with filters, overdue flagged, state moved on.
import { register, t, toggleLang, applyStatic } from "./i18n.js";
import { ApiError, api, el, pathParam, setStaffToken, staffToken, bindLoginForm } from "./api.js";

register({
  "zh-CN": {
    "cases.title": "帮办代办", "cases.board": "监管看板", "cases.state": "状态", "cases.all": "全部",
    "cases.overdueOnly": "只看逾期", "cases.yes": "是", "cases.number": "票号", "cases.day": "受理日期",
    "cases.item": "事项", "cases.staff": "经办人", "cases.ref": "群众（脱敏）", "cases.complete": "材料齐全",
    "cases.deadline": "上报期限", "cases.overdue": "逾期未上报", "cases.late": "超期上报", "cases.empty": "没有符合条件的件",
    "sup.from": "从", "sup.to": "至", "sup.show": "查看",
    "case.accepted": "已受理", "case.submitted": "已上报", "case.result_returned": "结果已返回",
    "case.handed_over": "已送达", "case.returned_incomplete": "材料不全退回",
    "next.submitted": "上报", "next.result_returned": "结果返回", "next.handed_over": "送达",
    "next.returned_incomplete": "退回补材料", "next.accepted": "重新受理",
    "cases.completeOn": "材料齐全日期",
  },
  en: {
    "cases.title": "Proxy cases", "cases.board": "Dashboard", "cases.state": "State", "cases.all": "All",
    "cases.overdueOnly": "Overdue only", "cases.yes": "Yes", "cases.number": "Ticket", "cases.day": "Accepted",
    "cases.item": "Item", "cases.staff": "Staff", "cases.ref": "Resident (masked)", "cases.complete": "Materials complete",
    "cases.deadline": "Submit by", "cases.overdue": "Overdue", "cases.late": "Submitted late", "cases.empty": "No cases match",
    "sup.from": "From", "sup.to": "To", "sup.show": "Show",
    "case.accepted": "Accepted", "case.submitted": "Submitted upward", "case.result_returned": "Result returned",
    "case.handed_over": "Handed over", "case.returned_incomplete": "Returned: papers missing",
    "next.submitted": "Submit", "next.result_returned": "Result back", "next.handed_over": "Hand over",
    "next.returned_incomplete": "Return for papers", "next.accepted": "Accept again",
    "cases.completeOn": "Materials complete on",
  },
});

const NEXT = {
  accepted: ["submitted", "returned_incomplete"],
  submitted: ["result_returned", "returned_incomplete"],
  result_returned: ["handed_over"],
  returned_incomplete: ["accepted"],
  handed_over: [],
};
const $ = (s) => document.querySelector(s);
const hall = pathParam(1);

function flash(msg) {
  $("#flash").textContent = msg || "";
  $("#flash").classList.toggle("hidden", !msg);
}

// Today on this device, as YYYY-MM-DD (the hall's own day; the server checks it).
function localToday() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

async function move(c, next, row) {
  const body = { state: next };
  // Accepting a returned case again restarts its 3 working days from the new materials date.
  if (next === "accepted") body.materials_complete_on = row.querySelector("[data-materials]").value || undefined;
  try {
    flash("");
    await api("PATCH", `/api/v1/cases/${c.id}`, { body, token: staffToken() });
    await load();
  } catch (err) {
    flash(err.message);
  }
}

async function load() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) if (v) q.set(k, v);
  const rows = await api("GET", `/api/v1/halls/${encodeURIComponent(hall)}/cases?${q}`, { token: staffToken() });
  const body = rows.map((c) => { const row = el("tr", { class: c.overdue ? "overdue" : "", dataset: { id: c.id } },
    el("td", {}, c.number), el("td", {}, c.service_day), el("td", {}, c.service_name), el("td", {}, c.staff || ""),
    el("td", {}, c.resident_ref), el("td", {}, c.materials_complete_on),
    el("td", { class: c.overdue ? "clock-red" : "" }, c.deadline),
    el("td", {}, el("span", { class: "pill" }, t(`case.${c.state}`)),
      c.overdue ? el("span", { class: "pill bad" }, t("cases.overdue")) : null,
      c.submitted_late ? el("span", { class: "pill warn" }, t("cases.late")) : null),
    el("td", {},
      c.state === "returned_incomplete" ? el("label", { class: "inline" }, t("cases.completeOn"), " ",
        el("input", { type: "date", dataset: { materials: "" }, value: localToday() })) : null,
      ...NEXT[c.state].map((n) => el("button", { class: "btn secondary", type: "button", onclick: () => move(c, n, row) }, t(`next.${n}`)))));
    return row; });
  $("#cases tbody").replaceChildren(...(body.length ? body : [el("tr", {}, el("td", { colspan: 9, class: "muted" }, t("cases.empty")))]));
}

async function boot() {
  if (!staffToken()) {
    $("#login-view").classList.remove("hidden");
    return;
  }
  $("#login-view").classList.add("hidden");
  $("#list").classList.remove("hidden");
  $("#board-link").href = `/supervisor/${encodeURIComponent(hall)}`;
  try {
    await load();
    document.body.dataset.ready = "1";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setStaffToken(null);
      $("#list").classList.add("hidden");
      $("#login-view").classList.remove("hidden");
      return;
    }
    flash(err.message);
  }
}

applyStatic();
$("#lang").addEventListener("click", toggleLang);
document.addEventListener("hallq:lang", () => { applyStatic(); load().catch(() => {}); });
$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); load().catch((e) => flash(e.message)); });
bindLoginForm($("#login-form"), boot);
boot();
