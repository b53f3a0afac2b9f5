"""What a screen reader (Orca; on Windows NVDA and JAWS read the same names through UI
Automation) finds in the real window, read through the real AT-SPI accessibility bus.

The app runs as its own process on an X server (Xvfb) with a private D-Bus session, whose
accessibility bus the at-spi2 launcher starts on demand; a walker on the system's Python
(Debian's pyatspi) reads its whole accessible tree (tests/gui/atspi_walk.py). The window
has answered a question and shows the Library, a reply's Details, the Documents panel and Settings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, subprocess_env
from tests.fakes import FAKE_REPLY

SYSTEM_PYTHON = "/usr/bin/python3"
WALKER = Path(__file__).with_name("atspi_walk.py")
INSTALL = "apt-get install python3-pyatspi at-spi2-core xvfb dbus-daemon (./hearth.sh test installs them when run as root)"
# The app's windows the walk waits for: the main window, the Library, Details, Documents, Settings.
WINDOWS = 5
FAKE_TEXT = "".join(FAKE_REPLY).replace("**", "")  # as the view shows it: "Hello from the fake engine."

# What a person operates or reads: each must have a name a screen reader can say.
CONTROL_ROLES = {
    "push button", "toggle button", "check box", "radio button", "text", "password text", "entry", "combo box",
    "spin button", "slider", "menu item", "check menu item", "radio menu item", "page tab", "page tab list",
    "list", "list box", "table", "tree", "tree table",
}

# Controls known to be unnamed on the bus: the role path from its window (see `_where`) and
# how many there are. None now; the test fails for an unnamed control missing here and for a
# line that is no longer a gap, so a gap is written down with its reason or fixed.
KNOWN_GAPS: Counter[str] = Counter()


@dataclass(frozen=True)
class Walk:
    """What the walker found, and what the app process said."""

    objects: list[dict[str, Any]]
    app_output: str


def _missing_tools() -> str:
    """'' when everything the walk needs is here, otherwise the sentence saying what to install."""
    missing = [tool for tool in ("Xvfb", "dbus-daemon") if shutil.which(tool) is None]
    if not Path("/usr/libexec/at-spi-bus-launcher").exists():
        missing.append("the at-spi2 bus launcher")
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True).returncode:
        missing.append(f"pyatspi for {SYSTEM_PYTHON}")
    if not missing:
        return ""
    return f"The screen-reader test reads the window through the accessibility bus and needs {', '.join(missing)}: {INSTALL}."


def _start_x_server() -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as answer:
        display = answer.readline().strip()
    if not display:
        server.kill()
        pytest.fail("Xvfb did not start (it printed no display number).", pytrace=False)
    return server, f":{display}"


def _start_session_bus() -> tuple[subprocess.Popen[str], str]:
    """A private D-Bus session: the at-spi2 bus launcher is started from it on demand."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    if not address:
        bus.kill()
        pytest.fail("dbus-daemon did not start a session bus.", pytrace=False)
    return bus, address


def _wait_for_ready(app: subprocess.Popen[bytes], output: Path, seconds: float) -> str:
    """What the app said by the time it said "ready" (or died, or the time ran out)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and app.poll() is None:
        if "ready" in output.read_text(encoding="utf-8", errors="replace").splitlines():
            break
        time.sleep(0.1)
    return output.read_text(encoding="utf-8", errors="replace")


@contextmanager
def walk_hearth(data_dir: Path, *app_arguments: str, ready_within: float = 60) -> Iterator[Walk]:
    problem = _missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)
    x_server, display = _start_x_server()
    bus, address = _start_session_bus()
    session = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
    env = {**subprocess_env(data_dir), **session, "QT_QPA_PLATFORM": "xcb", "QT_ACCESSIBILITY": "1",
           "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
    output = data_dir / "app-output.txt"
    with output.open("wb") as sink:
        app = subprocess.Popen([sys.executable, "-m", "tests.gui.accessible_hearth", str(data_dir), *app_arguments],
                               cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        said = _wait_for_ready(app, output, ready_within)
        if "ready" not in said.splitlines():
            pytest.fail(f"The window did not get ready for the walk:\n{said[-3000:]}", pytrace=False)
        walker_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(data_dir), **session}
        walked = subprocess.run([SYSTEM_PYTHON, str(WALKER), str(app.pid), str(WINDOWS)], env=walker_env,
                                capture_output=True, text=True, timeout=120)
        found = json.loads(walked.stdout or "{}")
        if "objects" not in found:
            pytest.fail(f"The walk found nothing: {found.get('error', '')}\n{walked.stderr[-3000:]}", pytrace=False)
        yield Walk(found["objects"], said)
    finally:
        app.send_signal(signal.SIGTERM)  # closed as a logout closes it
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
        for process in (bus, x_server):
            process.terminate()
            process.wait(timeout=10)


def _where(entry: dict[str, Any]) -> str:
    """The window's name and the roles from it down to `entry`: the same while names change."""
    roles = [step.rsplit(" '", 1)[0] if "'" in step else step for step in entry["path"]]
    window = entry["path"][0].split("'", 1)[1].rsplit("'", 1)[0] if entry["path"] else entry["name"]
    return f"{window}: {'/'.join([*roles[1:], entry['role']])}"


