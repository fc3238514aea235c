// One string catalogue per language. Simplified Chinese is the default;
// English is switched on with ?lang=en or the page's language button, and the
// choice is remembered. Pages add their own keys with register().
const catalogues = {
  "zh-CN": {
    "app.name": "医保服务大厅",
    "lang.switch": "English",
    "error.network": "网络连接中断，请稍后再试",
    "error.generic": "操作失败",
    "login.title": "工作人员登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.logout": "退出登录",
    "pw.title": "请设置新密码",
    "pw.why": "管理员为您设置了初始密码，继续使用前请换成只有您自己知道的密码（至少 8 位）。",
    "pw.new": "新密码",
    "pw.repeat": "再次输入新密码",
    "pw.mismatch": "两次输入的密码不一致",
    "pw.save": "保存并继续",
    "pw.cancel": "取消",
    "pw.required": "需要先设置新密码才能继续",
    "state.waiting": "等候中",
    "state.called": "已叫号",
    "state.serving": "办理中",
    "state.held": "挂起",
    "state.done": "已办结",
    "state.no_show": "过号",
    "state.cancelled": "已取消",
    "state.transferred": "已转移",
    "channel.normal": "普通",
    "channel.green": "绿色通道",
    "channel.appointment": "预约",
  },
  en: {
    "app.name": "Medical Insurance Service Hall",
    "lang.switch": "中文",
    "error.network": "The connection was lost; please try again shortly",
    "error.generic": "Something went wrong",
    "login.title": "Staff login",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.logout": "Log out",
    "pw.title": "Choose a new password",
    "pw.why": "An administrator set your starting password; choose one only you know (at least 8 characters) to continue.",
    "pw.new": "New password",
    "pw.repeat": "New password again",
    "pw.mismatch": "The two passwords differ",
    "pw.save": "Save and continue",
    "pw.cancel": "Cancel",
    "pw.required": "A new password is needed before you can continue",
    "state.waiting": "Waiting",
    "state.called": "Called",
    "state.serving": "Being served",
    "state.held": "On hold",
    "state.done": "Done",
    "state.no_show": "No-show",
    "state.cancelled": "Cancelled",
    "state.transferred": "Transferred",
    "channel.normal": "Normal",
    "channel.green": "Green channel",
    "channel.appointment": "Appointment",
  },
};

function initialLang() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q === "en" || q === "zh-CN") return q;
  return localStorage.getItem("hallq.lang") || "zh-CN";
}

let lang = initialLang();
document.documentElement.lang = lang;

export function register(strings) {
  for (const [l, table] of Object.entries(strings)) {
    catalogues[l] = { ...(catalogues[l] || {}), ...table };
  }
}

export function t(key, vars = {}) {
  const table = catalogues[lang] || catalogues["zh-CN"];
  let s = table[key] ?? catalogues["zh-CN"][key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function currentLang() {
  return lang;
}

export function setLang(l) {
  lang = l;
  localStorage.setItem("hallq.lang", l);
  document.documentElement.lang = l;
  document.dispatchEvent(new CustomEvent("hallq:lang", { detail: l }));
}

export function toggleLang() {
  setLang(lang === "en" ? "zh-CN" : "en");
}

// Fill every [data-i18n] element of the page.
export function applyStatic(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
}
