"""Where Hearth keeps its files: the one place that knows every path.

By default the platformdirs locations are used. `--data-dir DIR` or the
`HEARTH_DATA_DIR` environment variable puts everything under one folder instead
(portable installs, tests).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"
DATA_DIR_ENV = "HEARTH_DATA_DIR"
POLICY_FILE_ENV = "HEARTH_POLICY_FILE"
POLICY_NAME = "policy.toml"

def _resources_dir() -> Path:
    """Files shipped with the app (the model catalog, icons, build info): beside the app
    package, or in the unpacked bundle of a frozen (PyInstaller) build."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "resources" if bundle else Path(__file__).resolve().parents[2] / "resources"


RESOURCES_DIR = _resources_dir()
LOCALE_DIR = RESOURCES_DIR / "locale"  # gettext catalogs: <language>/LC_MESSAGES/hearth.mo
QT_TRANSLATIONS_DIR = RESOURCES_DIR / "translations"  # Qt catalogs: hearth_<language>.qm


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def database(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def documents_index(self) -> Path:
        """Collections, their files' text in chunks and the chunks' vectors (app/documents/index.py)."""
        return self.data_dir / "documents.sqlite3"

    @property
    def repair_marker(self) -> Path:
        """Left beside the database by the check the window runs once shown, where it found the
        file damaged: the next start repairs it (app/conversations/opener.py)."""
        return self.data_dir / "conversations.needs-repair"

    @property
    def assistants_dir(self) -> Path:
        """The user's own assistants (presets), one JSON file each (app/assistants/book.py)."""
        return self.data_dir / "assistants"

    @property
    def crash_markers(self) -> Path:
        """What the engine is doing now, one file per process (app/platform/crash_marker.py)."""
        return self.data_dir / "running"

    @property
    def kv_states(self) -> Path:
        """What the model has read of each conversation, to resume it fast (a cache: safe to delete)."""
        return self.data_dir / "cache" / "kv-states"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "hearth.log"

    def ensure(self) -> None:
        """Create every folder; raises OSError when the location is not writable."""
        for folder in (self.data_dir, self.config_dir, self.log_dir, self.models_dir):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Paths for this run: an explicit folder, then the environment, then platformdirs."""
    root = data_dir or os.environ.get(DATA_DIR_ENV)
    if root:
        base = Path(root).expanduser().resolve()
        return AppPaths(data_dir=base, config_dir=base / "config", log_dir=base / "logs")
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def system_policy_file() -> Path:
    """Where IT puts the policy on this operating system: a fixed system folder that only an
    administrator can write, never one the user's environment chooses (XDG_CONFIG_DIRS,
    HOMEBREW_PREFIX or a platformdirs override variable would let any user replace it)."""
    if sys.platform == "win32":
        return _windows_program_data() / APP_NAME / POLICY_NAME
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP_NAME / POLICY_NAME
    return Path("/etc/xdg") / APP_NAME / POLICY_NAME


def _windows_program_data() -> Path:
    """C:\\ProgramData as Windows itself reports it (not %ProgramData%, which a user can set)."""
    import ctypes  # only on Windows

    common_appdata = 35  # CSIDL_COMMON_APPDATA
    buffer = ctypes.create_unicode_buffer(260)
    windll = getattr(ctypes, "windll", None)
    if windll is not None and windll.shell32.SHGetFolderPathW(None, common_appdata, None, 0, buffer) == 0:
        return Path(buffer.value)
    return Path("C:/ProgramData")


def policy_files() -> list[Path]:
    """Where the administrator's policy may be; the first that exists wins.

    The system folder comes first (system_policy_file), so a file a user can write
    cannot override IT's. Then beside the program, for a bundle on a shared drive or
    USB stick. The HEARTH_POLICY_FILE variable, for trying a policy out, counts only
    outside a bundle (a development checkout or a pip install).
    """
    candidates = [system_policy_file()]
    if getattr(sys, "frozen", False):
        candidates.append(Path(sys.executable).resolve().parent / POLICY_NAME)
    elif os.environ.get(POLICY_FILE_ENV):
        candidates.append(Path(os.environ[POLICY_FILE_ENV]))
    return list(dict.fromkeys(candidates))
