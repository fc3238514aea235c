// Admin console (/admin): hall settings, catalogue, counters, staff, devices and
// notices of one hall, through the same API the rest of hallq uses. Every check
// made here is also made by the server; both show the same message: a refusal
// names its rule in details.reason and is shown from this page's catalogue
// ("v.<reason>", admin-i18n.js) with the values in details.
import { ApiError, api, el, login, pathParam, setStaffToken, staffToken } from "./api.js";
import { applyStatic, currentLang, t, toggleLang } from "./i18n.js";
import "./admin-i18n.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TABS = ["hall", "catalog", "counters", "staff", "devices", "notices"];
const PREFIX_RE = /^[A-Z]$/;
const CODE_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const USERNAME_RE = /^[A-Za-z0-9_.-]{2,60}$/;
const SPAN_RE = /^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const MIN_PASSWORD = 8;

const state = { me: null, halls: [], hall: null, hallInfo: null, tab: "hall", services: [], counters: [], users: [] };
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// ---- plumbing -------------------------------------------------------------

function call(method, path, body) {
  return api(method, path, { body, token: staffToken() });
}

// Raw text bodies (catalogue import) and downloads (export) in the same error shape.
async function rawCall(method, path, { text, contentType } = {}) {
  const headers = { Authorization: `Bearer ${staffToken()}` };
  if (contentType) headers["Content-Type"] = contentType;
  let res;
  try {
    res = await fetch(path, { method, headers, body: text });
  } catch (e) {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!res.ok) {
    let err = {};
    try {
      err = (await res.json()).error || {};
    } catch (e) {
      err = {};
    }
    throw new ApiError(res.status, err.code || "http_error", err.message || `${res.status}`, err.details);
  }
  return res;
}

// A refusal made in the page, shaped like the server's: the rule is the key
// without "v.", the values are the template's variables.
function invalid(key, vars = {}, field = undefined) {
  const details = { ...vars, reason: key.replace(/^v\./, "") };
  if (field) details.field = field;
  return new ApiError(422, "invalid_value", t(key, vars), details);
}

function known(key) {
  return t(key) !== key;
}

// The text of an error in the console's language: from the catalogue when the
// rule is known ("v.<reason>", "_one" for a count of 1 where the language has
// it), else the server's own sentence.
function errorText(err) {
  const d = (err && err.details) || {};
  if (d.reason) {
    const key = `v.${d.reason}`;
    if (d.waiting === 1 && known(`${key}_one`)) return t(`${key}_one`, d);
    if (known(key)) return t(key, d);
  }
  return err instanceof Error ? err.message : String(err);
}

function banner(scope) {
  return scope instanceof Element ? $("[data-error]", scope) : $(`[data-error="${scope}"]`);
}

function showError(scope, err) {
  const b = banner(scope);
  if (!b) return;
  b.textContent = errorText(err);
  b.classList.remove("hidden");
  const field = err && err.details && err.details.field;
  if (field && scope instanceof Element) {
    const input = scope.querySelector(`[name="${field}"]`);
    if (input) input.focus();
  }
}

function clearError(scope) {
  const b = banner(scope);
  if (b) {
    b.textContent = "";
    b.classList.add("hidden");
  }
}

// Run an action with its errors shown in the given banner; true when it worked.
async function guarded(scope, fn) {
  clearError(scope);
  try {
    await fn();
    return true;
  } catch (err) {
    showError(scope, err);
    if (err instanceof ApiError && err.status === 401) {
      setStaffToken(null);
      await boot();
    }
    return false;
  }
}

// Reload after an action without clearing the action's error message.
async function refresh(scope, fn) {
  try {
    await fn();
  } catch (err) {
    showError(scope, err);
  }
}

let flashTimer = null;
function flash(message) {
  const f = $("#flash");
  f.textContent = message;
  f.classList.remove("hidden");
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => f.classList.add("hidden"), 3000);
}

function hallPath(suffix = "") {
  return `/api/v1/halls/${encodeURIComponent(state.hall)}${suffix}`;
}

function fmtTime(iso) {
  if (!iso) return t("common.never");
  return new Date(iso).toLocaleString(currentLang(), { hour12: false });
}

function pill(text, kind) {
  return el("span", { class: `pill ${kind || ""}` }, text);
}

function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---- views: login, password, console ---------------------------------------

function showView(name) {
  for (const v of ["login", "password", "denied"]) $(`#${v}-view`).classList.toggle("hidden", v !== name);
  $("#console").classList.toggle("hidden", name !== "console");
  $("#logout").classList.toggle("hidden", name === "login");
  if (name === "login") $("#login-form [name=username]").focus();
}

