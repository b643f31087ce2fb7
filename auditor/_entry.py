"""The console script: Ctrl-C handled from the first instant, then the command line.

Loading the command line takes a second or more (pandas, Ibis, DuckDB). A Ctrl-C in that
second must end as any other does: exit 130 and one line, no traceback. Nothing has been
written yet, so exiting at once is safe; ``auditor.cli.main`` then installs its own
handling.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("auditor: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> int:
    """Run ``auditor`` with the process's arguments; return its exit code."""
    # Until the command line installs its own handling (its first step), a Ctrl-C ends
    # the process here.
    signal.signal(signal.SIGINT, _interrupted_while_loading)
    from auditor.cli import main as run

    return run()
