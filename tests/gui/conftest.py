"""What every window test shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication


@pytest.fixture(autouse=True)
def _clipboard_emptied_after_each_test() -> Iterator[None]:
    """A copy puts a QMimeData made in Python on the clipboard (app/gui/widgets/chat_view.py).
    Offscreen, Qt keeps the clipboard in a static of its own that is freed after Python has
    ended, and freeing that Python-made object then crashed the test run at exit (SIGSEGV
    in Shiboken::Object::destroy, every run of the More… menu test alone). On a real screen
    the clipboard goes with the application, and the app is unaffected. Emptied here, it is
    freed while Python runs, and no test sees another's copy."""
    yield
    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()


@pytest.fixture
def english_plurals(qapp, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """Hearth's English singulars and plurals installed, as `hearth` installs them at start
    (a window made by a test counts "1 message(s)" without them). Parametrize
    `ui_languages` to choose the user's languages (default: en-US)."""
    from app.gui import translations

    monkeypatch.setattr(translations, "use_language", lambda _languages: None)
    installed = translations.install_translators(qapp, getattr(request, "param", ["en-US"]))
    yield
    for translator in installed:
        qapp.removeTranslator(translator)
