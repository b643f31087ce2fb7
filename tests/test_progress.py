"""Progress a person can watch: a live display with one line per finished stage in a
terminal; nothing in a pipe, a CI log or with --quiet; plain callbacks still served."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from auditor import cli
from auditor._progress import TerminalProgress, display_mode
from auditor.checks import CATALOGUE_ORDER, REGISTRY
from auditor.pipeline import Audit, StageProgress

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
AUDITOR = [sys.executable, "-c", "import sys; from auditor._entry import main; sys.exit(main())"]
TERMINAL = {"TERM": "xterm"}
CHECKS = [c for c in CATALOGUE_ORDER if c in REGISTRY]
RUN_STAGES = [
    "reading the package",
    "validating against the contract",
    "reconstructing earnings, take rates and working time",
    f"checks {len(CHECKS)}/{len(CHECKS)}",
    "assembling the result",
    "writing the outputs",
]
DONE = re.compile(r"✓ (?P<stage>.+)  \d+\.\d s")
ESCAPE = re.compile(r"\x1b\[(\??)([\d;]*)([A-Za-z])")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def screen(output: str) -> list[str]:
    """The lines a terminal shows after ``output`` (what rich's live display writes: text,
    ``\\r``, ``\\n``, erase line, cursor up, cursor visibility and colours), down to the
    line the cursor is on (empty if nothing is written there yet)."""
    lines, row, col, i = [""], 0, 0, 0
    while i < len(output):
        if match := ESCAPE.match(output, i):
            private, number, command = match.groups()
            if not private and command == "K":
                lines[row] = "" if number == "2" else lines[row][:col]
            elif not private and command == "A":
                row = max(0, row - int(number or 1))
            i = match.end()
            continue
        char = output[i]
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
            lines.extend([""] * (row + 1 - len(lines)))
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + char + line[col + 1 :]
            col += 1
        i += 1
    while len(lines) > row + 1 and not lines[-1]:  # blank lines below the cursor
        lines.pop()
    return lines


def cursor_shown(output: str) -> bool:
    """Whether the cursor is visible after ``output`` (hidden by the live display)."""
    return output.rfind("\x1b[?25h") >= output.rfind("\x1b[?25l")


def finished(lines: list[str]) -> list[str]:
    """The stages of the permanent ``✓ stage  3.2 s`` lines among ``lines``."""
    return [m["stage"] for line in lines if (m := DONE.fullmatch(line.rstrip()))]


def without_ci(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TERM", "NO_COLOR")}
    return {**env, **TERMINAL, **extra}


class Recorder:
    """A StageProgress that writes down what it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def __call__(self, message: str) -> None:
        self.events.append(("step", message))

    def stage_started(self, name: str, total: int | None = None) -> None:
        self.events.append(("started", name, total))

    def stage_finished(self) -> None:
        self.events.append(("finished",))


# 1. When it shows, and how.


@pytest.mark.parametrize(
    ("quiet", "tty", "environ", "mode"),
    [
        (False, True, TERMINAL, "live"),
        (True, True, TERMINAL, "off"),
        (False, False, TERMINAL, "off"),
        (False, True, {**TERMINAL, "CI": "true"}, "off"),
        (False, True, {**TERMINAL, "CI": "1"}, "off"),
        (False, True, {**TERMINAL, "CI": "false"}, "live"),
        (False, True, {"TERM": "dumb"}, "lines"),
        (True, True, {"TERM": "dumb"}, "off"),
        (False, True, {"TERM": "dumb", "CI": "true"}, "off"),
    ],
    ids=["terminal", "quiet", "pipe", "ci", "ci_1", "ci_false", "dumb", "dumb_quiet", "dumb_ci"],
)
def test_the_mode_follows_the_terminal_the_environment_and_quiet(
    quiet: bool, tty: bool, environ: Mapping[str, str], mode: str
) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert display_mode(quiet, stream, environ) == mode


def _drive(progress: TerminalProgress, frames: list[str] | None = None) -> None:
    """The events of a small audit; ``frames`` receives the screen as each check runs."""
    assert isinstance(progress, StageProgress)
    with progress:
        progress.stage_started("reading the package")
        progress("reading the package")
        progress.stage_finished()
        progress.stage_started("checks", total=3)
        for check in ("FEE-01", "FEE-02", "PAY-01"):
            progress(f"check {check}")
            if frames is not None and isinstance(progress.stream, io.StringIO):
                frames.append(screen(progress.stream.getvalue())[-1])
        progress.stage_finished()


