from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_server.devices import protocol as p
from kiosk_server.devices.protocol import Command, Frame, FrameDecoder, Key


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_led_text_bytes_are_the_documented_layout() -> None:
    raw = p.encode(p.led_text(0x03, "请 A012", flash_seconds=3))
    text = "请 A012".encode("gb18030")
    assert text == bytes.fromhex("C7EB2041303132")
    body = bytes((0x03, 0x10, 0x03)) + text
    assert raw == bytes((0xFF, 0x68, len(body), len(body), 0x68)) + body + bytes(
        (sum(body) & 0xFF, 0x16)
    )


def test_roundtrip_chinese_text() -> None:
    dec = FrameDecoder()
    frames = dec.feed(p.encode(p.led_text(0x07, "热情为您服务")))
    assert frames == [p.led_text(0x07, "热情为您服务")]
    assert p.parse_led_text(frames[0]) == p.LedText(0, "热情为您服务")
    assert dec.stats.frames == 1 and dec.stats.rejected_total == 0


_valid_frames = st.one_of(
    st.builds(
        p.led_text,
        st.integers(1, 254),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=12).filter(
            lambda s: len(s.encode("gb18030")) <= 64
        ),
        st.integers(0, 255),
    ),
    st.builds(
        p.key,
        st.integers(1, 254),
        st.integers(0, 255),
        st.sampled_from(list(Key)),
        st.from_regex(r"[0-9A-Z]{0,8}", fullmatch=True),
    ),
    st.builds(p.rating, st.integers(1, 254), st.integers(0, 255), st.integers(1, 5)),
    st.builds(p.led_clear, st.integers(0, 255)),
    st.builds(p.ping, st.integers(0, 255)),
    st.builds(p.keypad_show, st.integers(1, 254), st.sampled_from(["A012", "无人等候", ""])),
)


@given(st.lists(_valid_frames, max_size=6), st.data())
def test_any_frames_survive_any_chunking(frames: list[Frame], data: st.DataObject) -> None:
    stream = b"".join(p.encode(f) for f in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    dec = FrameDecoder()
    got: list[Frame] = []
    prev = 0
    for c in [*cuts, len(stream)]:
        got += dec.feed(stream[prev:c], now=0.0)
        prev = c
    assert got == frames
    assert dec.stats.rejected_total == 0 and dec.stats.skipped_bytes == 0


@given(st.binary(max_size=80), _valid_frames)
def test_resyncs_after_any_garbage(garbage: bytes, frame: Frame) -> None:
    # Noise then two copies: the second always comes through whatever the noise forged
    # (a forged header can swallow at most the bytes up to its own length).
    dec = FrameDecoder()
    got = dec.feed(garbage + p.encode(frame) * 2 + b"\x00" * 300, now=0.0)
    assert got[-1] == frame
    assert all(f == frame for f in got[-2:])


def test_garbage_before_frame_is_skipped_and_counted() -> None:
    dec = FrameDecoder()
    frames = dec.feed(b"\x00\x12\x68\x33noise" + p.encode(p.rating(0x21, 4, 5)))
    assert frames == [p.rating(0x21, 4, 5)]
    assert dec.stats.skipped_bytes == 9
    assert dec.stats.rejected_total == 0


def _corrupt(raw: bytes, index: int, value: int) -> bytes:
    b = bytearray(raw)
    b[index] = value
    return bytes(b)


def test_bad_checksum_is_rejected_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    raw = p.encode(p.led_text(0x03, "请 A012", 3))
    bad = _corrupt(raw, -2, raw[-2] ^ 0x01)
    dec = FrameDecoder(name="led-bus")
    with caplog.at_level(logging.WARNING, logger="kiosk_server.devices.protocol"):
        assert dec.feed(bad) == []
    assert dec.stats.rejected == {"bad_checksum": 1}
    assert "bad_checksum" in caplog.text and "led-bus" in caplog.text
    # The next good frame is still decoded.
    assert dec.feed(raw) == [p.led_text(0x03, "请 A012", 3)]


def test_flipped_payload_bit_fails_checksum() -> None:
    raw = p.encode(p.rating(0x21, 1, 5))
    dec = FrameDecoder()
    assert dec.feed(_corrupt(raw, 8, 4)) == []  # line noise turned score 5 into 4
    assert dec.stats.rejected["bad_checksum"] == 1


def test_mismatched_length_bytes_rejected() -> None:
    raw = p.encode(p.ping(0x05))
    dec = FrameDecoder()
    assert dec.feed(_corrupt(raw, 2, 0x03)) == []
    assert dec.stats.rejected["wrong_length"] == 1


def test_length_too_long_gives_bad_end_then_next_frame_decodes() -> None:
    # A truncated frame (lost bytes) followed by a good one: the good one must survive.
    good = p.encode(p.key(0x11, 9, Key.CALL_NEXT))
    truncated = p.encode(p.led_text(0x03, "请 A012", 3))[:-4]
    dec = FrameDecoder()
    frames = dec.feed(truncated + good)
    assert frames == [p.key(0x11, 9, Key.CALL_NEXT)]
    assert dec.stats.rejected["bad_end"] >= 1


def test_unknown_command_rejected() -> None:
    dec = FrameDecoder()
    assert dec.feed(p.encode(Frame(0x03, 0x55, b"\x01"))) == []
    assert dec.stats.rejected == {"unknown_command": 1}


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (Frame(0x21, Command.RATING, bytes((1, 6))), "bad_payload"),  # score 6
        (Frame(0x21, Command.RATING, bytes((1, 0))), "bad_payload"),
        (Frame(0x21, Command.RATING, bytes((1,))), "wrong_length"),
        (Frame(0x11, Command.KEY, bytes((1, 0x7F))), "bad_payload"),  # unknown key
        (Frame(0x11, Command.KEY, bytes((1, 1)) + b"a012"), "bad_payload"),  # lower case
        (Frame(0x11, Command.KEY, bytes((1,))), "wrong_length"),
        (Frame(0x03, Command.LED_TEXT, b""), "wrong_length"),
        (Frame(0x03, Command.LED_TEXT, b"\x00\xff\xff"), "bad_payload"),  # not GB18030
        (Frame(0x03, Command.LED_TEXT, b"\x00" + b"A" * 65), "wrong_length"),
        (Frame(0x03, Command.LED_BRIGHTNESS, b"\x65"), "bad_payload"),  # 101 %
        (Frame(0x03, Command.LED_CLEAR, b"\x00"), "wrong_length"),
    ],
)
def test_payload_not_fitting_its_command_is_rejected(frame: Frame, reason: str) -> None:
    dec = FrameDecoder()
    assert dec.feed(p.encode(frame)) == []
    assert dec.stats.rejected == {reason: 1}