async function boot() {
  applyStatic();
  if (!staffToken()) {
    state.me = null;
    $("#who").textContent = "";
    showView("login");
    return;
  }
  try {
    state.me = await call("GET", "/api/v1/auth/me");
  } catch (err) {
    setStaffToken(null);
    showView("login");
    if (!(err instanceof ApiError && err.status === 401)) showError($("#login-form"), err);
    return;
  }
  $("#who").textContent = state.me.display_name || state.me.name;
  if (state.me.must_change_password) {
    showView("password");
    return;
  }
  if (state.me.kind !== "user" || state.me.role !== "admin") {
    showView("denied");
    return;
  }
  await loadHalls();
  showView("console");
  const fromHash = location.hash.replace("#", "");
  await selectTab(TABS.includes(fromHash) ? fromHash : state.tab);
}

async function loadHalls() {
  const all = await call("GET", "/api/v1/halls");
  state.halls = state.me.halls === null ? all : all.filter((h) => state.me.halls.includes(h.code));
  const wanted = pathParam(1) || new URLSearchParams(location.search).get("hall") || localStorage.getItem("hallq.admin.hall");
  const pick = state.halls.find((h) => h.code === wanted) || state.halls[0];
  state.hall = pick ? pick.code : null;
  const sel = $("#hall-pick");
  sel.replaceChildren(...state.halls.map((h) => el("option", { value: h.code }, `${h.name} (${h.code})`)));
  sel.value = state.hall || "";
  $("#hall-pick-wrap").classList.toggle("hidden", state.halls.length < 2);
  $("#hall-name").textContent = pick ? pick.name : "";
}

