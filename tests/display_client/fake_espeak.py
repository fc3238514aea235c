"""A stand-in espeak-ng for the speech tests: each voice is missing, reads the
call in English (as Debian's ``cmn`` voice does) or reads it as Mandarin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENGLISH = "(en)kI55NTr'i:55(cmn)_| 'ei51_| l'i35N_| (en)heI11@11fo@11(cmn)_|"
MANDARIN = "tS;h'i21N_| 'ei51_| l'i35N_| j'i55_| '@r51_| X'Au51_|"

_SCRIPT = """#!{python}
import json, sys
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
kind = {voices!r}.get(args[args.index("-v") + 1], "missing")
if kind == "missing":
    sys.stderr.write("Error: The specified espeak-ng voice does not exist.\\n")
    sys.exit(1)
if "-x" in args:
    print({english!r} if kind == "english" else {mandarin!r})
    sys.exit(0)
with open(args[args.index("-w") + 1], "wb") as f:
    f.write(b"RIFF" + bytes(400))
"""


class FakeEspeak:
    def __init__(self, directory: Path, voices: dict[str, str]) -> None:
        self.path = directory / "espeak-ng"
        self.log = directory / "espeak-ng.log"
        self.path.write_text(
            _SCRIPT.format(
                python=sys.executable,
                log=str(self.log),
                voices=voices,
                english=ENGLISH,
                mandarin=MANDARIN,
            )
        )
        self.path.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def renders(self) -> list[list[str]]:
        return [c for c in self.calls() if "-w" in c]
