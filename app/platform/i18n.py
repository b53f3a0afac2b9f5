"""The one translation function of the Qt-free code: `_()` (gettext).

The GUI translates its own words with Qt (`self.tr()`, or `QCoreApplication.translate`
outside a QObject); what the Qt-free packages say to a person (error messages, the
settings schema's labels and help, reports) goes through `_()` here, so that a language
is a catalog under resources/locale, not a rewrite. Words that must be chosen before a
language is (module-level tables, enum labels) are marked with `N_()` and translated
where they are shown. See docs/TRANSLATING.md.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence

from app.platform.paths import LOCALE_DIR

DOMAIN = "hearth"

_catalog: gettext.NullTranslations = gettext.NullTranslations()


def use_language(languages: Sequence[str] | None = None) -> None:
    """Translate from now on into the first of `languages` that has a catalog (None: the
    environment's LANGUAGE, LC_ALL, LC_MESSAGES and LANG, as gettext reads them);
    English where none has one."""
    use_catalog(gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True))


def use_catalog(catalog: gettext.NullTranslations) -> None:
    """Translate with `catalog` from now on (tests install a pseudo-language with it)."""
    global _catalog
    _catalog = catalog


def _(message: str) -> str:
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _catalog.ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention extractors look for)
    """Mark `message` for translation without translating it yet."""
    return message
