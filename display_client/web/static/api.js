// Shared client helpers for every hallq page: API calls in the server's error
// shape, tokens, and the live event stream with catch-up by seq.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// Device pages are paired by opening a link with ?device_token=...; the token
// is then kept in localStorage so a reload keeps working.
export function deviceToken(kind) {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("device_token");
  const key = `hallq.device.${kind}`;
  if (fromUrl) {
    localStorage.setItem(key, fromUrl);
    params.delete("device_token");
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? `?${q}` : ""));
    return fromUrl;
  }
  return localStorage.getItem(key);
}

export function staffToken() {
  return sessionStorage.getItem("hallq.staff.token");
}

export function setStaffToken(token, role) {
  if (token) {
    sessionStorage.setItem("hallq.staff.token", token);
    sessionStorage.setItem("hallq.staff.role", role || "");
  } else {
    sessionStorage.removeItem("hallq.staff.token");
    sessionStorage.removeItem("hallq.staff.role");
  }
}

export async function api(method, path, { body, token, headers } = {}) {
  const h = { Accept: "application/json", ...(headers || {}) };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (token) h.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", t("error.network"));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "http_error", err.message || `${res.status}`, err.details);
  }
  return data;
}

// Who is signed in on the supervisor and roll-up pages: `{ me }` for a supervisor
// or an admin; `{}` when nobody is or the login has expired (the stale token is
// forgotten); `{ denied: true }` for a role that may not see the page. Without
// `me` the page shows its login view.
export async function signedInSupervisor() {
  const token = staffToken();
  if (!token) return {};
  try {
    const me = await api("GET", "/api/v1/auth/me", { token });
    return ["supervisor", "admin"].includes(me.role) ? { me } : { denied: true };
  } catch (err) {
    if (!(err instanceof ApiError) || ![401, 403].includes(err.status)) throw err;
    if (err.status === 401) setStaffToken(null);
    return err.status === 403 ? { denied: true } : {};
  }
}

// The staff login form of the supervisor, cases and roll-up pages: log in, then
// `after()` (the page's boot); a refusal is shown in the form's [data-error] box.
export function bindLoginForm(form, after) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = form.querySelector("[data-error]");
    box.classList.add("hidden");
    try {
      await login(form.username.value.trim(), form.password.value);
      await after();
    } catch (err) {
      box.textContent = err.message;
      box.classList.remove("hidden");
    }
  });
}

export async function login(username, password, { askPassword = true } = {}) {
  const data = await api("POST", "/api/v1/auth/token", { body: { username, password } });
  setStaffToken(data.access_token, data.role);
  // An account an admin created or reset must choose its own password before
  // the server lets it do anything else: ask here, on whichever page logged in
  // (the admin console has its own page for it and passes askPassword: false).
  if (data.must_change_password && askPassword) {
    await choosePassword(password);
    data.must_change_password = false;
  }
  return data;
}

// A modal form: new password twice; resolves once the server accepted it.
// Cancelling logs out again (the token could do nothing anyway).
function choosePassword(oldPassword) {
  return new Promise((resolve, reject) => {
    const msg = el("p", { class: "pw-error", role: "alert" });
    const first = el("input", { type: "password", name: "new_password", autocomplete: "new-password", minlength: "8", required: true });
    const second = el("input", { type: "password", name: "repeat", autocomplete: "new-password", minlength: "8", required: true });
    const form = el("form", { method: "dialog", class: "pw-form" },
      el("h2", {}, t("pw.title")),
      el("p", {}, t("pw.why")),
      el("label", {}, t("pw.new"), first),
      el("label", {}, t("pw.repeat"), second),
      msg,
      el("div", { class: "pw-actions" },
        el("button", { type: "button", value: "cancel", class: "btn secondary" }, t("pw.cancel")),
        el("button", { type: "submit", value: "ok", class: "btn" }, t("pw.save"))),
    );
    const dialog = el("dialog", { id: "password-dialog" }, form);
    document.body.append(dialog);
    const done = (fn, arg) => { dialog.close(); dialog.remove(); fn(arg); };
    form.querySelector("button[value=cancel]").addEventListener("click", () => {
      setStaffToken(null);
      done(reject, new ApiError(403, "must_change_password", t("pw.required")));
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      msg.textContent = "";
      if (first.value !== second.value) {
        msg.textContent = t("pw.mismatch");
        return;
      }
      try {
        await api("POST", "/api/v1/auth/password", {
          token: staffToken(),
          body: { old_password: oldPassword, new_password: first.value },
        });
        done(resolve);
      } catch (err) {
        msg.textContent = err.message;
      }
    });
    dialog.addEventListener("cancel", (e) => e.preventDefault()); // Esc does not skip it
    dialog.showModal();
    first.focus();
  });
}

