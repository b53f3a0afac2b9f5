"""Text out of a person's file, whatever its format, as blocks with their place; every
failure is a DocumentError naming the file with a plain sentence, so the rest go on."""

from __future__ import annotations

import functools
import logging
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from app.documents import markup, office, pdf, sheets, text_files
from app.documents.blocks import Block, ExtractReport
from app.platform.errors import DocumentError
from app.platform.i18n import _

log = logging.getLogger(__name__)

Reader = Callable[[Path, ExtractReport], Iterator[Block]]


def _without_report(read: Callable[[Path], Iterator[Block]]) -> Reader:
    return lambda path, _report: read(path)


READERS: dict[str, Reader] = {
    ".pdf": pdf.read_pdf,
    ".docx": _without_report(office.read_docx),
    ".odt": _without_report(office.read_odt),
    ".pptx": _without_report(office.read_pptx),
    ".xlsx": _without_report(sheets.read_xlsx),
    ".csv": _without_report(sheets.read_csv),
    ".epub": _without_report(markup.read_epub),
    ".html": _without_report(markup.read_html),
    ".htm": _without_report(markup.read_html),
    ".xhtml": _without_report(markup.read_html),
    ".txt": _without_report(functools.partial(text_files.read_text, style="plain")),
    ".text": _without_report(functools.partial(text_files.read_text, style="plain")),
    ".md": _without_report(functools.partial(text_files.read_text, style="markdown")),
    ".markdown": _without_report(functools.partial(text_files.read_text, style="markdown")),
    ".rst": _without_report(functools.partial(text_files.read_text, style="rst")),
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def extract(path: Path, report: ExtractReport) -> Iterator[Block]:
    """The file's blocks in reading order. Raises DocumentError (never anything else for a
    bad file) before or while yielding; `report` is filled in as the file is read."""
    reader = READERS.get(path.suffix.lower())
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
