"""信息上报: the report as sheets of Chinese-headed rows, written as XLSX or CSV.

The sheets are plain data (``Sheet``) built from a ``Report``; the writers only
format them, so the CSV and the XLSX always carry the same numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from kiosk_server.stats.figures import (
    INSTANT_STANDARD_MINUTES,
    OUTCOME_LABELS,
    RATING_LEVELS,
    SATISFACTION_STANDARD,
    Figures,
    Report,
)

# Column kinds: "n" number, "m" minutes, "p" share (shown as percent), "t" text.
Cell = str | int | float | None


@dataclass
class Sheet:
    name: str
    title: str
    header: list[str]
    kinds: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


# Figures other packages add (Report.extensions) are printed under a Chinese
# section name, like the built-in 差评整改/帮办代办 rows: "预约办理：预约数".
EXTENSION_LABELS: dict[str, str] = {
    "appointments": "预约办理",
}


def outcome_rows(f: Figures) -> list[list[Cell]]:
    """办理结果: finished transactions by outcome (transfers and no-shows have their own rows)."""
    return [
        [f"办理结果：{label}", f.outcomes.get(key, 0), "", ""]
        for key, label in OUTCOME_LABELS.items()
    ]


def _yes(flag: bool | None) -> str:
    return "—" if flag is None else ("达标" if flag else "未达标")


def overdue_as_of(r: Report) -> str:
    """The day the 逾期 figures are counted at: the period's end, or today if earlier."""
    for name in ("followups", "cases"):
        value = r.extensions.get(name, {}).get("as_of")
        if isinstance(value, str):
            return value
    return r.end.isoformat()


def summary_rows(r: Report) -> list[list[Cell]]:
    o = r.overall
    rt = o.ratings
    fu: dict[str, Any] = r.extensions.get("followups", {})
    cs: dict[str, Any] = r.extensions.get("cases", {})
    ten = f"{INSTANT_STANDARD_MINUTES:g}"
    rows: list[list[Cell]] = [
        ["取号数", o.issued, "", ""],
        ["办结数", o.served, "", ""],
        *outcome_rows(o),
        ["过号数", o.no_show, "", ""],
        ["取消数", o.cancelled, "", ""],
        ["转移数", o.transferred, "", ""],
        ["当前等候人数", o.waiting_now, "", ""],
        ["平均等候时长（分钟）", o.wait_avg, "", ""],
        ["等候时长中位数（分钟）", o.wait_p50, "", ""],
        ["等候时长P90（分钟）", o.wait_p90, "", ""],
        ["最长等候（分钟）", o.wait_max, "", ""],
        ["平均办理时长（分钟）", o.service_avg, "", ""],
        ["办理时长P90（分钟）", o.service_p90, "", ""],
        ["即时办结事项办件数", o.instant_served, "", ""],
        [
            "即时办结事项平均办理时长（分钟）",
            o.instant_service_avg,
            f"≤{INSTANT_STANDARD_MINUTES:g}",
            _yes(o.instant_meets_standard),
        ],
        ["即时办结事项超时办件数", o.instant_over_target, "", ""],
        ["即时办结事项超时占比", o.instant_over_target_share, "", ""],
        [f"即时办结事项超{ten}分钟办件数", o.instant_over_10min, "", ""],
        [f"即时办结事项超{ten}分钟占比", o.instant_over_10min_share, "", ""],
        ["绿色通道取号数", o.green_issued, "", ""],
        ["绿色通道等候P90（分钟）", o.green_wait_p90, "", ""],
        ["普通等候P90（分钟）", o.normal_wait_p90, "", ""],
        ["评价数", rt.count, "", ""],
        ["评价率（评价数/办结数）", rt.rating_rate, "", ""],
    ]
    rows += [
        [f"评价：{label}", rt.distribution.get(label, 0), "", ""]
        for label in RATING_LEVELS.values()
    ]
    rows += [
        ["差评数（不满意+非常不满意）", rt.bad, "", ""],
        [rt.satisfaction_label, rt.satisfaction, f"≥{SATISFACTION_STANDARD:.0%}", _yes(rt.meets_standard)],
        [rt.strict_satisfaction_label, rt.strict_satisfaction, "", ""],
        ["逾期统计截至", overdue_as_of(r), "", "报表期末（或今天，取较早者）"],
        ["差评整改：新增", fu.get("opened", 0), "", ""],
        ["差评整改：已整改", fu.get("resolved", 0), "", ""],
        ["差评整改：逾期", fu.get("overdue", 0), "0", _yes(fu.get("overdue", 0) == 0)],
        ["帮办代办：受理", cs.get("opened", 0), "", ""],
        ["帮办代办：已上报", cs.get("submitted", 0), "", ""],
        ["帮办代办：逾期未上报", cs.get("overdue", 0), "0", _yes(cs.get("overdue", 0) == 0)],
        ["帮办代办：超期上报", cs.get("submitted_late", 0), "0", _yes(cs.get("submitted_late", 0) == 0)],
    ]  # fmt: skip
    for name, ext in r.extensions.items():
        if name in ("followups", "cases"):
            continue
        section = EXTENSION_LABELS.get(name, name)
        for key, value in ext.items():
            if isinstance(value, int | float | str) or value is None:
                rows.append([f"{section}：{key}", value, "", ""])
    return rows


