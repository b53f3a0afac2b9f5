"""The user's language for both halves of Hearth: Qt's translators for the GUI (Hearth's
own catalog, hearth_<language>.qm, and Qt's for its standard buttons and dialogs), and
gettext for the Qt-free code (app/platform/i18n.py), both picked from the system's list
of languages in the same order. English where a language has no catalog: the source
texts are shown, with English plurals from a catalog of only those (Qt's `%n` has no
plural of its own: without it the window said "1 conversation(s)")."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.platform.i18n import languages_to_try, use_language
from app.platform.paths import QT_TRANSLATIONS_DIR

# The English forms of every message that counts (resources/translations/hearth_en.ts,
# made as docs/TRANSLATING.md says). Never chosen as a language: English has none.
ENGLISH_PLURALS = "hearth_en"


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


def install_translators(app: QCoreApplication, ui_languages: Sequence[str] | None = None) -> list[QTranslator]:
    """Translate into the first of `ui_languages` (Qt's tags, most wanted first; the
    system's when None) that has a catalog, before English, from now on; call before any
    window is built. Returns the translators installed (English plurals first), which belong to `app` (a translator
    that is garbage-collected stops translating)."""
    languages = gettext_languages(QLocale.system().uiLanguages() if ui_languages is None else ui_languages)
    wanted = languages_to_try(languages)  # not QTranslator.load(locale, …): it goes on past English
    installed = []
    plurals = QTranslator()
    if plurals.load(ENGLISH_PLURALS, str(QT_TRANSLATIONS_DIR)):
        # Installed first, so searched last: a language's own plurals win, and where its
        # catalog lacks a message, the English text has English plurals.
        plurals.setParent(app)
        app.installTranslator(plurals)
        installed.append(plurals)
    for catalog, folder in (
        ("hearth", str(QT_TRANSLATIONS_DIR)),
        ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    ):
        translator = QTranslator()
        if any(translator.load(f"{catalog}_{language}", folder) for language in wanted):
            translator.setParent(app)
            app.installTranslator(translator)
            installed.append(translator)
    use_language(languages)
    return installed
