// County/town roll-up: every site the account may see, side by side, for a day or
// a period, with the standard's figures; sites below the standard stand out.
import { register, t, toggleLang, applyStatic, currentLang } from "./i18n.js";
import { ApiError, api, el, setStaffToken, staffToken, bindLoginForm, signedInSupervisor } from "./api.js";

register({
  "zh-CN": {
    "ru.title": "各站点汇总", "ru.from": "从", "ru.to": "至", "ru.kind": "类型", "ru.show": "查看",
    "ru.today": "今天", "ru.kind.all": "全部站点", "ru.kind.township": "乡镇（街道）示范点",
    "ru.kind.village": "村（社区）服务点", "ru.type.township": "乡镇", "ru.type.village": "村（社区）",
    "ru.site": "站点", "ru.type": "类型", "ru.issued": "取号", "ru.served": "办结", "ru.waiting": "当前等候",
    "ru.waitP90": "等候P90（分钟）", "ru.instantAvg": "即时办结平均（分钟）",
    "ru.within10": "即时办结10分钟内占比", "ru.satisfaction": "满意率", "ru.strict": "满意率（严格）",
    "ru.ratingRate": "评价率", "ru.casesOpen": "帮办代办在办", "ru.casesOverdue": "逾期未上报",
    "ru.total": "合计", "ru.sites": "共 {n} 个站点，{b} 个未达标",
    "ru.asOf": "帮办代办统计截至 {d}",
    "ru.note": "标红：即时办结平均超过 10 分钟、10 分钟内办结占比或满意率（非常满意+满意+基本满意）低于 95%，或有逾期未上报的帮办代办件。严格口径仅计非常满意+满意。点击表头排序，点击站点名称进入该站点监管看板。",
    "ru.denied": "此页面需要监管（主管）或管理员账号。", "ru.none": "该账号没有可查看的站点。",
  },
  en: {
    "ru.title": "All sites", "ru.from": "From", "ru.to": "To", "ru.kind": "Kind", "ru.show": "Show",
    "ru.today": "Today", "ru.kind.all": "All sites", "ru.kind.township": "Township halls",
    "ru.kind.village": "Village points", "ru.type.township": "Township", "ru.type.village": "Village",
    "ru.site": "Site", "ru.type": "Kind", "ru.issued": "Issued", "ru.served": "Served",
    "ru.waiting": "Waiting now", "ru.waitP90": "Wait p90 (min)", "ru.instantAvg": "Instant avg (min)",
    "ru.within10": "Instant within 10 min", "ru.satisfaction": "Satisfaction", "ru.strict": "Satisfaction (strict)",
    "ru.ratingRate": "Rating rate", "ru.casesOpen": "Proxy cases open", "ru.casesOverdue": "Overdue",
    "ru.total": "Total", "ru.sites": "{n} sites, {b} below the standard",
    "ru.asOf": "Proxy cases as of {d}",
    "ru.note": "In red: instant items averaging over 10 minutes, a share within 10 minutes or a satisfaction (top three levels) below 95 %, or proxy cases overdue. The strict reading counts the top two levels only. Click a heading to sort, a site's name for its dashboard.",
    "ru.denied": "This page needs a supervisor or administrator account.",
    "ru.none": "This account has no sites to see.",
  },
});

const $ = (sel) => document.querySelector(sel);
const STANDARD = 0.95;
const state = { data: null, sort: null, dir: 1, me: null, today: null };

// Formatting shared with the supervisor dashboard (the browser test reads these).
export function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}
export function mins(v) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(1);
}

// Share of instant items finished within the standard's 10 minutes.
function within10(s) {
  return s.instant_over_10min_share === null ? null : Math.round((1 - s.instant_over_10min_share) * 10000) / 10000;
}

// key, heading, value for sorting, text, and whether the figure misses the standard.
const COLUMNS = [
  { key: "name", label: "ru.site", value: (s) => s.name, num: false },
  { key: "kind", label: "ru.type", value: (s) => s.kind, text: (s) => (s.kind === "total" ? "" : t(`ru.type.${s.kind}`)), num: false },
  { key: "issued", label: "ru.issued", value: (s) => s.issued },
  { key: "served", label: "ru.served", value: (s) => s.served },
  { key: "waiting_now", label: "ru.waiting", value: (s) => s.waiting_now },
  { key: "wait_p90", label: "ru.waitP90", value: (s) => s.wait_p90_minutes, text: (s) => mins(s.wait_p90_minutes) },
  { key: "instant_avg", label: "ru.instantAvg", value: (s) => s.instant_service_avg_minutes,
    text: (s) => mins(s.instant_service_avg_minutes), bad: (s) => s.instant_meets_standard === false },
  { key: "within10", label: "ru.within10", value: within10, text: (s) => pct(within10(s)),
    bad: (s) => within10(s) !== null && within10(s) < STANDARD },
  { key: "satisfaction", label: "ru.satisfaction", value: (s) => s.satisfaction, text: (s) => pct(s.satisfaction),
    bad: (s) => s.satisfaction_meets_standard === false },
  { key: "strict", label: "ru.strict", value: (s) => s.strict_satisfaction, text: (s) => pct(s.strict_satisfaction) },
  { key: "rating_rate", label: "ru.ratingRate", value: (s) => s.rating_rate, text: (s) => pct(s.rating_rate) },
  { key: "cases_open", label: "ru.casesOpen", value: (s) => s.open_proxy_cases },
  { key: "cases_overdue", label: "ru.casesOverdue", value: (s) => s.overdue_proxy_cases,
    bad: (s) => s.overdue_proxy_cases > 0 },
];

