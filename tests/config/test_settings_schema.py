"""The one settings schema: its entries match the Settings dataclasses, and the table in
docs/ADMIN.md is the one it writes."""

from __future__ import annotations

import dataclasses

import pytest

from app.config import schema
from app.config.settings import Settings
from tests.conftest import REPO

ADMIN_DOC = REPO / "docs" / "ADMIN.md"


def test_every_entry_names_a_place_in_the_settings_with_its_default() -> None:
    assert len(schema.BY_NAME) == len(schema.SETTINGS), "names are unique"
    defaults = Settings()
    for spec in schema.SETTINGS:
        assert spec.read(defaults) == spec.default, spec.name
        assert spec.label and spec.help, spec.name
        if isinstance(spec, schema.NumberSetting):
            assert spec.minimum <= spec.default <= spec.maximum, spec.name
            assert type(spec.minimum) is type(spec.maximum) is type(spec.step) is type(spec.default), spec.name


def test_the_admin_guide_has_the_table_the_schema_writes() -> None:
    document = ADMIN_DOC.read_text(encoding="utf-8")
    assert schema.with_settings_table(document) == document, (
        "docs/ADMIN.md's settings table is not the schema's: run python -m app.config.schema docs/ADMIN.md"
    )
    assert "| `temperature` | Creativity (temperature) | float | `0.7` | 0.0 to 2.0 | yes |" in document
    assert '| `system_prompt` | Default system prompt | string | `"You are a helpful assistant."` |' in document


def test_the_table_follows_a_changed_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = dataclasses.replace(schema.TOP_P, help="Keeps words | with enough probability", lockable=False)
    monkeypatch.setattr(schema, "SETTINGS", (piped,))
    document = f"Before.\n{schema.TABLE_START}\nan old row\n{schema.TABLE_END}\nAfter.\n"
    written = schema.with_settings_table(document)
    assert written.startswith("Before.\n") and written.endswith("After.\n") and "an old row" not in written
    assert "| `top_p` | Top-p | float | `0.95` | 0.0 to 1.0 | no | Keeps words \\| with enough probability |" in written
    assert schema.with_settings_table(written) == written


def test_a_document_without_the_markers_is_refused_plainly() -> None:
    with pytest.raises(ValueError, match="has no settings table"):
        schema.with_settings_table("# Hearth for IT staff\n")


def test_values_are_brought_within_limits() -> None:
    assert schema.CONTEXT_LENGTH.within_limits(0) == 256
    assert schema.TEMPERATURE.within_limits(9.0) == 2.0
    assert schema.TEMPERATURE.within_limits(float("inf")) == 0.7
    assert schema.HUB_ENDPOINT.within_limits("mirror.example/") == "https://mirror.example"
    assert schema.SYSTEM_PROMPT.within_limits("  Be brief.  ") == "  Be brief.  "


def test_types_as_the_settings_file_and_the_policy_take_them() -> None:
    assert schema.typed_like(0.7, 1) == 1.0 and isinstance(schema.typed_like(0.7, 1), float)
    assert schema.typed_like(4096, 8192) == 8192
    assert schema.typed_like(4096, True) is None and schema.typed_like(0.7, False) is None
    assert schema.typed_like(4096, 1.5) is None and schema.typed_like("", 3) is None
    assert schema.typed_like(False, True) is True