async function selectTab(name) {
  state.tab = name;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `${location.pathname}${location.search}#${name}`);
  for (const b of $$(".tabs [data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const tab of TABS) $(`#tab-${tab}`).classList.toggle("hidden", tab !== name);
  if (!state.hall) return;
  const loader = { hall: loadHall, catalog: loadCatalog, counters: loadCounters, staff: loadStaff, devices: loadDevices, notices: loadNotices }[name];
  const scope = name === "hall" ? $("#hall-form") : name === "notices" ? $("#notice-form") : name;
  await guarded(scope, loader);
  document.body.dataset.loaded = name; // tests and screenshots wait for this
}

// ---- hall settings -----------------------------------------------------------

function spansText(list) {
  return (list || []).join(", ");
}

function parseSpans(text, where) {
  const parts = text.split(/[,，;；\s]+/).map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (!SPAN_RE.test(p)) throw invalid("v.span", { text: p, where }, "opening_hours");
  return parts;
}

function specialRow(day = "", spans = []) {
  const remove = el("button", { class: "btn secondary", type: "button", onclick: () => row.remove() }, t("common.remove"));
  const row = el(
    "tr",
    { class: "special" },
    el("td", {}, el("input", { type: "date", name: "special_day", value: day })),
    el("td", {}, el("input", { name: "special_spans", value: spansText(spans), placeholder: t("hall.closed_placeholder") })),
    el("td", {}, remove),
  );
  return row;
}

async function loadHall() {
  const h = await call("GET", hallPath());
  state.hallInfo = h;
  const f = $("#hall-form");
  f.name.value = h.name;
  f.hotline.value = h.hotline || "";
  f.notice.value = h.notice || "";
  f.elderly_age.value = h.elderly_age;
  f.peak_start.value = h.peak_start || "";
  f.peak_end.value = h.peak_end || "";
  f.policy_name.value = h.policy.name;
  f.green_burst.value = h.policy.green_burst;
  f.max_wait_minutes.value = h.policy.max_wait_minutes;
  f.peak_green_burst.value = h.policy.peak_green_burst ?? "";
  f.official_calendar.checked = h.official_calendar;
  const hours = h.opening_hours || {};
  $("#weekly-hours").replaceChildren(
    ...WEEKDAYS.map((d) =>
      el(
        "tr",
        {},
        el("td", {}, t(`day.${d}`)),
        el("td", {}, el("input", { name: `day_${d}`, value: spansText(hours[d]), placeholder: t("hall.closed_placeholder") })),
      ),
    ),
  );
  const special = Object.keys(hours).filter((k) => DATE_RE.test(k)).sort();
  $("#special-hours").replaceChildren(...special.map((d) => specialRow(d, hours[d])));
}

function hallBody() {
  const f = $("#hall-form");
  const name = f.name.value.trim();
  if (!name) throw invalid("v.name_required", {}, "name");
  const age = Number(f.elderly_age.value);
  if (!Number.isInteger(age) || age < 50 || age > 90) throw invalid("v.elderly_age", {}, "elderly_age");
  const ps = f.peak_start.value || null;
  const pe = f.peak_end.value || null;
  if (!ps !== !pe || (ps && pe && ps >= pe)) throw invalid("v.peak", {}, "peak_start");
  const gb = Number(f.green_burst.value);
  if (!Number.isInteger(gb) || gb < 1 || gb > 10) throw invalid("v.green_burst", {}, "green_burst");
  const mw = Number(f.max_wait_minutes.value);
  if (!Number.isInteger(mw) || mw < 5 || mw > 480) throw invalid("v.max_wait", {}, "max_wait_minutes");
  const pgbText = f.peak_green_burst.value.trim();
  const pgb = pgbText === "" ? null : Number(pgbText);
  if (pgb !== null && (!Number.isInteger(pgb) || pgb < 1 || pgb > 10)) throw invalid("v.green_burst", {}, "peak_green_burst");
  const hours = {};
  for (const d of WEEKDAYS) {
    const spans = parseSpans(f[`day_${d}`].value, t(`day.${d}`));
    if (spans.length) hours[d] = spans;
  }
  for (const row of $$("#special-hours tr.special")) {
    const day = $("[name=special_day]", row).value;
    if (!day) throw invalid("v.special_day", {}, "opening_hours");
    if (day in hours) throw invalid("v.special_twice", { day }, "opening_hours");
    hours[day] = parseSpans($("[name=special_spans]", row).value, day);
  }
  return {
    name,
    hotline: f.hotline.value.trim() || null,
    notice: f.notice.value.trim() || null,
    elderly_age: age,
    peak_start: ps,
    peak_end: pe,
    policy: { name: f.policy_name.value, green_burst: gb, max_wait_minutes: mw, peak_green_burst: pgb },
    opening_hours: hours,
    official_calendar: f.official_calendar.checked,
  };
}

async function saveHall(ev) {
  ev.preventDefault();
  const form = $("#hall-form");
  const ok = await guarded(form, async () => {
    const h = await call("PATCH", hallPath(), hallBody());
    $("#hall-name").textContent = h.name;
    await loadHall();
  });
  if (ok) flash(t("common.saved"));
}

// ---- catalogue ---------------------------------------------------------------

async function fetchServices() {
  const [all, pub] = await Promise.all([call("GET", hallPath("/services/all")), call("GET", hallPath("/services"))]);
  const waiting = Object.fromEntries(pub.map((s) => [s.code, s.waiting]));
  state.services = all.map((s) => ({ ...s, waiting: waiting[s.code] || 0 }));
}

async function loadCatalog() {
  await fetchServices();
  renderCatalog();
}

function renderCatalog() {
  const rows = state.services.map((s, i) => {
    const enabled = el("input", {
      type: "checkbox",
      "aria-label": t("svc.enabled"),
      checked: s.enabled,
      onchange: (e) => toggleService(s, e.target.checked, e.target),
    });
    return el(
      "tr",
      { class: s.enabled ? "" : "disabled", dataset: { code: s.code } },
      el(
        "td",
        {},
        el("div", { class: "actions" },
          el("button", { class: "btn secondary", type: "button", title: t("svc.up"), disabled: i === 0, onclick: () => moveService(i, -1) }, "↑"),
          el("button", { class: "btn secondary", type: "button", title: t("svc.down"), disabled: i === state.services.length - 1, onclick: () => moveService(i, 1) }, "↓"),
        ),
      ),
      el("td", {}, el("strong", {}, s.prefix)),
      el("td", {}, s.name_zh, el("div", { class: "muted" }, s.name_en)),
      el("td", {}, s.instant ? t("svc.instant") : t("svc.not_instant")),
      el("td", {}, t("common.minutes", { n: s.target_minutes })),
      el("td", {}, t(`svc.${s.handling}`)),
      el("td", {}, String(s.waiting)),
      el("td", {}, enabled),
      el("td", {}, el("button", { class: "btn secondary", type: "button", onclick: () => openService(s) }, t("common.edit"))),
    );
  });
  $("#svc-table tbody").replaceChildren(...rows);
}

async function toggleService(s, enabled, box) {
  const ok = await guarded("catalog", () => {
    if (!enabled && s.waiting > 0) throw waitingFor("v.waiting_disable", s, "enabled");
    return call("PATCH", hallPath(`/services/${s.code}`), { enabled });
  });
  // Refused: the box goes back at once (the reload below redraws it the same).
  if (!ok && box) box.checked = !enabled;
  if (ok) flash(enabled ? t("svc.enabled_done", { name: s.name_zh }) : t("svc.disabled_done", { name: s.name_zh }));
  await refresh("catalog", loadCatalog);
}

async function moveService(i, delta) {
  const list = [...state.services];
  const [item] = list.splice(i, 1);
  list.splice(i + delta, 0, item);
  await guarded("catalog", async () => {
    for (const [n, s] of list.entries()) {
      if (s.sort_order !== n + 1) await call("PATCH", hallPath(`/services/${s.code}`), { sort_order: n + 1 });
    }
  });
  await refresh("catalog", loadCatalog);
}

function waitingFor(key, s, field) {
  return invalid(key, { service: s.code, service_name: s.name_zh, waiting: s.waiting }, field);
}

let editing = null;

function openService(s) {
  editing = s;
  const f = $("#svc-form");
  clearError(f);
  f.reset();
  $("#svc-title").textContent = s ? t("svc.edit_title", { name: s.name_zh }) : t("svc.new");
  f.code.value = s ? s.code : "";
  f.code.disabled = !!s;
  f.prefix.value = s ? s.prefix : "";
  f.name_zh.value = s ? s.name_zh : "";
  f.name_en.value = s ? s.name_en : "";
  f.instant.checked = s ? s.instant : true;
  f.target_minutes.value = s ? s.target_minutes : 10;
  f.handling.value = s ? s.handling : "local";
  f.materials.value = s ? s.materials.join("\n") : "";
  f.guide.value = s ? s.guide || "" : "";
  $("#svc-dialog").showModal();
}

function serviceBody() {
  const f = $("#svc-form");
  const body = {};
  if (!editing) {
    body.code = f.code.value.trim();
    if (!CODE_RE.test(body.code)) throw invalid("v.code", {}, "code");
  }
  const prefix = f.prefix.value.trim().toUpperCase();
  if (!PREFIX_RE.test(prefix)) throw invalid("v.prefix", {}, "prefix");
  const other = state.services.find((s) => s.prefix === prefix && (!editing || s.code !== editing.code));
  if (other) throw invalid("v.prefix_taken", { prefix, service: other.code, service_name: other.name_zh }, "prefix");
  if (editing && prefix !== editing.prefix && editing.waiting > 0) throw waitingFor("v.waiting_prefix", editing, "prefix");
  const name = f.name_zh.value.trim();
  if (!name) throw invalid("v.name_required", {}, "name_zh");
  const target = Number(f.target_minutes.value);
  if (!Number.isInteger(target) || target < 1 || target > 240) throw invalid("v.target", {}, "target_minutes");
  const materials = f.materials.value.split("\n").map((m) => m.trim()).filter(Boolean);
  if (materials.length > 40) throw invalid("v.materials", {}, "materials");
  Object.assign(body, {
    prefix,
    name_zh: name,
    name_en: f.name_en.value.trim(),
    instant: f.instant.checked,
    target_minutes: target,
    handling: f.handling.value,
    materials,
    guide: f.guide.value.trim() || null,
  });
  return body;
}

async function saveService(ev) {
  ev.preventDefault();
  const f = $("#svc-form");
  const ok = await guarded(f, async () => {
    const body = serviceBody();
    if (editing) await call("PATCH", hallPath(`/services/${editing.code}`), body);
    else await call("POST", hallPath("/services"), body);
  });
  if (!ok) return;
  $("#svc-dialog").close();
  flash(t("common.saved"));
  await guarded("catalog", loadCatalog);
}

async function exportCatalog(format) {
  await guarded("catalog", async () => {
    const res = await rawCall("GET", hallPath(`/catalog?format=${format}`));
    download(`catalog-${state.hall}.${format === "yaml" ? "yaml" : "json"}`, await res.blob());
  });
}

async function importCatalog(ev) {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file) return;
  const text = await file.text();
  const ok = await guarded("catalog", async () => {
    const type = file.name.endsWith(".json") ? "application/json" : "application/yaml";
    const res = await rawCall("PUT", hallPath("/catalog"), { text, contentType: type });
    const items = await res.json();
    flash(t("cat.imported", { n: items.length }));
  });
  if (ok) await guarded("catalog", loadCatalog);
}

