// The kiosk's ticket printer as the staff pages see it (counter page banner,
// supervisor dashboard line). The kiosk warns residents; this tells the people
// who can put in a new roll. State comes from GET /api/v1/halls/{hall}/printer;
// a `device.status` event from a printer only says "ask again".
import { api, ApiError } from "./api.js";
import { currentLang, register, t } from "./i18n.js";

register({
  "zh-CN": {
    "printer.label": "取号机打印机",
    "printer.banner.paper_out": "取号机打印机缺纸 — 请及时更换纸卷",
    "printer.banner.cover_open": "取号机打印机上盖打开 — 请合上上盖",
    "printer.banner.offline": "取号机打印机离线 — 请检查电源和连线",
    "printer.banner.paper_near_end": "取号机打印机纸将用完 — 请备好新纸卷",
    "printer.since": "（自 {time} 起）",
    "printer.line": "取号机打印机：{text}",
    "printer.state.ok": "正常",
    "printer.state.paper_out": "缺纸",
    "printer.state.cover_open": "上盖打开",
    "printer.state.offline": "离线",
    "printer.state.paper_near_end": "纸将用完",
    "printer.state.unknown": "状态未知",
  },
  en: {
    "printer.label": "Kiosk printer",
    "printer.banner.paper_out": "Kiosk printer out of paper — please put in a new roll",
    "printer.banner.cover_open": "Kiosk printer cover open — please close it",
    "printer.banner.offline": "Kiosk printer offline — please check its power and cable",
    "printer.banner.paper_near_end": "Kiosk printer paper running low — have a new roll ready",
    "printer.since": " (since {time})",
    "printer.line": "Kiosk printer: {text}",
    "printer.state.ok": "OK",
    "printer.state.paper_out": "Out of paper",
    "printer.state.cover_open": "Cover open",
    "printer.state.offline": "Offline",
    "printer.state.paper_near_end": "Paper running low",
    "printer.state.unknown": "Unknown",
  },
});

// Stops ticket printing until someone goes to the kiosk.
const BAD = new Set(["paper_out", "cover_open", "offline"]);
// Still prints; the roll wants changing soon. "paper_low" is the same thing as
// some agents name it.
const LOW = new Set(["paper_near_end", "paper_low"]);

function stateOf(p) {
  return p.state === "paper_low" ? "paper_near_end" : p.state;
}

// "bad" | "warn" | "ok" | "unknown", or null when there is nothing to show:
// no answer, or a hall that does not print at all (mode "off").
export function printerLevel(p) {
  if (!p || p.mode === "off") return null;
  if (BAD.has(p.state)) return "bad";
  if (LOW.has(p.state)) return "warn";
  if (p.state === "ok") return "ok";
  return "unknown";
}

export class PrinterWatch {
  // token: a function returning the staff token; onChange(p) after every change.
  constructor(hall, token, onChange) {
    this.hall = hall;
    this.token = token;
    this.onChange = onChange;
    this.printer = null;
    this.tz = null;
    this.asked = 0;
  }

  async refresh() {
    const ask = ++this.asked;
    const h = encodeURIComponent(this.hall);
    let p = this.printer;
    try {
      if (!this.tz) {
        // The hall's own clock for "since 10:42" (the staff laptop may be elsewhere).
        this.tz = (await api("GET", `/api/v1/halls/${h}`)).timezone;
      }
      p = await api("GET", `/api/v1/halls/${h}/printer`, { token: this.token() });
    } catch (e) {
      // A dropped connection keeps what we knew; a refusal (or no printing
      // information on this server) shows nothing.
      if (!(e instanceof ApiError && e.status === 0)) p = null;
    }
    if (ask !== this.asked) return; // a newer answer is on its way
    this.printer = p;
    this.onChange(p);
  }

  // Returns true when the event was about a printer (and a refresh is under way).
  onEvent(ev) {
    if (ev.type !== "device.status") return false;
    const kind = ev.data && ev.data.kind;
    if (kind && kind !== "printer") return false;
    this.refresh();
    return true;
  }

  since() {
    const iso = this.printer && this.printer.status && this.printer.status.since;
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    const time = new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "zh-CN", {
      timeZone: this.tz || "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).format(d);
    return t("printer.since", { time });
  }

  // The counter page's banner: only for trouble ("bad" or "warn"), else null.
  banner() {
    const p = this.printer;
    const level = printerLevel(p);
    if (level !== "bad" && level !== "warn") return null;
    return { level, state: stateOf(p), text: t(`printer.banner.${stateOf(p)}`) + this.since() };
  }

  // The supervisor's status line, whatever the state; null when nothing to show.
  line() {
    const p = this.printer;
    const level = printerLevel(p);
    if (!level) return null;
    const state = level === "unknown" ? "unknown" : stateOf(p);
    const text = t("printer.line", { text: t(`printer.state.${state}`) }) + (level === "ok" ? "" : this.since());
    return { level, state, text };
  }
}
