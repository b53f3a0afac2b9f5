"""`hearth chats ...` run as a user would: in a subprocess, on a data folder of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.conversations.store import SqliteConversationStore
from app.platform.paths import resolve_paths
from tests.chatgpt_export import lisbon_conversation, photo_conversation, write_export, zip_folder
from tests.conftest import subprocess_env


def hearth(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "chats", *args], capture_output=True, text=True,
                          timeout=120, env=subprocess_env(data_dir))


def seeded(data_dir: Path) -> list[str]:
    """Two conversations in the data folder's store; their UUIDs, oldest first."""
    paths = resolve_paths(data_dir)
    paths.ensure()
    store = SqliteConversationStore(paths.database)
    uuids = []
    for title, question, answer in (("Soup", "A soup for winter?", "Lentil soup."), ("Bikes", "Fix a chain?", "Use a tool.")):
        chat = store.create_conversation(title)
        store.add_message(chat, store.add_message(chat, None, "user", question), "assistant", answer)
        uuids.append(store.conversation(chat).uuid)  # type: ignore[union-attr]
    store.close()
    return uuids


def test_list_and_show_name_conversations_by_uuid(tmp_path: Path) -> None:
    soup, bikes = seeded(tmp_path / "data")
    listing = hearth(tmp_path / "data", "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].startswith(bikes) and lines[0].endswith("Bikes") and lines[1].startswith(soup)
    shown = hearth(tmp_path / "data", "show", soup)
    assert shown.returncode == 0 and shown.stdout == "# Soup\n\n## You\n\nA soup for winter?\n\n## Assistant\n\nLentil soup.\n"
    missing = hearth(tmp_path / "data", "show", "0000")
    assert missing.returncode == 1 and "There is no conversation 0000" in missing.stderr and "Traceback" not in missing.stderr


def test_search_finds_the_words_and_names_the_conversation(tmp_path: Path) -> None:
    soup, _bikes = seeded(tmp_path / "data")
    found = hearth(tmp_path / "data", "search", "lentil")
    assert found.returncode == 0, found.stderr
    (line,) = found.stdout.splitlines()
    assert line.startswith(soup) and "Assistant: *Lentil* soup." in line
    hostile = hearth(tmp_path / "data", "search", "--", '"NEAR(', "-x*")  # FTS syntax: no error, nothing found
    assert hostile.returncode == 1 and "No conversation mentions" in hostile.stdout and not hostile.stderr


def test_export_then_import_into_another_data_folder(tmp_path: Path) -> None:
    soup, bikes = seeded(tmp_path / "data")
    out = tmp_path / "out"
    exported = hearth(tmp_path / "data", "export", "--format", "json", str(out))
    assert exported.returncode == 0, exported.stderr
    [file] = out.iterdir()
    assert exported.stdout.strip() == str(file)
    assert {c["uuid"] for c in json.loads(file.read_text())["conversations"]} == {soup, bikes}
    for _time in range(2):
        imported = hearth(tmp_path / "other", "import", str(file))
        assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "Imported 0 conversations. 2 were already here."
    assert len(hearth(tmp_path / "other", "list").stdout.splitlines()) == 2


def test_export_one_conversation_as_markdown_and_html(tmp_path: Path) -> None:
    soup, _bikes = seeded(tmp_path / "data")
    for form in ("md", "html"):
        result = hearth(tmp_path / "data", "export", "--format", form, "--id", soup, str(tmp_path / "out"))
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"Soup ({soup[:8]}).html", f"Soup ({soup[:8]}).md"]
    assert "Lentil soup." in (tmp_path / "out" / f"Soup ({soup[:8]}).html").read_text()


def test_import_a_chatgpt_zip_and_a_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_export(folder, [lisbon_conversation(), photo_conversation()], per_file=1)
    result = hearth(tmp_path / "data", "import", str(zip_folder(folder, tmp_path / "chatgpt.zip")))
    assert result.returncode == 0 and result.stdout.strip() == "Imported 2 conversations. 0 were already here."
    (tmp_path / "bad.json").write_text('[{"title": "x",\n "mapping": }]')
    broken = hearth(tmp_path / "data", "import", str(tmp_path / "bad.json"))
    assert broken.returncode == 1 and "bad.json: this is not valid JSON (line 2)" in broken.stderr
    assert len(hearth(tmp_path / "data", "list").stdout.splitlines()) == 2


@pytest.mark.real_model
def test_a_real_reply_and_its_provenance_survive_export_and_import(tmp_path: Path, smollm_path: Path) -> None:
    asked = subprocess.run([sys.executable, "-m", "app", "ask", "--model", str(smollm_path), "--seed", "1",
                            "--max-tokens", "12", "Name a colour."], capture_output=True, text=True, timeout=180,
                           env=subprocess_env(tmp_path / "data"))
    assert asked.returncode == 0, asked.stderr
    out = tmp_path / "out"
    assert hearth(tmp_path / "data", "export", "--format", "json", str(out)).returncode == 0
    [file] = out.iterdir()
    [reply] = [m for m in json.loads(file.read_text())["conversations"][0]["messages"] if m["role"] == "assistant"]
    assert reply["content"].strip() == asked.stdout.strip() and reply["stats"]["reply_tokens"] > 0
    assert hearth(tmp_path / "other", "import", str(file)).returncode == 0
    [line] = hearth(tmp_path / "data", "list").stdout.splitlines()
    conversation = line.split()[0]
    assert hearth(tmp_path / "other", "show", conversation).stdout == hearth(tmp_path / "data", "show", conversation).stdout
    moved = SqliteConversationStore(resolve_paths(tmp_path / "other").database)
    [summary] = moved.list_conversations()
    moved_reply = moved.all_messages(summary.id)[1]
    assert moved_reply.stats == reply["stats"] and moved_reply.provenance == reply["provenance"]
    assert reply["provenance"]["sampling"]["seed"] == 1 and reply["provenance"]["model"]["size"] > 0