def _unnamed(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in objects if entry["role"] in CONTROL_ROLES and not entry["name"].strip()]


def _with_text(objects: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [entry for entry in objects if text in (entry["text"] or "")]


def _dump(entries: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {entry['role']} (description {entry['description']!r}) at {' > '.join(entry['path'])}"
                     for entry in entries)


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    with walk_hearth(tmp_path_factory.mktemp("screen-reader")) as found:
        yield found


def _gaps(objects: list[dict[str, Any]], reply: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """The unnamed controls, those of them not in KNOWN_GAPS, and the KNOWN_GAPS named now."""
    unnamed = _unnamed(objects)
    # The conversation shown is read as text, whatever role Qt gives it: it needs a name too.
    unnamed += [entry for entry in _with_text(objects, reply) if not entry["name"].strip() and entry not in unnamed]
    found = Counter(_where(entry) for entry in unnamed)
    unexpected = [entry for entry in unnamed if found[_where(entry)] > KNOWN_GAPS[_where(entry)]]
    stale = {where: count for where, count in KNOWN_GAPS.items() if found[where] < count}
    return unnamed, unexpected, stale


def test_every_control_has_a_name(walk: Walk) -> None:
    _, unexpected, stale = _gaps(walk.objects, FAKE_TEXT)
    assert not unexpected, "Unnamed on the accessibility bus (role, description, path):\n" + _dump(unexpected)
    assert not stale, f"Named now: remove these from KNOWN_GAPS (role path: unnamed expected): {stale}"


def test_the_finished_reply_can_be_read(walk: Walk) -> None:
    holders = _with_text(walk.objects, FAKE_TEXT)
    assert holders, "The reply's text is not in any text interface on the accessibility bus."
    assert any("What is a hearth?" in (holder["text"] or "") for holder in holders)  # with its question


def test_the_conversation_list_has_its_rows(walk: Walk) -> None:
    rows = [entry for entry in walk.objects if entry["role"] == "list item" and entry["name"] == "What is a hearth?"]
    assert rows and rows[0]["showing"], "The conversation is not a row of a list on the accessibility bus."


def test_the_library_tables_have_their_rows(walk: Walk) -> None:
    tables = {entry["name"]: entry for entry in walk.objects if entry["role"] in ("table", "tree", "tree table")}
    mine = tables.get("My models")
    assert mine is not None and mine["table"]["rows"] == 1, f"Tables found: {sorted(tables)}"
    assert any(entry["role"] == "table cell" and entry["name"] == "SmolLM2 Synthetic" for entry in walk.objects)
    recommended = tables.get("Recommended models")
    assert recommended is not None and recommended["table"]["rows"] >= 5
    assert any(entry["role"] == "table cell" and entry["name"].startswith("Qwen2.5 0.5B Instruct") for entry in walk.objects)
    tabs = [entry["name"] for entry in walk.objects if entry["role"] == "page tab"]
    assert {"My models", "Discover", "Downloads"} <= set(tabs)


@pytest.mark.real_model
def test_a_real_reply_can_be_read(tmp_path: Path, smollm_path: Path) -> None:
    with walk_hearth(tmp_path, "--real", str(smollm_path), ready_within=120) as walked:
        replies = [line.removeprefix("reply: ") for line in walked.app_output.splitlines() if line.startswith("reply: ")]
        assert replies, walked.app_output[-2000:]
        # Words of the reply as the model wrote them, free of Markdown the view renders.
        words = max(re.findall(r"[A-Za-z][A-Za-z ,']+", replies[0]), key=len).strip()
        assert len(words) >= 8, replies[0]
        assert _with_text(walked.objects, words), f"The reply {words!r} is not readable on the accessibility bus."
        _, unexpected, stale = _gaps(walked.objects, words)
        assert not unexpected and not stale

