"""The Hugging Face token for gated models, kept with the system keyring.

Headless Linux often has no keyring backend at all. Then the token is kept in
memory for this session only, and the user is told so; it is never written to
a plain file.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backends import fail

log = logging.getLogger(__name__)

SERVICE = "Hearth"
HUB_TOKEN = "huggingface-token"
NO_KEYRING_NOTICE = (
    "This computer has no password keyring, so the token is kept only until Hearth closes. "
    "You will need to enter it again next time."
)


class TokenStore:
    def __init__(self) -> None:
        self._session_token = ""

    @staticmethod
    def keyring_available() -> bool:
        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 0) > 0

    def get(self) -> str:
        if self._session_token or not self.keyring_available():
            return self._session_token
        try:
            return keyring.get_password(SERVICE, HUB_TOKEN) or ""
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed: %s", exc)
            return ""

    def set(self, token: str) -> str:
        """Keep `token` ('' forgets it). Returns a notice for the user, or ''."""
        token = token.strip()
        self._session_token = ""
        if self.keyring_available():
            try:
                if token:
                    keyring.set_password(SERVICE, HUB_TOKEN, token)
                else:
                    keyring.delete_password(SERVICE, HUB_TOKEN)
                return ""
            except keyring.errors.PasswordDeleteError:
                return ""
            except keyring.errors.KeyringError as exc:
                log.warning("keyring write failed: %s", exc)
        self._session_token = token
        return NO_KEYRING_NOTICE if token else ""
