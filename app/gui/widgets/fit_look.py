"""How a fit verdict looks in a table: its words in a colour that says the same (never
the colour alone, and never cut to "R…": the column is sized to the words)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.modelfile.fit import Verdict

# Dark enough to read on white, light enough on a dark theme's grey (contrast ≥ 3:1 on both).
VERDICT_COLOURS = {
    Verdict.RUNS_WELL: QColor("#16a34a"),
    Verdict.MAY_BE_SLOW: QColor("#d97706"),
    Verdict.TOO_BIG: QColor("#dc2626"),
}


def verdict_colour(verdict: Verdict) -> QColor:
    return VERDICT_COLOURS[verdict]