def test_builders_refuse_bad_frames() -> None:
    with pytest.raises(p.FrameError):
        p.led_text(0x03, "很长" * 40)
    with pytest.raises(p.FrameError):
        p.rating(0x21, 1, 6)
    with pytest.raises(p.FrameError):
        p.key(0x11, 1, Key.CALL, "a012")
    with pytest.raises(p.FrameError):
        p.led_brightness(0x03, 101)
    with pytest.raises(p.FrameError):
        Frame(0x100, Command.PING)


def test_forged_header_released_by_timeout() -> None:
    clock = Clock()
    dec = FrameDecoder(clock=clock, partial_timeout=0.5)
    # Noise forges a header claiming 250 bytes; the real frame arrives inside it.
    assert dec.feed(b"\x68\xfa\xfa\x68" + p.encode(p.key(0x11, 1, Key.RECALL))) == []
    clock.t = 0.4
    assert dec.feed(b"") == []
    clock.t = 0.6
    assert dec.feed(b"") == [p.key(0x11, 1, Key.RECALL)]
    assert dec.stats.rejected == {"truncated": 1}


def test_partial_frame_completed_in_time_is_not_truncated() -> None:
    clock = Clock()
    dec = FrameDecoder(clock=clock, partial_timeout=0.5)
    raw = p.encode(p.rating(0x21, 3, 2))
    assert dec.feed(raw[:5]) == []
    clock.t = 0.3
    assert dec.feed(b"") == []
    assert dec.feed(raw[5:]) == [p.rating(0x21, 3, 2)]
    assert dec.stats.rejected_total == 0


def test_preamble_bytes_are_not_noise() -> None:
    dec = FrameDecoder()
    frames = dec.feed(b"\xfe\xfe\xfe" + p.encode(p.ping(1), preamble=False) + p.encode(p.ping(2)))
    assert [f.address for f in frames] == [1, 2]
    assert dec.stats.skipped_bytes == 0


def test_parsers() -> None:
    assert p.parse_key(p.key(0x11, 7, Key.TRANSFER, "5")) == p.KeyEvent(7, Key.TRANSFER, "5")
    assert p.parse_rating(p.rating(0x21, 255, 1)) == p.RatingPress(255, 1)
    assert p.parse_text(p.rating_prompt(0x21, "A012")) == "A012"