def test_a_terminal_shows_the_live_stage_then_one_line_per_stage() -> None:
    stream, frames = Terminal(), []
    _drive(TerminalProgress(False, stream, environ=TERMINAL), frames)
    output = stream.getvalue()
    # While the checks run: the stage, check i of 3, the check, the elapsed time, and an
    # estimate (unknown, "?", until a step has finished).
    assert re.search(r"checks .*1/3 0:00, about \? left check FEE-01", frames[0]), frames[0]
    assert "2/3" in frames[1] and "check FEE-02" in frames[1]
    assert "3/3" in frames[2] and "check PAY-01" in frames[2] and "━" in frames[2]
    # After: the finished stages, each on its own line, and nothing of the live display.
    lines = screen(output)
    assert finished(lines) == ["reading the package", "checks 3/3"]
    assert lines[-1] == "" and len(lines) == 3, lines
    assert "\x1b[?25l" in output and cursor_shown(output)


@pytest.mark.parametrize(("quiet", "environ"), [(True, TERMINAL), (False, {**TERMINAL, "CI": "1"})])
def test_quiet_or_ci_shows_nothing_even_on_a_terminal(
    quiet: bool, environ: Mapping[str, str]
) -> None:
    stream = Terminal()
    _drive(TerminalProgress(quiet, stream, environ=environ))
    assert stream.getvalue() == ""


def test_a_pipe_shows_nothing() -> None:
    stream = io.StringIO()
    _drive(TerminalProgress(False, stream, environ=TERMINAL))
    assert stream.getvalue() == ""


def test_a_dumb_terminal_gets_plain_lines_as_each_step_starts() -> None:
    stream = Terminal()
    _drive(TerminalProgress(False, stream, environ={"TERM": "dumb"}))
    lines = stream.getvalue().splitlines()
    assert [line[10:] for line in lines] == [
        "reading the package", "check FEE-01", "check FEE-02", "check PAY-01"
    ]  # fmt: skip
    assert all(re.fullmatch(r"\[ +\d+\.\ds\] .+", line) for line in lines)
    assert "\x1b" not in stream.getvalue()


def test_a_stage_cut_short_leaves_no_line_and_the_cursor_shown() -> None:
    stream = Terminal()
    progress = TerminalProgress(False, stream, environ=TERMINAL)
    with pytest.raises(KeyboardInterrupt), progress:
        progress.stage_started("reading the package")
        progress.stage_finished()
        progress.stage_started("checks", total=3)
        progress("check FEE-01")
        raise KeyboardInterrupt
    output = stream.getvalue()
    lines = screen(output)
    assert finished(lines) == ["reading the package"] and lines[1:] == [""], lines
    assert cursor_shown(output)


# 2. The Python API: a plain callable as before; a StageProgress hears the stages.


def test_a_plain_callable_still_receives_each_step(package: Path) -> None:
    messages: list[str] = []
    Audit(progress=messages.append).run(package)
    assert messages == [
        "reading the package",
        "validating against the contract",
        "reconstructing earnings, take rates and working time",
        *[f"check {c}" for c in CHECKS],
    ]
    messages.clear()
    Audit(progress=messages.append).validate(package)
    assert messages[:2] == ["reading the package", "validating against the contract"]
    assert messages[2:] == [f"check {c}" for c in CHECKS if c.startswith("DQ-")]


def test_a_stage_progress_hears_each_stage_and_the_number_of_checks(package: Path) -> None:
    recorder = Recorder()
    Audit(progress=recorder, checks=("PAY-01", "DQ-01", "FEE-01")).run(package)
    assert recorder.events == [
        ("started", "reading the package", None),
        ("step", "reading the package"),
        ("finished",),
        ("started", "validating against the contract", None),
        ("step", "validating against the contract"),
        ("finished",),
        ("started", "reconstructing earnings, take rates and working time", None),
        ("step", "reconstructing earnings, take rates and working time"),
        ("finished",),
        ("started", "checks", 3),
        ("step", "check DQ-01"),  # in catalogue order
        ("step", "check FEE-01"),
        ("step", "check PAY-01"),
        ("finished",),
        ("started", "assembling the result", None),
        ("finished",),
    ]