SUMMARY_KINDS = {
    "评价率（评价数/办结数）",
    "即时办结事项超时占比",
}


def _outcome_column(key: str, label: str) -> tuple[str, str, Callable[[Figures], Cell]]:
    return (f"办理结果：{label}", "n", lambda f: f.outcomes.get(key, 0))


def _rating_column(label: str) -> tuple[str, str, Callable[[Figures], Cell]]:
    return (f"评价：{label}", "n", lambda f: f.ratings.distribution.get(label, 0))


# One definition of a breakdown row (by item, counter, staff, hour, day): header,
# kind and value side by side, so the columns cannot drift from their headers.
GROUP_COLUMNS: list[tuple[str, str, Callable[[Figures], Cell]]] = [
    ("取号数", "n", lambda f: f.issued),
    ("办结数", "n", lambda f: f.served),
    *(_outcome_column(key, label) for key, label in OUTCOME_LABELS.items()),
    ("过号数", "n", lambda f: f.no_show),
    ("取消数", "n", lambda f: f.cancelled),
    ("转移数", "n", lambda f: f.transferred),
    ("当前等候人数", "n", lambda f: f.waiting_now),
    ("平均等候（分钟）", "m", lambda f: f.wait_avg),
    ("等候中位数（分钟）", "m", lambda f: f.wait_p50),
    ("等候P90（分钟）", "m", lambda f: f.wait_p90),
    ("最长等候（分钟）", "m", lambda f: f.wait_max),
    ("平均办理（分钟）", "m", lambda f: f.service_avg),
    ("办理P90（分钟）", "m", lambda f: f.service_p90),
    ("即时办件数", "n", lambda f: f.instant_served),
    ("即时平均（分钟）", "m", lambda f: f.instant_service_avg),
    (f"即时平均是否达标（≤{INSTANT_STANDARD_MINUTES:g}分钟）", "t",
     lambda f: _yes(f.instant_meets_standard)),
    ("即时超时数", "n", lambda f: f.instant_over_target),
    ("即时超时占比", "p", lambda f: f.instant_over_target_share),
    (f"即时超{INSTANT_STANDARD_MINUTES:g}分钟数", "n", lambda f: f.instant_over_10min),
    (f"即时超{INSTANT_STANDARD_MINUTES:g}分钟占比", "p", lambda f: f.instant_over_10min_share),
    ("绿色通道取号数", "n", lambda f: f.green_issued),
    ("绿色通道等候P90（分钟）", "m", lambda f: f.green_wait_p90),
    ("普通等候P90（分钟）", "m", lambda f: f.normal_wait_p90),
    ("评价数", "n", lambda f: f.ratings.count),
    ("评价率", "p", lambda f: f.ratings.rating_rate),
    *(_rating_column(label) for label in RATING_LEVELS.values()),
    ("差评数", "n", lambda f: f.ratings.bad),
    ("满意率（好差评口径）", "p", lambda f: f.ratings.satisfaction),
    ("满意率（严格口径）", "p", lambda f: f.ratings.strict_satisfaction),
]  # fmt: skip
GROUP_HEADER = ["名称", *(c[0] for c in GROUP_COLUMNS)]
GROUP_KINDS = ["t", *(c[1] for c in GROUP_COLUMNS)]


def group_row(f: Figures) -> list[Cell]:
    return [f.label, *(get(f) for _, _, get in GROUP_COLUMNS)]


