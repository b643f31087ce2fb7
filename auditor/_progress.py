"""What the command line shows on stderr while a command runs.

In a terminal, a live display (rich) of the stage running: a spinner, its name, and for
a stage whose steps are counted (the checks) a bar, ``7/21``, the step running, the time
elapsed and an estimate of the time left; a stage whose steps are not counted shows the
time elapsed only. As each stage ends, one permanent line::

    ✓ reading the package  0.4 s
    ✓ checks 21/21  12.9 s

Where nobody watches a redrawn line, nothing: stderr not a terminal (a pipe, a file, a CI
log), the ``CI`` environment variable set, or ``--quiet``. On a terminal that cannot move
the cursor (``TERM=dumb``) the plain lines ``[  12.3s] message`` as each step starts, with
no control character.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Literal, Protocol, TextIO

from rich.console import Console, ConsoleOptions, RenderableType
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

__all__ = ["Interrupts", "TerminalProgress", "display_mode"]

Mode = Literal["off", "lines", "live"]
"""How progress shows: not at all, plain lines, or a live display."""

DUMB_TERMINALS = ("dumb", "unknown")
"""``TERM`` values of terminals that cannot move the cursor (as rich reads them)."""

REFRESHES_PER_SECOND = 4
"""How often the live display redraws (the spinner and the clocks)."""


class Interrupts(Protocol):
    """What the display needs of the command line's Ctrl-C handling (``cli._Interrupts``)."""

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a SIGINT was noted."""

    def deferred(self) -> AbstractContextManager[None]:
        """Hold SIGINT back while the block runs; raise ``KeyboardInterrupt`` after it if
        one was noted."""


def display_mode(quiet: bool, stream: TextIO, environ: Mapping[str, str] | None = None) -> Mode:
    """How progress shows on ``stream``: ``off`` with ``quiet``, when ``stream`` is not a
    terminal, or when ``environ`` (default ``os.environ``) sets ``CI`` (to anything but
    ``""``, ``0`` or ``false``); ``lines`` on a terminal whose ``TERM`` is ``dumb`` or
    ``unknown``; else ``live``."""
    env = os.environ if environ is None else environ
    try:
        terminal = stream.isatty()
    except ValueError:  # a closed stream
        terminal = False
    if quiet or not terminal or env.get("CI", "").strip().lower() not in ("", "0", "false"):
        return "off"
    if env.get("TERM", "").strip().lower() in DUMB_TERMINALS:
        return "lines"
    return "live"


class TerminalProgress:
    """The command line's progress callback: a live display on a terminal (see the module
    docstring), plain lines on a dumb one, nothing elsewhere.

    It is an ``auditor.pipeline.StageProgress``: :meth:`stage_started` and
    :meth:`stage_finished` bracket each stage; called with a message as each step starts,
    it counts the step (in a stage with a ``total``) and shows the message. Each of these
    is also where a Ctrl-C that a library swallowed stops the run (``interrupts``).

    Use it as a context manager: leaving the block, however (an error, Ctrl-C), stops the
    live display, clears it and shows the cursor again, so that whatever is printed next
    starts on a clean line. A stage cut short gets no permanent line.

    Args:
        quiet: show nothing (``--quiet``).
        stream: where to show it (default ``sys.stderr``).
        interrupts: the command's Ctrl-C handling, checked at each step.
        environ: the environment that decides the mode (default ``os.environ``).
    """

    def __init__(
        self,
        quiet: bool,
        stream: TextIO | None = None,
        interrupts: Interrupts | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.mode = display_mode(quiet, self.stream, environ)
        self.start = time.perf_counter()
        self.interrupts = interrupts
        self._live: Progress | None = None
        self._task: TaskID | None = None
        self._name = ""
        self._total: int | None = None
        self._steps = 0
        self._started_at = 0.0

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __call__(self, message: str) -> None:
        """A step starts: ``message`` says which."""
        if self.interrupts is not None:
            self.interrupts.check()
        if self.mode == "lines":
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)
        elif self.mode == "live":
            with self._atomic():
                if self._task is None:  # a step outside any stage: a stage of its own
                    self._open(message, None)
                self._step(message)

    def stage_started(self, name: str, total: int | None = None) -> None:
        """Stage ``name`` starts, with ``total`` steps (None: not counted). A stage still
        open is taken as finished."""
        if self.interrupts is not None:
            self.interrupts.check()
        if self.mode == "live":
            with self._atomic():
                if self._task is not None:
                    self._finish()
                self._open(name, total)

    def stage_finished(self) -> None:
        """The stage open has finished: its permanent line replaces its live one."""
        if self.mode == "live" and self._task is not None:
            with self._atomic():
                self._finish()

    def close(self) -> None:
        """Stop the live display and clear what is left of it (a stage cut short); show
        the cursor again. Idempotent."""
        live, self._live, self._task = self._live, None, None
        if live is not None:
            with self._atomic():
                live.stop()

    def _atomic(self) -> AbstractContextManager[None]:
        """A Ctrl-C waits until the block has drawn what it draws (no half-drawn line)."""
        return self.interrupts.deferred() if self.interrupts else contextlib.nullcontext()

    def _open(self, name: str, total: int | None) -> None:
        live = self._live or self._start_live()
        self._name, self._total, self._steps = name, total, 0
        self._started_at = time.perf_counter()
        self._task = live.add_task(name, total=total, detail="", steps="")
        live.refresh()

    def _step(self, message: str) -> None:
        assert self._live is not None and self._task is not None
        detail = "" if message == self._name else message
        if self._total is None:
            self._live.update(self._task, detail=detail, refresh=True)
            return
        self._steps += 1
        total = max(self._total, self._steps)
        self._live.update(
            self._task,
            completed=self._steps - 1,
            total=total,
            detail=detail,
            steps=f"{self._steps}/{total}",
            refresh=True,  # the step shows as it starts
        )

    def _finish(self) -> None:
        assert self._live is not None and self._task is not None
        elapsed = time.perf_counter() - self._started_at
        self._live.remove_task(self._task)
        self._task = None
        self._live.refresh()  # so that the line below is not followed by the stage's again
        console = self._live.console
        line = _done_line(self._name, self._steps, self._total, elapsed, console.options)
        console.print(line)

    def _start_live(self) -> Progress:
        console = Console(
            file=self.stream, force_terminal=True, force_interactive=True, highlight=False
        )
        ascii_only = console.options.ascii_only
        live = Progress(
            SpinnerColumn("line" if ascii_only else "dots"),
            TextColumn("{task.description}", markup=False),
            _BarWhenCounted(bar_width=24),
            TextColumn("{task.fields[steps]}", markup=False),
            _Clock(),
            TextColumn("{task.fields[detail]}", markup=False, style="dim"),
            console=console,
            transient=True,
            refresh_per_second=REFRESHES_PER_SECOND,
            speed_estimate_period=24 * 3600,  # the estimate averages over the whole stage
            redirect_stdout=False,
            # Other writes to stderr (a library's warning) go above the display; only when
            # the display is on stderr itself.
            redirect_stderr=self.stream is sys.stderr,
        )
        live.start()
        self._live = live
        return live


def _done_line(
    name: str, steps: int, total: int | None, seconds: float, options: ConsoleOptions
) -> Text:
    """``✓ name  3.2 s``; with ``steps/total`` after the name in a counted stage (``ok``
    for the tick where the terminal's encoding has no ``✓``)."""
    line = Text()
    line.append("ok " if options.ascii_only else "✓ ", style="green")
    line.append(name if total is None else f"{name} {steps}/{max(total, steps)}")
    line.append(f"  {seconds:.1f} s", style="dim")
    return line


class _BarWhenCounted(ProgressColumn):
    """The bar, for a stage whose steps are counted; nothing (not a pulse) otherwise."""

    def __init__(self, bar_width: int) -> None:
        super().__init__()
        self._bar = BarColumn(bar_width=bar_width)

    def render(self, task: Task) -> RenderableType:
        return Text("") if task.total is None else self._bar.render(task)


class _Clock(ProgressColumn):
    """Time elapsed in the stage; in a counted stage also ``about 0:42 left``, estimated
    from the average step so far (``?`` until a step has finished)."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        text = Text()
        text.append(_minutes(task.elapsed or 0.0), style="progress.elapsed")
        if task.total is not None:
            left = task.time_remaining
            text.append(", about ", style="dim")
            text.append("?" if left is None else _minutes(left), style="progress.remaining")
            text.append(" left", style="dim")
        return text


def _minutes(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
