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
import itertools
import os
from collections.abc import Sequence

from app.platform.paths import LOCALE_DIR

DOMAIN = "hearth"
# The language the source strings are written in: it has no catalog, so a person who
# puts it first must get it, not the next language on their list that has one.
SOURCE_LANGUAGE = "en"
# What gettext reads, in this order, when no languages are given (the first one set wins).
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_catalog: gettext.NullTranslations = gettext.NullTranslations()


def environment_languages() -> list[str]:
    """The languages the environment asks for, most wanted first: the first of LANGUAGE
    (a colon-separated list), LC_ALL, LC_MESSAGES and LANG that is set, as gettext reads them."""
    for variable in LANGUAGE_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return [language for language in value.split(":") if language]
    return []


def _is_source_language(language: str) -> bool:
    """English in any spelling ("en", "en_GB.UTF-8", "en-US"), or the C locale."""
    code = language.partition(".")[0].partition("@")[0]
    return code in ("C", "POSIX") or code.replace("-", "_").partition("_")[0].lower() == SOURCE_LANGUAGE


def languages_to_try(languages: Sequence[str]) -> list[str]:
    """The languages of `languages` (most wanted first) that come before English, in
    gettext's spelling: a catalog is looked for in these only, so that someone who put
    English before German gets English, not German. Qt's translators follow the same list."""
    return [language.replace("-", "_") for language in itertools.takewhile(
        lambda language: not _is_source_language(language), languages)]


def use_language(languages: Sequence[str] | None = None) -> None:
    """Translate from now on into the first of `languages` that has a catalog, in gettext's
    spelling ("de_DE") or Qt's and the web's ("de-DE", as QLocale.uiLanguages() gives them);
    None: the environment's (environment_languages). English where none before English has one."""
    before_source = languages_to_try(environment_languages() if languages is None else languages)
    if not before_source:
        use_catalog(gettext.NullTranslations())
        return
    use_catalog(gettext.translation(DOMAIN, LOCALE_DIR, languages=before_source, fallback=True))


def use_catalog(catalog: gettext.NullTranslations) -> None:
    """Translate with `catalog` from now on (tests install a pseudo-language with it)."""
    global _catalog
    _catalog = catalog


def _(message: str) -> str:
    """`message` in the language in use. Pass a string literal, so extractors find it; fill
    its named placeholders after: `_("Cannot read {path}.").format(path=path)`."""
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a sentence about `count` things that the language in use needs (some
    languages have more than two); `count` is still to be filled in with `.format`."""
    return _catalog.ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention extractors look for)
    """Mark `message` for translation without translating it yet."""
    return message