// ---- counters ----------------------------------------------------------------

async function loadCounters() {
  const [counters] = await Promise.all([call("GET", hallPath("/counters")), fetchServices()]);
  state.counters = counters;
  renderCounters();
}

function serviceNames(codes) {
  if (codes === null) return t("ctr.all_services");
  const names = Object.fromEntries(state.services.map((s) => [s.code, s.name_zh]));
  return codes.map((c) => names[c] || c).join("、");
}

function counterStatePill(s) {
  return pill(t(`ctr.state_${s}`), s === "open" ? "ok" : s === "paused" ? "warn" : "bad");
}

async function patchCounter(c, body, message) {
  const ok = await guarded("counters", () => call("PATCH", `/api/v1/counters/${c.id}`, body));
  if (ok && message) flash(message);
  await refresh("counters", loadCounters);
}

function servicesEditor(c, row) {
  const all = el("input", { type: "checkbox", name: "all", checked: c.services === null });
  const boxes = state.services.map((s) =>
    el("label", {}, el("input", { type: "checkbox", value: s.code, checked: c.services === null || c.services.includes(s.code) }), `${s.prefix} ${s.name_zh}`),
  );
  const save = el("button", {
    class: "btn",
    type: "button",
    onclick: async () => {
      if (all.checked) return patchCounter(c, { all_services: true }, t("common.saved"));
      const codes = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      if (!codes.length) return showError("counters", invalid("v.counter_services"));
      return patchCounter(c, { services: codes }, t("common.saved"));
    },
  }, t("common.save"));
  const editor = el(
    "tr",
    { class: "editor" },
    el("td", { colspan: "6" },
      el("label", { class: "field check" }, all, el("span", {}, t("ctr.all_services"))),
      el("div", { class: "services-pick" }, boxes),
      el("div", { class: "toolbar" }, save, el("button", { class: "btn secondary", type: "button", onclick: () => editor.remove() }, t("common.cancel"))),
    ),
  );
  row.after(editor);
}

