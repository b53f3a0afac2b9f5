"""The Hugging Face token for gated models, kept with the system keyring.

Headless Linux often has no keyring backend at all. Then the token is kept in
memory for this session only, and the user is told so; it is never written to
a plain file.
"""

from __future__ import annotations

import logging
import threading

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.platform.i18n import N_, _

log = logging.getLogger(__name__)

SERVICE = "Hearth"
HUB_TOKEN = "huggingface-token"
NO_KEYRING_NOTICE = N_(
    "This computer has no password keyring, so the token is kept only until Hearth closes. "
    "You will need to enter it again next time."
)

# keyring finds its backend on first use and without a lock: `keyring.get_keyring()`
# tests a module global and, while it is None, imports every backend (secretstorage,
# jeepney, cryptography, a ctypes probe for macOS) and asks D-Bus for a Secret Service.
# Eight threads asking at once in a fresh process ran that detection 7 or 8 times and got
# as many backend objects. The token is asked for from the download thread and from
# thread-pool tasks, so this lock makes the first of them detect and the others wait. It
# is the process's, like the keyring state it guards.
_DETECTING = threading.Lock()


class TokenStore:
    """Reads and keeps the token. Making one does no keyring work, so the GUI thread
    never waits on D-Bus: the first `get` or `set`, always called off the GUI thread,
    finds the backend, and the store keeps using that one."""

    def __init__(self) -> None:
        self._session_token = ""
        self._resolved = False
        self._backend: KeyringBackend | None = None  # None once resolved: no usable keyring

    def _keyring(self) -> KeyringBackend | None:
        """The backend found on first use, or None where there is no usable one."""
        with _DETECTING:
            if not self._resolved:
                backend = keyring.get_keyring()
                # Asked once: `priority` is a probe, not a field (the Secret Service
                # backend's opens a D-Bus connection each time it is read).
                usable = not isinstance(backend, fail.Keyring) and backend.priority > 0
                self._backend = backend if usable else None
                self._resolved = True
                log.info("keyring backend: %s%s", backend, "" if usable else " (not usable)")
            return self._backend

    def get(self) -> str:
        backend = None if self._session_token else self._keyring()
        if backend is None:
            return self._session_token
        try:
            return backend.get_password(SERVICE, HUB_TOKEN) or ""
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed: %s", exc)
            return ""

    def set(self, token: str) -> str:
        """Keep `token` ('' forgets it). Returns a notice for the user, or ''."""
        token = token.strip()
        self._session_token = ""
        backend = self._keyring()
        if backend is not None:
            try:
                if token:
                    backend.set_password(SERVICE, HUB_TOKEN, token)
                else:
                    backend.delete_password(SERVICE, HUB_TOKEN)
                return ""
            except keyring.errors.PasswordDeleteError:
                return ""
            except keyring.errors.KeyringError as exc:
                log.warning("keyring write failed: %s", exc)
        self._session_token = token
        return _(NO_KEYRING_NOTICE) if token else ""
