// Phone booking page (/book/{hall}): pick an item (its materials are shown),
// a day and a free slot, give a name and a mobile number, get a booking code
// and a QR for the kiosk. Look up or cancel a booking by code (or name+mobile).
// Staff open it with ?staff=1 to book for a resident (帮办).
import { api, ApiError, login, pathParam, staffToken, setStaffToken, el } from "./api.js";
import { applyStatic, register, t, toggleLang } from "./i18n.js";

register({
  "zh-CN": {
    "book.title": "预约办理",
    "book.pick.item": "第一步：选择要办理的事项",
    "book.materials": "请带齐以下材料",
    "book.materials.none": "无需额外材料",
    "book.pick.day": "第二步：选择日期",
    "book.pick.slot": "第三步：选择时段",
    "book.no.slots": "这一天没有可预约的时段，请选择其他日期",
    "book.who": "第四步：填写预约人",
    "book.name": "姓名",
    "book.phone": "手机号码",
    "book.privacy": "姓名和手机号码仅用于查找您的预约，页面上只显示部分内容。",
    "book.submit": "确认预约",
    "book.back": "返回上一步",
    "book.home": "返回首页",
    "book.made": "预约成功！请截图保存预约码。",
    "book.code": "预约码",
    "book.f.item": "办理事项",
    "book.f.time": "预约时间",
    "book.f.checkin": "签到时间",
    "book.f.who": "预约人",
    "book.f.reason": "取消原因",
    "book.f.ticket": "排队号码",
    "book.keep": "到厅后请在取号机上点“预约签到”，扫描二维码或输入预约码，预约号优先叫号。",
    "book.cancel": "取消这个预约",
    "book.cancel.confirm": "确定要取消这个预约吗？",
    "book.lookup": "查询或取消预约",
    "book.lookup.code": "输入预约码",
    "book.lookup.go": "查询",
    "book.lookup.lost": "忘记预约码？填写预约时的姓名和手机号码查找：",
    "book.find": "查找我的预约",
    "book.found.none": "没有找到今天及以后的预约",
    "book.left": "余{n}个",
    "book.full": "已约满",
    "book.closed": "暂停预约",
    "book.past": "已过",
    "book.day.holiday": "节假日",
    "book.day.makeup": "调休上班",
    "book.day.closed": "不开放",
    "book.day.today": "今天",
    "book.disabled": "本服务厅暂未开放预约，请直接到厅取号办理。",
    "book.hotline": "咨询电话 {n}",
    "book.window": "{day} {from} 至 {to}",
    "book.staff.title": "工作人员登录（帮办预约）",
    "book.staff.on": "帮办模式：{name} 正在为居民预约",
    "weekday.0": "周一", "weekday.1": "周二", "weekday.2": "周三", "weekday.3": "周四",
    "weekday.4": "周五", "weekday.5": "周六", "weekday.6": "周日",
    "err.slot_full": "这个时段刚刚约满了，请选择其他时段",
    "err.slot_closed": "这个时段已暂停预约，请选择其他时段",
    "err.slot_past": "这个时段已经过了，请选择其他时段",
    "err.already_booked": "您当天已经预约过这个事项了",
    "err.phone": "请输入正确的11位手机号码",
    "err.name": "请填写身份证上的姓名",
    "err.code": "预约码不存在，请核对后再输入",
    "err.rate_limited": "操作太频繁，请一分钟后再试",
  },
  en: {
    "book.title": "Book an appointment",
    "book.pick.item": "Step 1: choose the service",
    "book.materials": "Please bring these documents",
    "book.materials.none": "No documents needed",
    "book.pick.day": "Step 2: choose a day",
    "book.pick.slot": "Step 3: choose a time",
    "book.no.slots": "No times can be booked on this day; please choose another",
    "book.who": "Step 4: who is coming",
    "book.name": "Name",
    "book.phone": "Mobile number",
    "book.privacy": "Your name and number are only used to find your booking and are shown partly hidden.",
    "book.submit": "Confirm booking",
    "book.back": "Back",
    "book.home": "Start again",
    "book.made": "Booked! Please keep a screenshot of the code.",
    "book.code": "Booking code",
    "book.f.item": "Service",
    "book.f.time": "Time",
    "book.f.checkin": "Check in",
    "book.f.who": "Booked for",
    "book.f.reason": "Reason",
    "book.f.ticket": "Queue number",
    "book.keep": "In the hall, tap “Appointment check-in” on the kiosk and scan the QR or key in the code; appointments are called first.",
    "book.cancel": "Cancel this booking",
    "book.cancel.confirm": "Cancel this booking?",
    "book.lookup": "Find or cancel a booking",
    "book.lookup.code": "Booking code",
    "book.lookup.go": "Find",
    "book.lookup.lost": "Lost the code? Use the name and mobile number you booked with:",
    "book.find": "Find my bookings",
    "book.found.none": "No bookings from today on",
    "book.left": "{n} left",
    "book.full": "Full",
    "book.closed": "Closed",
    "book.past": "Past",
    "book.day.holiday": "Holiday",
    "book.day.makeup": "Make-up workday",
    "book.day.closed": "Closed",
    "book.day.today": "Today",
    "book.disabled": "This hall does not take appointments yet; please take a ticket in the hall.",
    "book.hotline": "Hotline {n}",
    "book.window": "{day} {from} to {to}",
    "book.staff.title": "Staff login (book for a resident)",
    "book.staff.on": "Staff mode: {name} is booking for a resident",
    "weekday.0": "Mon", "weekday.1": "Tue", "weekday.2": "Wed", "weekday.3": "Thu",
    "weekday.4": "Fri", "weekday.5": "Sat", "weekday.6": "Sun",
    "err.slot_full": "This time has just been fully booked; please choose another",
    "err.slot_closed": "This time is closed for booking; please choose another",
    "err.slot_past": "This time has passed; please choose another",
    "err.already_booked": "You already have a booking for this service on that day",
    "err.phone": "Please enter an 11-digit mobile number",
    "err.name": "Please enter the name on your ID card",
    "err.code": "No booking has this code; please check it",
    "err.rate_limited": "Too many tries; please wait a minute",
  },
});

