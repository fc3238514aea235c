"""The examples in docs/serial-protocol.md are what the codec produces and decodes."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk_server.core.idnumber import check_digit
from kiosk_server.devices import protocol as p
from kiosk_server.devices.protocol import FrameDecoder

DOC = Path(__file__).resolve().parents[3] / "docs" / "serial-protocol.md"
ROW = re.compile(
    r"^\| (?P<meaning>[^|]+) \| `(?P<builder>[a-z_]+\(.*\))` \| `(?P<hex>[0-9A-F ]+)` \|$"
)


def examples() -> list[tuple[str, str, bytes]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows.append((m["meaning"], m["builder"], bytes.fromhex(m["hex"])))
    return rows


def test_doc_has_examples_of_every_device() -> None:
    rows = examples()
    assert len(rows) >= 15
    commands = {FrameDecoder().feed(raw)[0].command for _, _, raw in rows}
    for c in (p.Command.LED_TEXT, p.Command.KEY, p.Command.RATING, p.Command.ACK, p.Command.NACK):
        assert c in commands


def test_every_doc_example_decodes_to_its_frame() -> None:
    namespace = {name: getattr(p, name) for name in dir(p) if not name.startswith("_")}
    for meaning, builder, raw in examples():
        expected = eval(builder, namespace)  # the doc's own builder call, from our repo
        dec = FrameDecoder()
        assert dec.feed(raw) == [expected], meaning
        assert dec.stats.rejected_total == 0 and dec.stats.skipped_bytes == 0
        assert p.encode(expected) == raw, meaning


def test_doc_id_example_is_valid_and_masked_right() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "`11010519491231002X`" in text and check_digit("11010519491231002") == "X"
    assert "`110105********002X`" in text
    assert "`0x2BC`, i.e. `BC`" in text
    raw = p.encode(p.led_text(0x03, "请 A012", 3))
    assert sum(raw[5:-2]) == 0x2BC
