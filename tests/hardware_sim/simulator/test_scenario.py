"""The scenario contract: bundled files load, mistakes are named, round trip holds."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hardware_sim.scenario import ScenarioError, bundled, load_scenario, parse_scenario


def base() -> dict[str, Any]:
    return {
        "name": "test hall",
        "open": "08:30",
        "close": "17:00",
        "counters": [{"number": 1, "hours": ["08:30-12:00", "13:30-17:00"], "services": "all"}],
        "elderly_share_by_hour": {"08": 0.5},
        "no_show_rate": 0.03,
        "items": [
            {
                "code": "enrol",
                "prefix": "A",
                "instant": True,
                "target_minutes": 10,
                "service_minutes": {"mean": 6.0, "sd": 2.5},
                "arrivals_per_hour": {"08": 10, "09": 18},
            }
        ],
    }


def test_bundled_scenarios_load_and_cover_the_three_kinds() -> None:
    names = set(bundled())
    assert {"village", "township", "peak"} <= names
    village = load_scenario("village")
    assert len(village.counters) == 1
    peak = load_scenario("peak")
    # The peak day brings more residents than an ordinary township day.
    assert peak.arrivals_per_day() > load_scenario("township").arrivals_per_day()
    assert peak.open_minute == 8 * 60 + 30 and peak.close_minute == 17 * 60


def test_parse_reads_the_documented_fields() -> None:
    s = parse_scenario(base())
    assert s.counters[0].hours == ((510, 720), (810, 1020))
    assert s.counters[0].services is None
    assert s.item("enrol").rate_at(9) == 18 and s.item("enrol").rate_at(10) == 0
    assert s.elderly_share(8) == 0.5 and s.elderly_share(9) == 0.0
    assert s.hours() == list(range(8, 17))
    # 08:30-09:00 is half of hour 08: 10 * 0.5 + 18.
    assert s.arrivals_per_day() == pytest.approx(23.0)


def test_round_trip_through_json(tmp_path: Path) -> None:
    s = parse_scenario(base())
    path = tmp_path / "s.json"
    path.write_text(json.dumps(s.to_json()), encoding="utf-8")
    assert load_scenario(path) == s


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["items"][0].update(prefix="a"), "items[0].prefix"),
        (lambda d: d["items"].append(copy.deepcopy(d["items"][0])), "code enrol used more"),
        (lambda d: d["items"][0]["arrivals_per_hour"].update({"9": 3}), "hour keys"),
        (lambda d: d["elderly_share_by_hour"].update({"09": 1.5}), "elderly_share_by_hour.09"),
        (lambda d: d["counters"][0].update(services=["payment"]), "no item with code payment"),
        (lambda d: d["counters"][0].update(hours=["12:00-08:00"]), "counters[0].hours[0]"),
        (lambda d: d.update(close="08:00"), "close: must be after open"),
        (lambda d: d.update(colour="red"), "unknown field(s) colour"),
        (lambda d: d["items"][0]["service_minutes"].update(mean=0), "service_minutes.mean"),
    ],
)
def test_mistakes_are_named(change: Any, message: str) -> None:
    data = base()
    change(data)
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(data)


def test_missing_file_lists_the_bundled_names() -> None:
    with pytest.raises(ScenarioError, match="bundled: .*peak"):
        load_scenario("no-such-scenario")


def test_bad_json_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ScenarioError, match="broken.json: not valid JSON"):
        load_scenario(path)
