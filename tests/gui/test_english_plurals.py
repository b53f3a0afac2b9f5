"""English plurals: Qt's `%n` says "1 conversation(s)" unless a catalog gives the forms.
Hearth ships one with the English forms of every message that counts, made from the code
(docs/TRANSLATING.md); these tests fail when a new message has none, or the compiled
catalog is older than its source."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import PySide6
import pytest
from PySide6.QtCore import QCoreApplication

from app.gui import translations
from app.platform.paths import QT_TRANSLATIONS_DIR

REPO = Path(__file__).resolve().parents[2]
PYSIDE_TOOLS = str(Path(PySide6.__file__).parent)
SOURCE = QT_TRANSLATIONS_DIR / f"{translations.ENGLISH_PLURALS}.ts"
COMPILED = QT_TRANSLATIONS_DIR / f"{translations.ENGLISH_PLURALS}.qm"
REMAKE = (".venv/bin/pyside6-lupdate -extensions py app/gui -pluralonly -locations none -ts resources/translations/hearth_en.ts,"
          " fill in the forms, then .venv/bin/pyside6-lrelease resources/translations/hearth_en.ts")


def tool(name: str) -> str:
    found = shutil.which(name, path=PYSIDE_TOOLS)
    assert found is not None, f"no {name} in {PYSIDE_TOOLS}: PySide6-Essentials ships it"
    return found


def forms(catalog: Path) -> dict[tuple[str, str], list[str]]:
    root = ElementTree.parse(catalog).getroot()
    return {
        (context.findtext("name", ""), message.findtext("source", "")):
            [form.text or "" for form in message.iter("numerusform")]
        for context in root.iter("context") for message in context.iter("message")
    }


def test_every_message_that_counts_has_its_english_forms(tmp_path: Path) -> None:
    fresh = tmp_path / "plurals.ts"
    sources = sorted(str(path) for path in (REPO / "app" / "gui").rglob("*.py"))
    subprocess.run([tool("lupdate"), *sources, "-pluralonly", "-ts", str(fresh)], check=True, capture_output=True, timeout=120)
    wanted, shipped = forms(fresh), forms(SOURCE)
    missing = sorted(key for key in wanted if len(shipped.get(key, [])) != 2 or not all(shipped[key]))
    assert not missing, f"no English singular and plural for {missing}: {REMAKE}"
    for (_context, source), (one, many) in shipped.items():
        assert "(s)" not in one + many and "%n" in many, (source, one, many)


def test_the_compiled_catalog_is_made_from_its_source(tmp_path: Path) -> None:
    remade = tmp_path / "remade.qm"
    subprocess.run([tool("lrelease"), str(SOURCE), "-qm", str(remade)], check=True, capture_output=True, timeout=60)
    assert remade.read_bytes() == COMPILED.read_bytes(), f"{COMPILED.name} is out of date: {REMAKE}"


@pytest.mark.parametrize("english_plurals", [["en-US"], ["de-DE"], ["en-GB", "fr-FR"]], indirect=True)
def test_the_window_counts_in_english(english_plurals: None) -> None:
    """Also where the user's language has no catalog of Hearth's: the English shown counts right."""
    def imported(count: int) -> str:
        return QCoreApplication.translate("ConversationTransfer", "Imported %n conversation(s).", "", count)

    assert (imported(1), imported(2)) == ("Imported 1 conversation.", "Imported 2 conversations.")
