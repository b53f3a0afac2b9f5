"""Languages for tests: a pseudo-language that shows which words were translated, and
compiled gettext catalogs written on the spot (no msgfmt needed)."""

from __future__ import annotations

import gettext
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from app.platform.i18n import use_catalog

MO_MAGIC = 0x950412DE
# Plural forms as GNU gettext writes them for German (and English): one for 1, one for the rest.
TWO_FORMS = "nplurals=2; plural=(n != 1);"


class PseudoLanguage(gettext.NullTranslations):
    """Every translated message comes out as ⟦message⟧: text that reaches the user
    without `_()` or `ngettext()` shows up bare. Placeholders stay, so `.format` works."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"⟦{msgid1 if n == 1 else msgid2}⟧"


@contextmanager
def speaking(catalog: gettext.NullTranslations) -> Iterator[None]:
    """Translate with `catalog` inside the block; English (no catalog) again after it."""
    use_catalog(catalog)
    try:
        yield
    finally:
        use_catalog(gettext.NullTranslations())


def write_mo(
    path: Path,
    messages: Mapping[str, str],
    plurals: Mapping[tuple[str, str], Sequence[str]] | None = None,
    plural_forms: str = TWO_FORMS,
) -> Path:
    """A compiled catalog (GNU .mo, little-endian, no hash table) at `path`: `messages`
    maps a message to its translation, `plurals` a (singular, plural) pair to its forms."""
    header = f"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: {plural_forms}\n"
    entries = {"": header, **messages}
    entries.update({f"{singular}\0{plural}": "\0".join(forms) for (singular, plural), forms in (plurals or {}).items()})
    keys = sorted(entries, key=lambda key: key.encode("utf-8"))
    originals = [key.encode("utf-8") for key in keys]
    translations = [entries[key].encode("utf-8") for key in keys]
    count = len(keys)
    originals_table = 7 * 4  # after the header's seven 32-bit numbers
    translations_table = originals_table + count * 8
    data_start = translations_table + count * 8
    tables, data = b"", b""
    for strings in (originals, translations):
        for text in strings:
            tables += struct.pack("<2I", len(text), data_start + len(data))
            data += text + b"\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        struct.pack("<7I", MO_MAGIC, 0, count, originals_table, translations_table, 0, 0) + tables + data
    )
    return path