@pytest.mark.parametrize("command", ["run", "validate"])
def test_the_checks_stage_announces_as_many_checks_as_run(package: Path, command: str) -> None:
    """The total a display counts against is the number of checks that run_checks runs."""
    recorder = Recorder()
    getattr(Audit(progress=recorder), command)(package)
    start = next(i for i, e in enumerate(recorder.events) if e[:2] == ("started", "checks"))
    total = recorder.events[start][2]
    announced = recorder.events[start + 1 : recorder.events.index(("finished",), start)]
    assert announced and all(e[0] == "step" and e[1].startswith("check ") for e in announced)
    assert total == len(announced)


# 3. The command line, as a person or a CI job runs it.


def _in_a_terminal(
    args: list[str], *, env: Mapping[str, str], interrupt_after: str | None = None
) -> tuple[int, str, str]:
    """Run ``auditor args`` with stderr on a pseudo-terminal 100 columns wide (stdout on a
    pipe); send SIGINT once stderr shows ``interrupt_after``. Return the exit code, what
    the terminal received and stdout."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        AUDITOR + args, stdin=child, stdout=subprocess.PIPE, stderr=child, env=dict(env)
    )
    os.close(child)
    received, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        if not select.select([main], [], [], 0.5)[0]:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
        shown = ESCAPE.sub("", received.decode(errors="replace"))
        if interrupt_after is not None and interrupt_after in shown:
            proc.send_signal(signal.SIGINT)
            interrupt_after = None
    os.close(main)
    stdout, _ = proc.communicate(timeout=60)
    return proc.returncode, received.decode().replace("\r\n", "\n"), stdout.decode()


def test_auditor_run_in_a_terminal(package: Path, tmp_path: Path) -> None:
    code, err, out = _in_a_terminal(
        ["run", str(package), "--out", str(tmp_path / "out"), "--fail-on", "never"],
        env=without_ci(),
    )
    assert code == 0, err
    assert "\x1b[?25l" in err and cursor_shown(err)  # there was a live display
    lines = screen(err)
    assert finished(lines) == RUN_STAGES
    assert len(lines) == len(RUN_STAGES) + 1 and lines[-1] == ""  # nothing else left
    assert "orders" in out and "\x1b" not in out


def test_auditor_run_in_a_terminal_with_quiet_shows_nothing(package: Path, tmp_path: Path) -> None:
    code, err, out = _in_a_terminal(
        ["validate", str(package), "--out", str(tmp_path / "out"), "--quiet"], env=without_ci()
    )
    assert code == 0 and err == ""
    assert "orders" in out


def test_auditor_run_in_a_pipe_writes_nothing_on_stderr(package: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [*AUDITOR, "run", str(package), "--out", str(tmp_path / "out"), "--fail-on", "never"],
        capture_output=True,
        text=True,
        env=without_ci(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress line, no control character
    assert "\x1b" not in proc.stdout and "orders" in proc.stdout


def test_ctrl_c_clears_the_display_before_the_one_line(tmp_path: Path) -> None:
    """SIGINT ``auditor run`` on the demo while its checks run (seconds on the demo):
    the finished stages stay, the live line is gone, the cursor is back, and
    ``auditor: interrupted`` is the last line."""
    code, err, _ = _in_a_terminal(
        ["run", str(DEMO), "--out", str(tmp_path / "out")],
        env=without_ci(),
        interrupt_after="✓ reconstructing",
    )
    assert code == 130, err
    lines = screen(err)
    assert lines[-2:] == ["auditor: interrupted", ""], lines
    assert finished(lines[:-2]) == RUN_STAGES[:3] and len(lines) == 5, lines
    assert cursor_shown(err) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_an_interrupt_in_process_stops_the_display_before_the_message(
    package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same with stderr a terminal in this process: the display and the message share
    the stream, and the message starts on a clean line."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr("auditor.pipeline.validate_package", interrupted)
    assert cli.main(["run", str(package), "--out", str(tmp_path / "out")]) == 130
    output = terminal.getvalue()
    assert sys.stderr is terminal  # the display gave stderr back
    assert screen(output)[-2:] == ["auditor: interrupted", ""]
    assert finished(screen(output)) == ["reading the package"]
    assert cursor_shown(output[: output.index("auditor: interrupted")])
