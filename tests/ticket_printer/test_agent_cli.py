"""Print agent command line: server URL and argument checks (no network)."""

from __future__ import annotations

import pytest

from ticket_printer.agent import _parser, main, ws_url


def test_ws_url_and_argument_errors() -> None:
    assert ws_url("http://h:8000", "hqd_a/b") == "ws://h:8000/ws/printer?token=hqd_a%2Fb"
    assert ws_url("https://h/hallq/", "t") == "wss://h/hallq/ws/printer?token=t"
    with pytest.raises(ValueError, match="--server"):
        ws_url("h:8000", "t")
    assert main(["--server", "http://h", "--token", "t", "--printer", "lpt://x"]) == 2
    assert main(["--server", "ftp://h", "--token", "t", "--printer", "dummy://"]) == 2
    assert main(["--server", "http://h", "--token", "", "--printer", "dummy://"]) == 2


def test_text_and_qr_mode_flags(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--server", "http://h", "--token", "t", "--printer", "dummy://"]
    with pytest.raises(SystemExit) as exc:
        main([*base, "--text-mode", "bitmap"])
    assert exc.value.code == 2
    assert "--text-mode" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--qr-mode", "png"])
    args = _parser().parse_args([*base, "--text-mode", "image", "--qr-mode", "image"])
    assert (args.text_mode, args.qr_mode) == ("image", "image")
    assert _parser().parse_args(base).text_mode is None  # default: print the server's bytes