function below(s) {
  return COLUMNS.some((c) => c.bad && c.bad(s));
}

function call(method, path) {
  return api(method, path, { token: staffToken() });
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
}

function cell(col, s, link) {
  const bad = col.bad ? col.bad(s) : false;
  const cls = [col.num === false ? "" : "num", bad ? "bad" : ""].filter(Boolean).join(" ");
  const text = col.text ? col.text(s) : String(col.value(s));
  const content = link ? el("a", { href: `/supervisor/${encodeURIComponent(s.code)}` }, text) : text;
  return el("td", { class: cls || undefined, dataset: { col: col.key } }, content);
}

function sorted(sites) {
  if (!state.sort) return sites;
  const col = COLUMNS.find((c) => c.key === state.sort);
  return [...sites].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1; // no figure: last
    if (y === null || y === undefined) return -1;
    if (typeof x === "string") return x.localeCompare(y, currentLang()) * state.dir;
    return (x - y) * state.dir;
  });
}

function render() {
  const d = state.data;
  if (!d) return;
  $("#rollup thead tr").replaceChildren(...COLUMNS.map((c) => el("th", {
    class: c.num === false ? undefined : "num",
    dataset: { sort: c.key },
    "aria-sort": state.sort === c.key ? (state.dir > 0 ? "ascending" : "descending") : undefined,
    onclick: () => {
      state.dir = state.sort === c.key ? -state.dir : 1;
      state.sort = c.key;
      render();
    },
  }, t(c.label))));
  $("#rollup tbody").replaceChildren(...sorted(d.sites).map((s) => el("tr",
    { class: below(s) ? "below" : undefined, dataset: { site: s.code, kind: s.kind } },
    COLUMNS.map((c, i) => cell(c, s, i === 0)))));
  const total = { ...d.total, name: t("ru.total") };
  $("#rollup tfoot").replaceChildren(el("tr", { dataset: { site: "total" } }, COLUMNS.map((c) => cell(c, total, false))));
  const n = d.sites.length;
  $("#summary").textContent = n
    ? `${t("ru.sites", { n, b: d.sites.filter(below).length })} · ${t("ru.asOf", { d: d.cases_as_of })}`
    : t("ru.none");
  $("#note").textContent = t("ru.note");
}

async function load() {
  const f = $("#period");
  const q = new URLSearchParams();
  if (f.from.value) q.set("from", f.from.value);
  if (f.to.value) q.set("to", f.to.value);
  if (f.kind.value) q.set("kind", f.kind.value);
  const data = await call("GET", `/api/v1/rollup${q.size ? `?${q}` : ""}`);
  state.data = data;
  // The first load asks for no period: the server answers with today.
  if (!f.from.value) f.from.value = data.start;
  if (!f.to.value) f.to.value = data.end;
  if (!state.today) state.today = data.end;
  flash("");
  render();
}

async function boot() {
  try {
    const { me, denied } = await signedInSupervisor();
    if (!me) {
      showView("login");
      if (denied) flash(t("ru.denied"));
      return;
    }
    state.me = me;
    $("#who").textContent = me.display_name || me.name;
    showView("board");
    await load();
    document.body.dataset.ready = "1";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setStaffToken(null);
      showView("login");
      return;
    }
    if (err instanceof ApiError && err.status === 403) {
      showView("login");
      flash(t("ru.denied"));
      return;
    }
    flash(err.message);
  }
}

function reload() {
  load().catch((e) => flash(e.message));
}

function init() {
  applyStatic();
  $("#lang").addEventListener("click", () => toggleLang());
  document.addEventListener("hallq:lang", () => {
    applyStatic();
    render();
  });
  $("#logout").addEventListener("click", () => {
    setStaffToken(null);
    state.data = null;
    document.body.dataset.ready = "";
    showView("login");
  });
  bindLoginForm($("#login-form"), () => {
    flash("");
    return boot();
  });
  $("#period").addEventListener("submit", (ev) => {
    ev.preventDefault();
    reload();
  });
  $("#period").kind.addEventListener("change", reload);
  $("#today").addEventListener("click", () => {
    const f = $("#period");
    f.from.value = f.to.value = state.today || "";
    reload();
  });
  // A period that includes today keeps moving: refresh it every minute.
  setInterval(() => {
    const f = $("#period");
    if (staffToken() && state.data && state.today && f.to.value >= state.today) reload();
  }, 60 * 1000);
  boot();
}

init();