const hallCode = pathParam(1);
const $ = (id) => document.getElementById(id);
const state = { offer: null, item: null, day: null, slot: null, booking: null, staff: null };
window.hallq = { state };

function error(msg) {
  $("error").textContent = msg || "";
  $("error").classList.toggle("hidden", !msg);
  if (msg) $("error").scrollIntoView({ block: "nearest" });
}

function errText(e) {
  if (!(e instanceof ApiError)) return t("error.generic");
  const field = e.details && e.details.field;
  if (["slot_full", "slot_closed", "slot_past", "already_booked", "rate_limited"].includes(e.code)) return t(`err.${e.code}`);
  if (field === "phone" || field === "name" || field === "code") return t(`err.${field}`);
  return e.message;
}

const STEPS = ["item", "day", "slot", "form", "view"];
function show(step) {
  for (const s of STEPS) $(`step-${s}`).classList.toggle("hidden", s !== step);
  $("lookup").classList.toggle("hidden", step !== "item");
  state.step = step;
  window.scrollTo(0, 0);
}

const hhmm = (iso) => iso.slice(11, 16);
function dayLabel(iso) {
  const d = new Date(`${iso}T00:00:00`);
  const wd = (d.getDay() + 6) % 7;
  return `${iso.slice(5, 7)}-${iso.slice(8, 10)} ${t(`weekday.${wd}`)}`;
}

function renderItems() {
  const o = state.offer;
  $("closed-note").classList.toggle("hidden", o.enabled && o.items.length > 0);
  $("items").replaceChildren(
    ...o.items.map((it) =>
      el("button", { class: "btn b-choice", dataset: { service: it.code }, onclick: () => pickItem(it) }, it.name_zh,
        document.documentElement.lang === "en" && it.name_en ? el("small", {}, it.name_en) : null),
    ),
  );
}