function renderCounters() {
  const rows = state.counters.map((c) => {
    const name = el("input", { value: c.name, "aria-label": t("ctr.name"), maxlength: "60" });
    const row = el("tr", { dataset: { number: String(c.number) } });
    const actions = el("div", { class: "actions" },
      el("button", { class: "btn secondary", type: "button", onclick: () => {
        const n = name.value.trim();
        if (!n) return showError("counters", invalid("v.name_required"));
        return patchCounter(c, { name: n }, t("common.saved"));
      } }, t("ctr.rename")),
      el("button", { class: "btn secondary", type: "button", onclick: () => servicesEditor(c, row) }, t("ctr.choose")),
      c.state === "closed"
        ? el("button", { class: "btn green", type: "button", onclick: () => patchCounter(c, { state: "open" }, t("ctr.opened", { n: c.number })) }, t("ctr.open"))
        : el("button", { class: "btn danger", type: "button", onclick: () => patchCounter(c, { state: "closed" }, t("ctr.closed", { n: c.number })) }, t("ctr.close")),
    );
    row.append(
      el("td", {}, el("strong", {}, String(c.number))),
      el("td", {}, name),
      el("td", {}, counterStatePill(c.state)),
      el("td", { class: "services" }, serviceNames(c.services)),
      el("td", {}, c.current || "—", c.staff ? el("div", { class: "muted" }, c.staff) : null),
      el("td", {}, actions),
    );
    return row;
  });
  $("#ctr-table tbody").replaceChildren(...rows);
}

async function addCounter(ev) {
  ev.preventDefault();
  const f = $("#counter-new");
  const ok = await guarded("counters", async () => {
    const number = Number(f.number.value);
    if (!Number.isInteger(number) || number < 1 || number > 999) throw invalid("v.counter_number", {}, "number");
    if (state.counters.some((c) => c.number === number)) throw invalid("v.counter_exists", { number }, "number");
    const name = f.name.value.trim();
    if (!name) throw invalid("v.name_required", {}, "name");
    await call("POST", hallPath("/counters"), { number, name });
  });
  if (ok) {
    f.number.value = "";
    flash(t("common.saved"));
    await guarded("counters", loadCounters);
  }
}

// ---- staff -------------------------------------------------------------------

async function loadStaff() {
  const users = await call("GET", "/api/v1/users");
  state.users = users.filter((u) => u.all_halls || u.halls.includes(state.hall));
  renderStaff();
}

