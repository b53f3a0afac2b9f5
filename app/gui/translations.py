"""The user's language for both halves of Hearth: Qt's translators for the GUI (Hearth's
own catalog, hearth_<language>.qm, and Qt's for its standard buttons and dialogs), and
gettext for the Qt-free code (app/platform/i18n.py), both picked from the system's list
of languages in the same order. English where a language has no catalog: nothing is
installed for it, and the source texts are shown."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.platform.i18n import use_language
from app.platform.paths import QT_TRANSLATIONS_DIR


def gettext_languages(ui_languages: Sequence[str]) -> list[str]:
    """Qt's language tags (`QLocale.uiLanguages()`, most wanted first) in gettext's form:
    "de-DE" becomes "de_DE", a script subtag is dropped (Qt says "de-Latn-DE"; gettext's
    catalogs are named without it), and each language's bare name ("de", a catalog for
    every German) comes after its regional forms, before the next language."""
    forms: dict[str, list[str]] = {}
    for tag in ui_languages:
        language, *rest = tag.split("-")
        name = "_".join([language, *(part for part in rest if not (len(part) == 4 and part.isalpha()))])
        names = forms.setdefault(language, [])
        if name != language and name not in names:
            names.append(name)
    return [name for language, names in forms.items() for name in (*names, language)]


def install_translators(app: QCoreApplication, locale: QLocale | None = None) -> list[QTranslator]:
    """Translate into `locale`'s languages (the system's when None) from now on; call
    before any window is built. Returns the translators installed, which belong to `app`
    (a translator that is garbage-collected stops translating)."""
    locale = QLocale.system() if locale is None else locale
    installed = []
    for catalog, folder in (
        ("hearth", str(QT_TRANSLATIONS_DIR)),
        ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    ):
        translator = QTranslator()
        if translator.load(locale, catalog, "_", folder):
            translator.setParent(app)
            app.installTranslator(translator)
            installed.append(translator)
    use_language(gettext_languages(locale.uiLanguages()))
    return installed
