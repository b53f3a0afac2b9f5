"""What the Qt-free code says to a person goes through the translation functions.

With the pseudo-language every translated message comes out as ⟦message⟧, so a sentence
that reaches the user without `_()` shows up bare and fails its test. A German catalog,
compiled here into a real .mo file, shows `use_language` choosing a language the way the
app does at start.
"""

from __future__ import annotations

import gettext
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backends.base import ChatTurn, prompt_format_label
from app.backends.llama.prompting import fit_to_context
from app.chat.crash_recovery import crash_notice, safe_mode_label
from app.chat.rendering import MarkdownRenderer
from app.cli.main import build_parser, run
from app.config import schema
from app.config.policy import load_policy
from app.config.settings import ModelPreferences, Settings, save_settings
from app.conversations.store import Role, SqliteConversationStore, Status
from app.library.downloads import Phase, Progress
from app.modelfile.fit import Verdict, judge
from app.modelfile.gguf_info import read_gguf_info
from app.platform import i18n
from app.platform.crash_marker import ANSWERING, LOADING, EngineRun
from app.platform.errors import HearthError, PromptTooLongError
from app.platform.i18n import N_, _, ngettext, use_catalog, use_language
from tests.fakes import FAKE_CAPABILITIES, FakeBackendFactory
from tests.i18n_helpers import PseudoLanguage, speaking, write_mo

GIB = 1024**3
NO_MODEL = "There is no model '{id}'. Run 'hearth models list' to see what is installed."
TOO_LONG = (
    "Your message is too long for this model: it is about {tokens} token, and the model can read "
    "about {room} at once with the current settings. Shorten it, or raise the context length in Settings.",
    "Your message is too long for this model: it is about {tokens} tokens, and the model can read "
    "about {room} at once with the current settings. Shorten it, or raise the context length in Settings.",
)
GERMAN = {
    NO_MODEL: "Es gibt kein Modell '{id}'. 'hearth models list' zeigt, was installiert ist.",
    "Runs well": "Läuft gut",
}
GERMAN_PLURALS = {
    TOO_LONG: (
        "Ihre Nachricht ist zu lang für dieses Modell: etwa {tokens} Token, das Modell liest höchstens {room}.",
        "Ihre Nachricht ist zu lang für dieses Modell: etwa {tokens} Tokens, das Modell liest höchstens {room}.",
    ),
}