async function patchUser(u, body, message) {
  const ok = await guarded("staff", () => call("PATCH", `/api/v1/users/${u.id}`, body));
  if (ok && message) flash(message);
  await refresh("staff", loadStaff);
  return ok;
}

function inlineEditor(row, cols, content) {
  for (const e of $$("tr.editor", row.parentNode)) e.remove();
  const editor = el("tr", { class: "editor" }, el("td", { colspan: String(cols) }, content));
  row.after(editor);
  return editor;
}

function resetEditor(u, row) {
  const input = el("input", { type: "password", name: "reset_password", autocomplete: "new-password", "aria-label": t("user.new_password") });
  const editor = inlineEditor(row, 6, el("div", { class: "inline-form" },
    el("label", { class: "field" }, el("span", {}, t("user.new_password")), input),
    el("button", { class: "btn", type: "button", onclick: async () => {
      if (input.value.length < MIN_PASSWORD) return showError("staff", invalid("v.password_short", {}, "password"));
      if (await patchUser(u, { reset_password: input.value }, t("user.reset_done", { name: u.display_name || u.username }))) editor.remove();
      return undefined;
    } }, t("user.reset")),
    el("button", { class: "btn secondary", type: "button", onclick: () => editor.remove() }, t("common.cancel")),
  ));
  input.focus();
}

function hallsEditor(u, row) {
  const boxes = state.halls.map((h) =>
    el("label", {}, el("input", { type: "checkbox", value: h.code, checked: u.halls.includes(h.code) }), h.name),
  );
  const editor = inlineEditor(row, 6, el("div", {},
    el("div", { class: "services-pick" }, boxes),
    el("div", { class: "toolbar" },
      el("button", { class: "btn", type: "button", onclick: async () => {
        const halls = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
        if (!halls.length) return showError("staff", invalid("v.halls_required", {}, "halls"));
        if (await patchUser(u, { halls }, t("common.saved"))) editor.remove();
        return undefined;
      } }, t("common.save")),
      el("button", { class: "btn secondary", type: "button", onclick: () => editor.remove() }, t("common.cancel")),
    ),
  ));
}

function renderStaff() {
  const rows = state.users.map((u) => {
    const role = el("select", { "aria-label": t("user.role"), onchange: (e) => patchUser(u, { role: e.target.value }, t("common.saved")) },
      ...["staff", "supervisor", "admin"].map((r) => el("option", { value: r, selected: u.role === r }, t(`role.${r}`))));
    const row = el("tr", { class: u.active ? "" : "inactive", dataset: { username: u.username } });
    const status = u.active
      ? u.must_change_password ? pill(t("user.must_change"), "warn") : pill(t("user.active"), "ok")
      : pill(t("user.inactive"), "bad");
    const self = state.me && u.id === state.me.id;
    row.append(
      el("td", {}, u.username),
      el("td", {}, u.display_name),
      el("td", {}, role),
      el("td", {}, u.all_halls ? t("user.all_halls") : u.halls.join(", ")),
      el("td", {}, status),
      el("td", {}, el("div", { class: "actions" },
        el("button", { class: "btn secondary", type: "button", onclick: () => resetEditor(u, row) }, t("user.reset")),
        u.all_halls ? null : el("button", { class: "btn secondary", type: "button", onclick: () => hallsEditor(u, row) }, t("user.halls_edit")),
        self ? null : u.active
          ? el("button", { class: "btn danger", type: "button", onclick: () => patchUser(u, { active: false }, t("user.deactivated", { name: u.display_name || u.username })) }, t("user.deactivate"))
          : el("button", { class: "btn green", type: "button", onclick: () => patchUser(u, { active: true }, t("user.reactivated", { name: u.display_name || u.username })) }, t("user.reactivate")),
      )),
    );
    return row;
  });
  $("#user-table tbody").replaceChildren(...rows);
}

async function addUser(ev) {
  ev.preventDefault();
  const f = $("#user-new");
  const ok = await guarded("staff", async () => {
    const username = f.username.value.trim();
    if (!USERNAME_RE.test(username)) throw invalid("v.username", {}, "username");
    if (f.password.value.length < MIN_PASSWORD) throw invalid("v.password_short", {}, "password");
    await call("POST", "/api/v1/users", {
      username,
      display_name: f.display_name.value.trim(),
      password: f.password.value,
      role: f.role.value,
      halls: [state.hall],
    });
  });
  if (ok) {
    flash(t("user.created", { name: f.username.value.trim() }));
    f.reset();
    await guarded("staff", loadStaff);
  }
}