def sheets(report: Report, hall_name: str, period_label: str) -> list[Sheet]:
    title = f"{hall_name} 医保服务数据报表（{period_label}）"
    summary = Sheet("汇总", title, ["指标", "数值", "标准", "是否达标"], ["t", "n", "t", "t"])
    for row in summary_rows(report):
        summary.rows.append(row)
    out = [summary]

    def group(name: str, rows: list[Figures], extra: bool = False) -> Sheet:
        header = list(GROUP_HEADER) + (["忙碌时长（分钟）", "窗口利用率"] if extra else [])
        kinds = list(GROUP_KINDS) + (["m", "p"] if extra else [])
        sh = Sheet(name, f"{title} — {name}", header, kinds)
        for f in rows:
            sh.rows.append(group_row(f) + ([f.busy_minutes, f.utilisation] if extra else []))
        return sh

    out.append(group("按事项", report.by_service))
    out.append(group("按窗口", report.by_counter, extra=True))
    out.append(group("按人员", report.by_staff))
    # By hour of issue: every figure of the hour's residents, then the throughput.
    hours = Sheet(
        "按时段",
        f"{title} — 按时段（按取号时间归入时段；末列按办结时间）",
        ["时段", *GROUP_HEADER[1:], "本时段办结数（按办结时间）"],
        [*GROUP_KINDS, "n"],
    )
    for h in report.by_hour:
        hours.rows.append([*group_row(h), h.finished_in_hour])
    out.append(hours)
    if report.start != report.end:
        out.append(group("按日", report.by_day))
    as_of = f"（逾期截至{overdue_as_of(report)}）"
    fu = Sheet(
        "差评整改",
        f"{title} — 差评整改{as_of}",
        ["票号", "事项", "窗口", "评价", "状态", "回访期限", "整改期限", "是否逾期", "原因", "整改措施", "复评"],
        ["t", "t", "n", "t", "t", "t", "t", "t", "t", "t", "n"],
    )  # fmt: skip
    for f in report.extensions.get("followups", {}).get("items", []):
        fu.rows.append([
            f["number"], f["service_name"], f["counter"], f["score_label"], f["state_label"],
            f["callback_due"], f["resolve_due"], "逾期" if f["overdue"] else "", f["cause"],
            f["action_taken"], f["second_opinion"],
        ])  # fmt: skip
    out.append(fu)
    cs = Sheet(
        "帮办代办",
        f"{title} — 帮办代办{as_of}",
        ["票号", "受理日期", "事项", "经办人", "群众（脱敏）", "材料齐全日期", "上报期限", "状态", "是否逾期"],
        ["t", "t", "t", "t", "t", "t", "t", "t", "t"],
    )  # fmt: skip
    for c in report.extensions.get("cases", {}).get("items", []):
        flag = "逾期未上报" if c["overdue"] else ("超期上报" if c["submitted_late"] else "")
        cs.rows.append([
            c["number"], c["service_day"], c["service_name"], c["staff"], c["resident_ref"],
            c["materials_complete_on"], c["deadline"], c["state_label"], flag,
        ])  # fmt: skip
    out.append(cs)
    return out


def _summary_kind(label: Cell) -> str:
    """Shares print as percentages: the listed rows, 满意率…, and any …率 or …占比 row."""
    text = str(label)
    if text in SUMMARY_KINDS or text.startswith("满意率") or text.endswith(("率", "占比")):
        return "p"
    return "n"


def _fmt(value: Cell, kind: str) -> str:
    if value is None:
        return ""
    if kind == "p" and isinstance(value, int | float):
        return f"{value * 100:.2f}%"
    return str(value)


def to_csv(all_sheets: list[Sheet]) -> bytes:
    """One CSV file, sheet after sheet, each under its title; UTF-8 with BOM for Excel."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for i, sh in enumerate(all_sheets):
        if i:
            w.writerow([])
        w.writerow([sh.title])
        w.writerow(sh.header)
        for row in sh.rows:
            kinds = sh.kinds if sh.name != "汇总" else ["t", _summary_kind(row[0]), "t", "t"]
            w.writerow([_fmt(v, k) for v, k in zip(row, kinds, strict=False)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(all_sheets: list[Sheet]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for sh in all_sheets:
        ws = wb.create_sheet(sh.name)
        ws.append([sh.title])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append(sh.header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in sh.rows:
            ws.append(list(row))
            kinds = sh.kinds if sh.name != "汇总" else ["t", _summary_kind(row[0]), "t", "t"]
            for cell, kind in zip(ws[ws.max_row], kinds, strict=False):
                if kind == "p" and isinstance(cell.value, int | float):
                    cell.number_format = "0.00%"
                elif kind == "m" and isinstance(cell.value, int | float):
                    cell.number_format = "0.00"
        for i, _ in enumerate(sh.header, start=1):
            ws.column_dimensions[get_column_letter(i)].width = 36 if i == 1 else 14
        ws.freeze_panes = "B3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
