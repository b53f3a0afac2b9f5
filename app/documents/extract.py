"""Text out of a person's file, whatever its format, as blocks with their place; every
failure is a DocumentError naming the file with a plain sentence, so the rest go on."""

from __future__ import annotations

import functools
import logging
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import cast

from app.documents.blocks import Block, ExtractReport
from app.platform.errors import DocumentError
from app.platform.i18n import _

log = logging.getLogger(__name__)

Reader = Callable[[Path, ExtractReport], Iterator[Block]]

# Each kind's reader, as (module in app.documents, its function, whether it fills in the
# report, the text style it reads). The module is imported at the first file of its kind:
# their libraries (python-docx, python-pptx, Pillow, openpyxl, lxml, odfpy, pypdfium2) were
# imported with the window, before any document was read.
_READERS: dict[str, tuple[str, str, bool, str]] = {
    ".pdf": ("pdf", "read_pdf", True, ""),
    ".docx": ("office", "read_docx", False, ""),
    ".odt": ("office", "read_odt", False, ""),
    ".pptx": ("office", "read_pptx", False, ""),
    ".xlsx": ("sheets", "read_xlsx", False, ""),
    ".csv": ("sheets", "read_csv", False, ""),
    ".epub": ("markup", "read_epub", False, ""),
    ".html": ("markup", "read_html", False, ""),
    ".htm": ("markup", "read_html", False, ""),
    ".xhtml": ("markup", "read_html", False, ""),
    ".txt": ("text_files", "read_text", False, "plain"),
    ".text": ("text_files", "read_text", False, "plain"),
    ".md": ("text_files", "read_text", False, "markdown"),
    ".markdown": ("text_files", "read_text", False, "markdown"),
    ".rst": ("text_files", "read_text", False, "rst"),
}
SUFFIXES = frozenset(_READERS)  # the kinds of file Hearth reads


def _reader(suffix: str) -> Reader | None:
    found = _READERS.get(suffix)
    if found is None:
        return None
    module, name, takes_report, style = found
    read = getattr(_module(module), name)
    if takes_report:
        return cast(Reader, read)
    if style:
        read = functools.partial(read, style=style)
    return lambda path, _report: cast(Iterator[Block], read(path))


def _module(name: str) -> ModuleType:
    """The reader module `name`, imported now: each import written out, not by name, so
    that PyInstaller finds it and puts it in the bundle; one at a time, so reading a text
    file does not load the office formats' libraries."""
    if name == "pdf":
        from app.documents import pdf

        return pdf
    if name == "office":
        from app.documents import office

        return office
    if name == "sheets":
        from app.documents import sheets

        return sheets
    if name == "markup":
        from app.documents import markup

        return markup
    from app.documents import text_files

    return text_files


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def extract(path: Path, report: ExtractReport) -> Iterator[Block]:
    """The file's blocks in reading order. Raises DocumentError (never anything else for a
    bad file) before or while yielding; `report` is filled in as the file is read."""
    reader = _reader(path.suffix.lower())
    if reader is None:
        raise DocumentError(_("{file}: Hearth cannot read this kind of file").format(file=path.name))
    try:
        yield from reader(path, report)
    except DocumentError:
        raise
    except PermissionError as error:
        raise DocumentError(_("{file}: Hearth has no permission to read it").format(file=path.name)) from error
    except FileNotFoundError as error:
        raise DocumentError(_("{file}: it is no longer there").format(file=path.name)) from error
    except OSError as error:
        raise DocumentError(_("{file}: it could not be read ({reason})").format(file=path.name, reason=error.strerror or error)) from error
    except (zipfile.BadZipFile, KeyError, ValueError, StopIteration) as error:
        raise DocumentError(_("{file}: it is damaged or not the kind of file its name says").format(file=path.name)) from error
    except Exception as error:
        # The format libraries raise their own exceptions (lxml, odfpy, openpyxl) for damaged files.
        log.warning("could not extract %s: %s", path.name, type(error).__name__)
        raise DocumentError(_("{file}: it is damaged or not the kind of file its name says").format(file=path.name)) from error