// ---- devices -----------------------------------------------------------------

async function loadDevices() {
  const [devices, counters] = await Promise.all([call("GET", hallPath("/devices")), call("GET", hallPath("/counters"))]);
  state.counters = counters;
  $("#device-new [name=counter]").replaceChildren(
    el("option", { value: "" }, t("dev.no_counter")),
    ...counters.map((c) => el("option", { value: String(c.number) }, t("dev.counter_n", { n: c.number }))),
  );
  const rows = devices.map((d) => {
    const st = d.revoked
      ? pill(t("dev.revoked"), "bad")
      : d.status && d.status.state
        ? pill(d.status.state + (d.status.detail ? ` · ${d.status.detail}` : ""), d.status.state === "ok" ? "ok" : "warn")
        : pill(t("dev.no_status"));
    return el("tr", { class: d.revoked ? "inactive" : "", dataset: { device: String(d.id) } },
      el("td", {}, d.name),
      el("td", {}, t(`dev.${d.kind}`)),
      el("td", {}, d.counter ? String(d.counter) : "—"),
      el("td", {}, fmtTime(d.last_seen_at)),
      el("td", {}, st),
      el("td", {}, d.revoked ? null : el("button", { class: "btn danger", type: "button", onclick: () => revokeDevice(d) }, t("dev.revoke"))),
    );
  });
  $("#dev-table tbody").replaceChildren(...rows);
}

async function revokeDevice(d) {
  if (!window.confirm(t("dev.revoke_confirm", { name: d.name }))) return;
  const ok = await guarded("devices", () => call("DELETE", `/api/v1/devices/${d.id}`));
  if (ok) flash(t("dev.revoked_done", { name: d.name }));
  await refresh("devices", loadDevices);
}

async function addDevice(ev) {
  ev.preventDefault();
  const f = $("#device-new");
  let created = null;
  const ok = await guarded("devices", async () => {
    const name = f.name.value.trim();
    if (!name) throw invalid("v.name_required", {}, "name");
    const counter = f.counter.value ? Number(f.counter.value) : null;
    if (counter === null && (f.kind.value === "rating_pad" || f.kind.value === "keypad")) throw invalid("v.device_counter", {}, "counter");
    created = await call("POST", hallPath("/devices"), { kind: f.kind.value, name, counter });
    const qr = await call("POST", "/api/v1/admin/qr", { text: created.pair_url });
    $("#pair-qr").src = qr.data_url;
  });
  if (!ok) return;
  f.name.value = "";
  $("#pair-url").value = created.pair_url;
  $("#pair-open").href = created.pair_url;
  $("#pair-token").value = created.token;
  $("#pair-box").classList.remove("hidden");
  await guarded("devices", loadDevices);
}

// ---- notices -----------------------------------------------------------------

function hallToday() {
  const local = state.hallInfo ? state.hallInfo.local_time : new Date().toISOString();
  return local.slice(0, 10);
}

async function loadNotices() {
  if (!state.hallInfo || state.hallInfo.code !== state.hall) state.hallInfo = await call("GET", hallPath());
  const notices = await call("GET", hallPath("/notices"));
  const f = $("#notice-form");
  if (!f.id.value && !f.start_date.value) {
    f.start_date.value = hallToday();
    f.end_date.value = hallToday();
  }
  const rows = notices.map((n) =>
    el("tr", { dataset: { notice: String(n.id) } },
      el("td", {}, t(`ntc.${n.kind}`)),
      el("td", {}, n.title ? el("strong", {}, n.title) : null, n.title ? el("br") : null, n.text),
      el("td", {}, `${n.start_date} ~ ${n.end_date}`),
      el("td", {}, pill(t(`ntc.status_${n.status}`), n.status === "active" ? "ok" : n.status === "scheduled" ? "warn" : "")),
      el("td", {}, el("div", { class: "actions" },
        el("button", { class: "btn secondary", type: "button", onclick: () => editNotice(n) }, t("common.edit")),
        el("button", { class: "btn danger", type: "button", onclick: () => deleteNotice(n) }, t("common.delete")),
      )),
    ),
  );
  $("#ntc-table tbody").replaceChildren(...rows);
}

function editNotice(n) {
  const f = $("#notice-form");
  f.id.value = n ? String(n.id) : "";
  f.kind.value = n ? n.kind : "scroll";
  f.title.value = n ? n.title : "";
  f.text.value = n ? n.text : "";
  f.start_date.value = n ? n.start_date : hallToday();
  f.end_date.value = n ? n.end_date : hallToday();
  $("#notice-submit").textContent = n ? t("common.save") : t("ntc.add");
  $("#notice-cancel").classList.toggle("hidden", !n);
  if (n) f.text.focus();
}

