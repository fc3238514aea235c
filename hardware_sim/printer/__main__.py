"""``python -m hardware_sim.printer``: same as ``hallq sim printer``."""

from hardware_sim.printer.cli import main

raise SystemExit(main())