// Live events: connects, catches up with ?since=, and on a gap or a "resync"
// message calls onSnapshot() so the page reloads its state from the server.
//
// Messages are handled strictly one after another (a promise chain): while a
// resync awaits its snapshot, later messages wait, and are then applied only if
// the snapshot's seq does not already cover them. Handled concurrently they
// would be compared against the old seq, each fetching its own snapshot.
//
// The public hall socket sends events a screen may not see as
// {seq, type: "hidden"}: the seq advances, the page hears nothing (onHidden, if
// given, is told that something happened), so fewer events are not a gap.
export class EventStream {
  // onDenied(code, reason): the server closed with 4401 (log in again) or 4403
  // (not allowed): reconnecting would only be refused again, so the stream
  // stops and the page decides (back to its login). Without it, it retries.
  constructor(url, { onEvent, onSnapshot, onStatus, onHidden, onDenied }) {
    this.url = url;
    this.onEvent = onEvent;
    this.onSnapshot = onSnapshot;
    this.onStatus = onStatus || (() => {});
    this.onHidden = onHidden || (() => {});
    this.onDenied = onDenied || null;
    this.seq = null;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.queue = Promise.resolve();
    this.snapshots = 0; // how many times the page reloaded its state (for tests)
    this.snapshotTimeoutMs = 10000;
  }

  async start() {
    try {
      await this.resync();
    } finally {
      // Even without a first snapshot: the next event's gap fetches one again.
      this.connect();
    }
  }

  // hint: the seq a "resync" message says the stream is at, used by pages
  // whose snapshot carries no seq, so the next live event is not a gap again.
  // Events wait behind a resync, so a snapshot request that hangs (Wi-Fi gone
  // mid-request) is given up after snapshotTimeoutMs: the seq stays where it
  // was and the next event tries again.
  async resync(hint) {
    this.snapshots += 1;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("snapshot timed out")), this.snapshotTimeoutMs);
    });
    try {
      const seq = await Promise.race([this.onSnapshot(), timeout]);
      if (typeof seq === "number") this.seq = seq;
      else if (typeof hint === "number") this.seq = hint;
    } finally {
      clearTimeout(timer);
    }
  }

  async handle(ev) {
    if (ev.type === "hello") return;
    if (ev.type === "resync") {
      await this.resync(ev.seq);
      return;
    }
    if (typeof ev.seq !== "number") return;
    if (this.seq !== null && ev.seq <= this.seq) return; // already applied or in the snapshot
    if (this.seq !== null && ev.seq > this.seq + 1) {
      await this.resync();
      if (this.seq !== null && ev.seq <= this.seq) return; // the snapshot covers it
      // A snapshot without a seq (or one behind this event): carry on from here
      // rather than fetch again for every later event.
    }
    this.seq = ev.seq;
    if (ev.type === "hidden") this.onHidden(ev);
    else this.onEvent(ev);
  }

  connect() {
    if (this.closed) return;
    const sep = this.url.includes("?") ? "&" : "?";
    const since = this.seq === null ? "" : `${sep}since=${this.seq}`;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${this.url}${since}`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onStatus(true);
    };
    ws.onmessage = (msg) => {
      let ev;
      try {
        ev = JSON.parse(msg.data);
      } catch (e) {
        return;
      }
      this.queue = this.queue.then(() => this.handle(ev)).catch((e) => {
        // A failed snapshot leaves seq where it was: the next event retries.
        console.warn("event stream:", e);
      });
    };
    ws.onclose = (e) => {
      this.onStatus(false);
      if (this.closed) return;
      if (this.onDenied && (e.code === 4401 || e.code === 4403)) {
        this.closed = true;
        this.onDenied(e.code, e.reason);
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

// Server refusals a resident may read are "English sentence (中文)": the part
// in the page's language. A message without that shape is shown whole.
const BILINGUAL = /^(.*?)\s*[（(]([^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]\s*$/s;

export function localMessage(message, lang) {
  const m = BILINGUAL.exec(message || "");
  if (!m || !m[1].trim()) return message;
  return lang === "en" ? m[1].trim() : m[2].trim();
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function pathParam(index) {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean)[index] || "");
}