function materialsList(node, list) {
  node.replaceChildren(...(list.length ? list.map((m) => el("li", {}, m)) : [el("li", {}, t("book.materials.none"))]));
}

function pickItem(it) {
  state.item = it;
  error("");
  $("day-item").textContent = it.name_zh;
  materialsList($("materials"), it.materials);
  const today = state.offer.today;
  $("days").replaceChildren(
    ...state.offer.days.map((d) => {
      let note = d.date === today ? t("book.day.today") : "";
      if (d.kind === "holiday") note = t("book.day.holiday");
      else if (!d.open) note = t("book.day.closed");
      else if (d.kind === "makeup") note = t("book.day.makeup");
      return el("button", { class: "btn b-choice", disabled: !d.open, dataset: { date: d.date }, onclick: () => pickDay(d.date) },
        dayLabel(d.date), note ? el("small", {}, note) : null);
    }),
  );
  show("day");
}

async function pickDay(day) {
  state.day = day;
  error("");
  try {
    const data = await api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/slots?service=${encodeURIComponent(state.item.code)}&date=${day}`);
    $("slot-day").textContent = `${state.item.name_zh} · ${dayLabel(day)}`;
    $("slots").replaceChildren(
      ...data.slots.map((s) => {
        let note = t("book.left", { n: s.free });
        if (s.closed) note = t("book.closed");
        else if (!s.bookable && s.free > 0) note = t("book.past");
        else if (s.free === 0) note = t("book.full");
        return el("button", { class: "btn b-choice", disabled: !s.bookable, dataset: { start: s.start }, onclick: () => pickSlot(s) },
          s.label, el("small", {}, note));
      }),
    );
    $("no-slots").classList.toggle("hidden", data.slots.some((s) => s.bookable));
    show("slot");
  } catch (e) {
    error(errText(e));
  }
}

function pickSlot(s) {
  state.slot = s;
  error("");
  $("form-summary").textContent = `${state.item.name_zh} · ${dayLabel(state.day)} ${s.label}`;
  show("form");
  $("name").focus();
}

async function submit() {
  const btn = $("submit");
  if (btn.disabled) return;
  error("");
  btn.disabled = true;
  try {
    const booking = await api("POST", `/api/v1/halls/${encodeURIComponent(hallCode)}/appointments`, {
      token: state.staff ? staffToken() : undefined,
      body: { service: state.item.code, slot_start: state.slot.start, name: $("name").value, phone: $("phone").value },
    });
    $("name").value = "";
    $("phone").value = "";
    renderBooking(booking, true);
  } catch (e) {
    error(errText(e));
    // A slot taken meanwhile: show the day again with fresh counts.
    if (e instanceof ApiError && ["slot_full", "slot_closed", "slot_past"].includes(e.code)) await pickDay(state.day).then(() => error(errText(e)));
  } finally {
    btn.disabled = false;
  }
}

function renderBooking(b, justMade) {
  state.booking = b;
  $("v-made").classList.toggle("hidden", !justMade);
  $("v-state").textContent = b.state_label;
  $("v-state").classList.toggle("off", b.state !== "booked" && b.state !== "checked_in");
  $("v-code").textContent = b.code;
  $("v-qr").src = b.qr_url;
  $("v-qr").classList.toggle("hidden", b.state !== "booked");
  $("v-item").textContent = b.service_name;
  $("v-time").textContent = `${dayLabel(b.date)} ${b.slot_label}`;
  $("v-window").textContent = t("book.window", { day: dayLabel(b.date), from: hhmm(b.check_in_opens), to: hhmm(b.check_in_closes) });
  $("v-who").textContent = `${b.name_masked} ${b.phone_masked}`;
  const reason = b.cancel_reason && b.state === "cancelled_by_hall";
  $("v-reason").textContent = b.cancel_reason || "";
  $("v-reason").classList.toggle("hidden", !reason);
  $("v-reason-label").classList.toggle("hidden", !reason);
  $("v-ticket").textContent = b.ticket_number || "";
  $("v-ticket").classList.toggle("hidden", !b.ticket_number);
  $("v-ticket-label").classList.toggle("hidden", !b.ticket_number);
  materialsList($("v-materials"), b.materials);
  $("v-hotline").textContent = b.hotline ? t("book.hotline", { n: b.hotline }) : "";
  $("cancel").classList.toggle("hidden", b.state !== "booked");
  show("view");
}

async function cancelBooking() {
  if (!state.booking || !window.confirm(t("book.cancel.confirm"))) return;
  error("");
  try {
    const b = await api("DELETE", `/api/v1/appointments/${encodeURIComponent(state.booking.code)}`, {
      token: state.staff ? staffToken() : undefined,
    });
    renderBooking(b, false);
  } catch (e) {
    error(errText(e));
  }
}

async function lookup() {
  const code = $("lookup-code").value.trim();
  if (!code) return;
  error("");
  try {
    renderBooking(await api("GET", `/api/v1/appointments/${encodeURIComponent(code)}`), false);
  } catch (e) {
    error(errText(e));
  }
}

async function find() {
  error("");
  try {
    const list = await api("POST", `/api/v1/halls/${encodeURIComponent(hallCode)}/appointments/find`, {
      body: { name: $("find-name").value, phone: $("find-phone").value },
    });
    $("found").replaceChildren(
      ...(list.length
        ? list.map((b) => el("button", { class: "btn secondary b-choice", dataset: { code: b.code }, onclick: () => renderBooking(b, false) },
            `${b.service_name} · ${dayLabel(b.date)} ${b.slot_label}`, el("small", {}, `${b.code} · ${b.state_label}`)))
        : [el("p", { class: "b-hint" }, t("book.found.none"))]),
    );
  } catch (e) {
    error(errText(e));
  }
}

function renderStaff() {
  const on = Boolean(state.staff && staffToken());
  $("staff-banner").textContent = on ? t("book.staff.on", { name: state.staff }) : "";
  $("staff-banner").classList.toggle("hidden", !on);
  const wanted = new URLSearchParams(location.search).get("staff") === "1";
  $("staff-login").classList.toggle("hidden", !wanted || on);
}

async function staffLogin() {
  error("");
  try {
    const data = await login($("s-user").value, $("s-pass").value);
    state.staff = data.display_name || $("s-user").value;
    sessionStorage.setItem("hallq.book.staff", state.staff);
    renderStaff();
  } catch (e) {
    setStaffToken(null);
    error(errText(e));
  }
}

async function start() {
  applyStatic();
  if (staffToken()) state.staff = sessionStorage.getItem("hallq.book.staff");
  renderStaff();
  try {
    state.offer = await api("GET", `/api/v1/halls/${encodeURIComponent(hallCode)}/appointment-offer`);
    $("hall-name").textContent = `${state.offer.hall_name} · ${t("book.title")}`;
    document.title = `${t("book.title")} · ${state.offer.hall_name}`;
    renderItems();
    const code = new URLSearchParams(location.search).get("code");
    if (code) {
      $("lookup-code").value = code;
      await lookup();
    }
  } catch (e) {
    error(errText(e));
  }
  document.body.dataset.ready = "1";
}

$("lang").addEventListener("click", toggleLang);
document.addEventListener("hallq:lang", () => {
  applyStatic();
  if (state.offer) {
    $("hall-name").textContent = `${state.offer.hall_name} · ${t("book.title")}`;
    renderItems();
  }
  renderStaff();
});
for (const b of document.querySelectorAll("[data-back]")) b.addEventListener("click", () => { error(""); show(b.dataset.back); });
$("submit").addEventListener("click", submit);
$("cancel").addEventListener("click", cancelBooking);
$("lookup-go").addEventListener("click", lookup);
$("lookup-code").addEventListener("keydown", (ev) => { if (ev.key === "Enter") lookup(); });
$("find-go").addEventListener("click", find);
$("s-login").addEventListener("click", staffLogin);
start();