@pytest.fixture
def pseudo() -> Iterator[None]:
    with speaking(PseudoLanguage()):
        yield


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A German catalog where Hearth looks for catalogs; English again after the test."""
    locale = tmp_path / "locale"
    write_mo(locale / "de" / "LC_MESSAGES" / "hearth.mo", GERMAN, GERMAN_PLURALS)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    yield
    use_catalog(gettext.NullTranslations())


def too_long(tokens: int) -> str:
    """The error for a message of `tokens` tokens that does not fit (the context leaves no room)."""
    with pytest.raises(PromptTooLongError) as raised:
        fit_to_context("", [ChatTurn("user", "hi")], lambda text: tokens, context_length=16, max_tokens=16)
    return str(raised.value)


def hearth(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv, FakeBackendFactory())
    out, err = capsys.readouterr()
    return code, out, err


# -- the pseudo-language: what reaches the user is translated -----------------------


def test_without_a_catalog_hearth_speaks_its_source_english() -> None:
    assert _("Runs well") == "Runs well" and N_("Runs well") == "Runs well"
    assert ngettext("{count} model", "{count} models", 2) == "{count} models"
    assert judge(2 * GIB, 100_000, 4096, total_memory=16 * GIB).label == "Runs well"


def test_the_problems_of_a_policy_file_are_translated(pseudo: None, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('colour = "red"\n[settings]\ntemperature = "hot"\n', encoding="utf-8")
    problems = load_policy([policy_file]).problems
    assert len(problems) == 2 and all(p.startswith(f"⟦The policy file {policy_file}, line ") for p in problems)
    assert "⟦'colour' is not a policy setting.⟧" in problems[0] or "⟦'colour' is not a policy setting.⟧" in problems[1]
    assert any("⟦temperature must be a float, not 'hot'.⟧ Its default is used.⟧" in p for p in problems)
    policy_file.write_text("downloads = ", encoding="utf-8")
    (broken,) = load_policy([policy_file]).problems
    assert broken.startswith(f"⟦The policy file {policy_file} has an error: ") and broken.endswith("Hearth uses its defaults.⟧")


def test_errors_about_files_are_translated(pseudo: None, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(HearthError, match=r"^⟦Your settings could not be saved \(.+\)\.⟧$"):
        save_settings(Settings(), tmp_path / "a-file" / "settings.json")
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(HearthError, match=r"^⟦The model file empty\.gguf is empty \(0 bytes\)\. Download it again\.⟧$"):
        read_gguf_info(empty)
    with pytest.raises(HearthError, match=r"^⟦Hearth cannot use the folder .+ for conversations \(.+\)\.⟧$"):
        SqliteConversationStore(tmp_path / "a-file" / "conversations.sqlite3")


def test_fit_verdicts_and_their_explanations_are_translated(pseudo: None) -> None:
    big = judge(2 * GIB, 100_000, 4096, total_memory=2 * GIB)
    assert big.label == "⟦Too big for this computer⟧"
    assert big.explanation.startswith("⟦It needs about ⟦2.7 GB⟧ for 4,096 tokens of conversation, more than this computer's ⟦2.0 GB⟧.")


def test_the_settings_schema_is_shown_translated_and_documented_in_english(pseudo: None) -> None:
    for spec in schema.SETTINGS:
        assert spec.label_text == f"⟦{spec.label}⟧" and spec.help_text == f"⟦{spec.help}⟧"
    assert schema.THREADS.special_text.format(cores=4) == "⟦Automatic (4)⟧"
    assert schema.CONTEXT_LENGTH.special_text == ""
    assert "⟦" not in schema.markdown_table(), "docs/ADMIN.md is written in English whatever the language"


def test_every_enum_a_person_reads_has_a_translated_label(pseudo: None) -> None:
    labels = [
        *(verdict.label for verdict in Verdict), *(role.label for role in Role), *(phase.label for phase in Phase),
        *(prompt_format_label(name) for name in FAKE_CAPABILITIES.prompt_formats),
    ]
    assert all(label.startswith("⟦") and label.endswith("⟧") for label in labels), labels
    assert Role.USER.label == "⟦You⟧" and Role.USER == "user", "the stored value stays the identity"
    assert prompt_format_label("chatml") == "⟦chatml chat format⟧"
    assert Status.STOPPED.note == "⟦Stopped⟧" and Status.COMPLETE.note == Status.STREAMING.note == ""
    assert all(status.note.startswith("⟦") for status in (Status.STOPPED, Status.INTERRUPTED, Status.FAILED))
    assert Verdict.TOO_BIG.value == "too_big" and Phase.DOWNLOADING == "downloading"


def test_download_progress_is_translated(pseudo: None) -> None:
    assert Progress(Phase.VERIFYING, 1, 1).summary() == "⟦Checking the file…⟧"
    line = Progress(Phase.DOWNLOADING, 50_000_000, 100_000_000, speed=10_000_000).summary()
    assert line == "50% · ⟦50.0 of 100.0 MB⟧ · ⟦10.0 MB/s⟧ · ⟦⟦5 s⟧ left⟧"


def test_crash_notices_and_safe_mode_labels_are_translated(pseudo: None) -> None:
    for stage in (LOADING, ANSWERING):
        for safe_mode in (False, True):
            notice = crash_notice(EngineRun(stage, "/m/tiny.gguf", "Tiny", safe_mode))
            sentences = notice.split("⟧ ⟦")
            assert len(sentences) == 2 and notice.startswith("⟦Hearth closed unexpectedly") and notice.endswith("⟧")
            assert "Tiny" in sentences[0]
    assert safe_mode_label(ModelPreferences(safe_mode=True)).startswith("⟦Safe mode: on")


def test_a_rendered_reply_is_translated(pseudo: None) -> None:
    html = MarkdownRenderer().render("![a cat](cat.png)\n\n```\nprint(1)\n```").html
    assert "⟦[image: a cat]⟧" in html and "⟦Copy code⟧" in html


def test_the_command_line_speaks_the_language(pseudo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = hearth(["--data-dir", str(tmp_path), "models", "rm", "nothing"], capsys)
    assert code == 1 and err == f"hearth: ⟦{NO_MODEL.format(id='nothing')}⟧\n"
    code, out, err = hearth(["--data-dir", str(tmp_path), "models", "list"], capsys)
    assert code == 0 and out == "⟦No models installed. Add one with: hearth models import FILE.gguf⟧\n"
    code, out, err = hearth(["--data-dir", str(tmp_path), "ask", "--format", "chatmll", "Hi"], capsys)
    assert code == 1 and err.startswith("hearth: ⟦Unknown prompt format 'chatmll'. Choose one of: auto, model,")
    assert "⟦Private AI chat on your own computer.⟧" in build_parser().format_help()


def test_a_count_takes_its_plural_form(pseudo: None) -> None:
    assert too_long(1) == f"⟦{TOO_LONG[0].format(tokens='1', room='0')}⟧"
    assert too_long(5000) == f"⟦{TOO_LONG[1].format(tokens='5,000', room='0')}⟧"


# -- a compiled catalog: how the language is chosen ---------------------------------


def test_a_compiled_catalog_speaks_german(german: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    use_language(["de_DE"])
    assert Verdict.RUNS_WELL.label == "Läuft gut"
    assert Verdict.MAY_BE_SLOW.label == "May be slow", "what the catalog lacks stays English"
    code, _out, err = hearth(["--data-dir", str(tmp_path), "models", "rm", "nothing"], capsys)
    assert code == 1 and err == "hearth: Es gibt kein Modell 'nothing'. 'hearth models list' zeigt, was installiert ist.\n"
    assert too_long(1).startswith("Ihre Nachricht ist zu lang für dieses Modell: etwa 1 Token,")
    assert too_long(5000).startswith("Ihre Nachricht ist zu lang für dieses Modell: etwa 5,000 Tokens,")


@pytest.mark.parametrize(("languages", "runs_well"), [
    (["de_DE.UTF-8"], "Läuft gut"),
    (["de-DE", "de", "en-US"], "Läuft gut"),  # Qt's QLocale.uiLanguages() spelling
    (["fr_FR", "de"], "Läuft gut"),  # the first language that has a catalog
    (["en_US", "de_DE"], "Runs well"),  # English first: the source language, though it has no catalog
    (["fr_FR"], "Runs well"),
    ([], "Runs well"),
])
def test_the_first_wanted_language_with_a_catalog_is_used(german: None, languages: list[str], runs_well: str) -> None:
    use_language(languages)
    assert Verdict.RUNS_WELL.label == runs_well


@pytest.mark.parametrize(("environment", "runs_well"), [
    ({"LANGUAGE": "de:en", "LANG": "en_US.UTF-8"}, "Läuft gut"),
    ({"LC_ALL": "de_AT.UTF-8"}, "Läuft gut"),
    ({"LANG": "de_DE.UTF-8"}, "Läuft gut"),
    ({"LANG": "C.UTF-8"}, "Runs well"),
    ({}, "Runs well"),
])
def test_without_a_choice_the_environment_chooses(
    german: None, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], runs_well: str
) -> None:
    for variable in i18n.LANGUAGE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    use_language()
    assert Verdict.RUNS_WELL.label == runs_well


def test_hearth_chooses_its_language_at_start(
    german: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.__main__ import main

    monkeypatch.setenv("GGML_NO_BACKTRACE", "1")  # main() sets it; restored after the test
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setattr(sys, "argv", ["hearth", "--data-dir", str(tmp_path), "models", "rm", "nothing"])
    assert main() == 1
    assert capsys.readouterr().err.startswith("hearth: Es gibt kein Modell 'nothing'.")