async function deleteNotice(n) {
  if (!window.confirm(t("ntc.delete_confirm"))) return;
  const ok = await guarded($("#notice-form"), () => call("DELETE", `/api/v1/notices/${n.id}`));
  if (ok) flash(t("ntc.deleted"));
  await refresh($("#notice-form"), loadNotices);
}

async function saveNotice(ev) {
  ev.preventDefault();
  const f = $("#notice-form");
  const ok = await guarded(f, async () => {
    const text = f.text.value.trim();
    if (!text) throw invalid("v.text_required", {}, "text");
    if (!f.start_date.value || !f.end_date.value) throw invalid("v.dates_required", {}, "start_date");
    if (f.end_date.value < f.start_date.value) throw invalid("v.dates", {}, "end_date");
    const body = { kind: f.kind.value, title: f.title.value.trim(), text, start_date: f.start_date.value, end_date: f.end_date.value };
    if (f.id.value) await call("PATCH", `/api/v1/notices/${f.id.value}`, body);
    else await call("POST", hallPath("/notices"), body);
  });
  if (!ok) return;
  flash(t("ntc.published"));
  editNotice(null);
  await guarded(f, loadNotices);
}

// ---- wiring ------------------------------------------------------------------

function wire() {
  $("#lang").addEventListener("click", () => toggleLang());
  document.addEventListener("hallq:lang", () => {
    applyStatic();
    if (!state.me || $("#console").classList.contains("hidden")) return;
    // The hall form may hold unsaved edits: relabel it instead of reloading it.
    if (state.tab === "hall") $$("#weekly-hours tr").forEach((row, i) => (row.firstChild.textContent = t(`day.${WEEKDAYS[i]}`)));
    else selectTab(state.tab);
  });
  $("#logout").addEventListener("click", () => {
    setStaffToken(null);
    boot();
  });
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    await guarded(f, async () => {
      await login(f.username.value.trim(), f.password.value, { askPassword: false });
      f.password.value = "";
    });
    if (staffToken()) await boot();
  });
  $("#password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const ok = await guarded(f, async () => {
      if (f.new_password.value.length < MIN_PASSWORD) throw invalid("v.password_short", {}, "new_password");
      if (f.new_password.value !== f.again.value) throw invalid("v.password_mismatch", {}, "again");
      await call("POST", "/api/v1/auth/password", { old_password: f.old_password.value, new_password: f.new_password.value });
    });
    if (ok) {
      f.reset();
      flash(t("pw.done"));
      await boot();
    }
  });
  $("#hall-pick").addEventListener("change", async (ev) => {
    state.hall = ev.target.value;
    state.hallInfo = null;
    localStorage.setItem("hallq.admin.hall", state.hall);
    const h = state.halls.find((x) => x.code === state.hall);
    $("#hall-name").textContent = h ? h.name : "";
    await selectTab(state.tab);
  });
  for (const b of $$(".tabs [data-tab]")) b.addEventListener("click", () => selectTab(b.dataset.tab));
  $("#hall-form").addEventListener("submit", saveHall);
  $("#add-special").addEventListener("click", () => $("#special-hours").append(specialRow()));
  $("#svc-new").addEventListener("click", () => openService(null));
  $("#svc-form").addEventListener("submit", saveService);
  $("#svc-form [data-close]").addEventListener("click", () => $("#svc-dialog").close());
  $("#svc-form [name=prefix]").addEventListener("input", (e) => {
    e.target.value = e.target.value.toUpperCase();
  });
  $("#cat-export-yaml").addEventListener("click", () => exportCatalog("yaml"));
  $("#cat-export-json").addEventListener("click", () => exportCatalog("json"));
  $("#cat-import").addEventListener("change", importCatalog);
  $("#counter-new").addEventListener("submit", addCounter);
  $("#user-new").addEventListener("submit", addUser);
  $("#device-new").addEventListener("submit", addDevice);
  $("#pair-done").addEventListener("click", () => {
    $("#pair-box").classList.add("hidden");
    $("#pair-token").value = "";
    $("#pair-url").value = "";
  });
  $("#notice-form").addEventListener("submit", saveNotice);
  $("#notice-cancel").addEventListener("click", () => editNotice(null));
}

wire();
boot();
