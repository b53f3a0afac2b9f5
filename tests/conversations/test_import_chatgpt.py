"""Importing a ChatGPT data export: what the user saw, branches as branches, each
conversation once, and a broken file named and left out whole."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from app.conversations.store import ConversationStore, Role, SqliteConversationStore, Status
from app.conversations.transfer.chatgpt import NAMESPACE, conversation_uuid, name_uuid
from app.conversations.transfer.importer import import_conversations
from tests.chatgpt_export import LISBON_ID, PHOTO_ID, lisbon_conversation, photo_conversation, write_export, zip_folder


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def shown(store: ConversationStore, chatgpt_id: str) -> list[tuple[str, str]]:
    conversation = store.conversation_by_uuid(conversation_uuid(chatgpt_id))
    assert conversation is not None
    return [(m.role.value, m.content) for m in store.thread(conversation.id)]


def test_only_what_the_user_saw_is_kept_and_a_regenerated_reply_stays_a_branch(
        store: ConversationStore, tmp_path: Path) -> None:
    files = write_export(tmp_path / "export", [lisbon_conversation()])
    result = import_conversations(store, files[0])
    assert (result.count.added, result.problems) == (1, [])
    assert shown(store, LISBON_ID) == [
        ("user", "Plan three days in Lisbon."), ("assistant", "Day 1: Belém."),
        ("user", "What should I eat?"), ("assistant", "Try **pastéis de nata**."),
    ]
    conversation = store.conversation_by_uuid(conversation_uuid(LISBON_ID))
    assert conversation is not None and conversation.title == "Lisbon trip"
    assert conversation.created_at == 1_700_000_000.0
    everything = store.all_messages(conversation.id)
    # No system, custom-instruction, tool-call or tool message; the first reply is kept.
    assert [m.content for m in everything if m.role is Role.ASSISTANT] == [
        "Day 1: Alfama.", "Day 1: Belém.", "Try **pastéis de nata**."]
    branched = store.thread_with_branches(conversation.id)
    assert branched.branches[branched.messages[1].id] == (2, 2)
    first_reply = everything[1]
    assert first_reply.parent_id == everything[0].id and store.siblings(first_reply.id) == [
        first_reply.id, branched.messages[1].id]


def test_a_picture_is_named_a_title_is_made_and_a_stopped_reply_says_so(
        store: ConversationStore, tmp_path: Path) -> None:
    files = write_export(tmp_path / "export", [photo_conversation()])
    import_conversations(store, files[0])
    assert shown(store, PHOTO_ID) == [("user", "[attachment]\n\nWhat is in this photo?"), ("assistant", "A cat on a")]
    conversation = store.conversation_by_uuid(conversation_uuid(PHOTO_ID))
    assert conversation is not None and conversation.title == "[attachment] What is in this photo?"
    assert store.thread(conversation.id)[1].status is Status.STOPPED


@pytest.mark.parametrize("packed", ["folder", "zip", "file"])
def test_a_current_split_export_imports_from_its_folder_or_zip(store: ConversationStore, tmp_path: Path,
                                                              packed: str) -> None:
    folder = tmp_path / "export"
    files = write_export(folder, [lisbon_conversation(), photo_conversation()], per_file=1)
    assert [f.name for f in files] == ["conversations-000.json", "conversations-001.json"]
    target = {"folder": folder, "zip": zip_folder(folder, tmp_path / "export.zip"), "file": files[1]}[packed]
    result = import_conversations(store, target)
    assert result.problems == [] and result.count.added == (1 if packed == "file" else 2)
    assert {s.title for s in store.list_conversations()} == (
        {"[attachment] What is in this photo?"} if packed == "file"
        else {"Lisbon trip", "[attachment] What is in this photo?"})


def test_the_same_export_imported_twice_is_there_once(store: ConversationStore, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_export(folder, [lisbon_conversation(), photo_conversation()])
    import_conversations(store, folder)
    again = import_conversations(store, zip_folder(folder, tmp_path / "export.zip"))
    assert (again.count.added, again.count.already_there) == (0, 2)
    assert len(store.list_conversations()) == 2
    assert len(store.all_messages(store.list_conversations()[0].id)) in (2, 5)


def test_progress_reaches_the_end(store: ConversationStore, tmp_path: Path) -> None:
    files = write_export(tmp_path / "export", [lisbon_conversation()] * 1)
    reports: list[tuple[int, int]] = []
    import_conversations(store, files[0], lambda done, total: reports.append((done, total)))
    assert reports[-1][0] == reports[-1][1] == 2 * files[0].stat().st_size
    assert [done for done, _total in reports] == sorted(done for done, _total in reports)


def broken_file(tmp_path: Path, conversations: list[object], name: str = "conversations.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(conversations, indent=2))
    return path


def test_broken_json_names_the_file_and_line_and_imports_nothing(store: ConversationStore, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    text = json.dumps([lisbon_conversation(), photo_conversation()], indent=2)
    lines = text.splitlines()
    lines[40] = lines[40] + " oops"
    path.write_text("\n".join(lines))
    result = import_conversations(store, path)
    assert result.count.added == 0 and store.list_conversations() == []
    assert len(result.problems) == 1 and str(path) in result.problems[0] and "line 41" in result.problems[0]
    assert "Nothing from this file was imported" in result.problems[0]


def test_a_node_whose_parent_is_missing_names_the_conversation_and_node(
        store: ConversationStore, tmp_path: Path) -> None:
    bad = photo_conversation()
    bad["mapping"]["a"]["parent"] = "gone"
    path = broken_file(tmp_path, [lisbon_conversation(), bad])
    result = import_conversations(store, path)
    assert store.list_conversations() == []  # the good conversation before it is not imported either
    assert "conversation 2" in result.problems[0] and "node a" in result.problems[0]
    assert "gone" in result.problems[0]


@pytest.mark.parametrize(("change", "words"), [
    (lambda c: c.update(mapping=[1, 2]), "“mapping” should be a JSON object"),
    (lambda c: c["mapping"]["q"]["message"].update(content="hi"), "node q: “content” should be a JSON object"),
    (lambda c: c["mapping"]["q"]["message"]["content"].update(parts="hi"), "node q: “parts” should be a list"),
    (lambda c: c.pop("id"), "“id” is missing"),
    (lambda c: c.update(create_time="yesterday"), "“create_time” should be a number"),
])
def test_wrong_types_name_the_entry(store: ConversationStore, tmp_path: Path, change: object, words: str) -> None:
    bad = photo_conversation()
    assert callable(change)
    change(bad)
    result = import_conversations(store, broken_file(tmp_path, [bad]))
    assert store.list_conversations() == []
    assert "conversation 1" in result.problems[0] and words in result.problems[0], result.problems


def test_one_broken_file_leaves_the_others_imported(store: ConversationStore, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    write_export(folder, [lisbon_conversation(), photo_conversation()], per_file=1)
    (folder / "conversations-001.json").write_text('[{"title": "x", ')
    result = import_conversations(store, folder)
    assert [s.title for s in store.list_conversations()] == ["Lisbon trip"]
    assert len(result.problems) == 1 and "conversations-001.json" in result.problems[0]


@pytest.mark.parametrize("name", ["conversation:6740a1c2-90b4-8002", "message:x:é", ""])
def test_the_derived_uuids_are_rfc_4122_version_5(name: str) -> None:
    assert name_uuid(name) == str(uuid.uuid5(NAMESPACE, name))


def test_imported_messages_are_found_by_search(store: ConversationStore, tmp_path: Path) -> None:
    files = write_export(tmp_path / "export", [lisbon_conversation(), photo_conversation()])
    import_conversations(store, files[0])
    hits = store.search("nata")
    assert [(hit.conversation_title, hit.role) for hit in hits] == [("Lisbon trip", Role.ASSISTANT)]
    assert store.search("Alfama")  # a branch not shown is found too
