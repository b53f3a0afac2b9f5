"""Hearth's own JSON file: out and back in gives the same tree, never twice, and a
broken file is named with its entry and adds nothing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.chat.summary import covered_count, is_summary, read_from_here
from app.conversations.store import ConversationStore, SqliteConversationStore, Status
from app.conversations.transfer.hearth_json import tree_of, write_hearth_json
from app.conversations.transfer.importer import import_conversations
from app.conversations.transfer.tree import ConversationTree


def tick() -> Any:
    now = [1_750_000_000.0]

    def clock() -> float:
        now[0] += 1.5
        return now[0]

    return clock


def a_store(path: Path) -> ConversationStore:
    return SqliteConversationStore(path, clock=tick())


OWN_SETTINGS = {"temperature": 0.2, "seed": 7}
ATTACHED = ["Recipes", "Travel notes"]


def filled(path: Path) -> ConversationStore:
    """Two conversations; the first with an edited question and a regenerated, stopped reply,
    reply settings of its own and two document collections attached."""
    store = a_store(path)
    first = store.create_conversation("Trip «planning»", system_prompt="Be brief.", model_id="smollm2",
                                      assistant_id="travel")
    question = store.add_message(first, None, "user", "Where to go?")
    reply = store.add_message(first, question, "assistant", "Lisbon.", provenance={
        "version": 1, "model": {"name": "SmolLM2", "sha256": "ab" * 32}, "sampling": {"seed": 42}})
    store.update_message(reply, "Lisbon.", status=Status.COMPLETE,
                         stats={"reply_tokens": 3, "tokens_per_second": 41.5, "model_sha256": "ab" * 32})
    store.add_message(first, question, "assistant", "Porto, maybe", status=Status.STOPPED)
    edited = store.add_message(first, None, "user", "Where to go in May?")
    store.add_message(first, edited, "assistant", "```python\nprint('é')\n```")
    store.show_branch(reply)
    store.set_conversation_settings(first, OWN_SETTINGS)
    store.set_attached_documents(first, ATTACHED)
    second = store.create_conversation("Second")
    store.add_message(second, None, "user", "Hi")
    return store


def everything(store: ConversationStore) -> list[ConversationTree]:
    return sorted((tree_of(store, s.id) for s in store.list_conversations()), key=lambda t: t.uuid)


def exported(store: ConversationStore, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        write_hearth_json(everything(store), out)
    return path


def test_out_and_back_in_gives_the_identical_tree(tmp_path: Path) -> None:
    source = filled(tmp_path / "a.sqlite3")
    file = exported(source, tmp_path / "backup.json")
    target = a_store(tmp_path / "b.sqlite3")
    result = import_conversations(target, file)
    assert (result.count.added, result.problems) == (2, [])
    assert everything(target) == everything(source)
    lisbon = next(s.id for s in target.list_conversations() if s.title == "Trip «planning»")
    assert [m.content for m in target.thread(lisbon)] == ["Where to go?", "Lisbon."]
    original = next(s.id for s in source.list_conversations() if s.title == "Trip «planning»")
    assert list(target.thread_with_branches(lisbon).branches.values()) == list(
        source.thread_with_branches(original).branches.values())
    assert (target.conversation_settings(lisbon), target.attached_documents(lisbon)) == (OWN_SETTINGS, ATTACHED)
    second = next(s.id for s in target.list_conversations() if s.title == "Second")
    assert (target.conversation_settings(second), target.attached_documents(second)) == ({}, [])


def test_into_the_same_store_nothing_is_added_or_changed(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite3")
    before = everything(store)
    file = exported(store, tmp_path / "backup.json")
    store.rename_conversation(store.list_conversations()[0].id, "Renamed here")
    result = import_conversations(store, file)
    assert (result.count.added, result.count.already_there) == (0, 2)
    assert len(store.list_conversations()) == 2
    assert "Renamed here" in {s.title for s in store.list_conversations()}  # never overwritten
    assert [t.messages for t in everything(store)] == [t.messages for t in before]


def test_a_conversation_in_the_trash_comes_back_when_imported(tmp_path: Path) -> None:
    """Left in the Trash, the Trash would later delete it, and what the import brought, for good."""
    store = filled(tmp_path / "a.sqlite3")
    file = exported(store, tmp_path / "backup.json")
    trashed = store.list_conversations()[0]
    store.delete_conversation(trashed.id)
    result = import_conversations(store, file)
    assert (result.count.added, result.count.already_there) == (1, 1)
    assert trashed.id in {s.id for s in store.list_conversations()} and store.trashed_conversations() == []


def test_a_conversation_continued_elsewhere_gains_only_its_new_messages(tmp_path: Path) -> None:
    """Backed up on one computer, continued on another, imported back: the new turns
    arrive, nothing here changes, and the conversation shows where it was continued."""
    here = filled(tmp_path / "here.sqlite3")
    elsewhere = a_store(tmp_path / "elsewhere.sqlite3")
    import_conversations(elsewhere, exported(here, tmp_path / "backup.json"))
    trip = next(s.id for s in elsewhere.list_conversations() if s.title == "Trip «planning»")
    last = elsewhere.thread(trip)[-1].id
    question = elsewhere.add_message(trip, last, "user", "And in June?")
    elsewhere.add_message(trip, question, "assistant", "Madeira.")
    here_trip = next(s.id for s in here.list_conversations() if s.title == "Trip «planning»")
    here.rename_conversation(here_trip, "Renamed here")
    before = {m.uuid: m for m in here.all_messages(here_trip)}

    result = import_conversations(here, exported(elsewhere, tmp_path / "continued.json"))

    assert (result.count.added, result.count.extended, result.count.already_there, result.problems) == (0, 1, 1, [])
    assert [m.content for m in here.thread(here_trip)] == ["Where to go?", "Lisbon.", "And in June?", "Madeira."]
    after = {m.uuid: m for m in here.all_messages(here_trip)}
    assert len(after) == len(before) + 2 and all(after[key] == message for key, message in before.items())
    assert here.conversation_title(here_trip) == "Renamed here"
    again = import_conversations(here, tmp_path / "continued.json")
    assert (again.count.added, again.count.extended, again.count.already_there) == (0, 0, 2)


def test_new_messages_on_another_branch_do_not_move_what_is_shown(tmp_path: Path) -> None:
    here = filled(tmp_path / "here.sqlite3")
    elsewhere = a_store(tmp_path / "elsewhere.sqlite3")
    import_conversations(elsewhere, exported(here, tmp_path / "backup.json"))
    trip = next(s.id for s in elsewhere.list_conversations() if s.title == "Trip «planning»")
    elsewhere.add_message(trip, elsewhere.thread(trip)[-1].id, "user", "And in June?")
    here_trip = next(s.id for s in here.list_conversations() if s.title == "Trip «planning»")
    may = next(m for m in here.all_messages(here_trip) if m.content == "Where to go in May?")
    here.show_branch(may.id)  # here, the user went on reading the other question

    result = import_conversations(here, exported(elsewhere, tmp_path / "continued.json"))

    assert result.count.extended == 1
    assert here.thread(here_trip)[0].content == "Where to go in May?"
    assert "And in June?" in {m.content for m in here.all_messages(here_trip)}


def test_provenance_goes_out_and_comes_back(tmp_path: Path) -> None:
    source = filled(tmp_path / "a.sqlite3")
    file = exported(source, tmp_path / "backup.json")
    assert '"sha256": "' + "ab" * 32 in file.read_text(encoding="utf-8")
    target = a_store(tmp_path / "b.sqlite3")
    import_conversations(target, file)
    lisbon = next(s.id for s in target.list_conversations() if s.title == "Trip «planning»")
    reply = target.thread(lisbon)[-1]
    assert reply.provenance["sampling"]["seed"] == 42 and reply.provenance["model"]["name"] == "SmolLM2"


def test_uuids_spelt_otherwise_are_the_same_conversation(tmp_path: Path) -> None:
    """Upper case, braces or a urn: the same UUIDs, so the same conversations: not added twice."""
    store = filled(tmp_path / "a.sqlite3")
    text = exported(store, tmp_path / "backup.json").read_text(encoding="utf-8")
    shouted = tmp_path / "shouted.json"
    shouted.write_text(re.sub(r'"([0-9a-f-]{36})"', lambda m: '"{' + m[1].upper() + '}"', text), encoding="utf-8")
    result = import_conversations(store, shouted)
    assert (result.count.added, result.count.already_there, result.problems) == (0, 2, [])


def test_a_conversation_without_a_shown_message_shows_its_newest_and_an_unfinished_reply_is_interrupted(
    tmp_path: Path,
) -> None:
    source = filled(tmp_path / "a.sqlite3")
    written = entries(source)
    for conversation in written["conversations"]:
        conversation.pop("current_message")
        for message in conversation["messages"]:
            if message["status"] == "stopped":
                message["status"] = "streaming"
    file = tmp_path / "edited.json"
    file.write_text(json.dumps(written), encoding="utf-8")
    target = a_store(tmp_path / "b.sqlite3")
    import_conversations(target, file)
    for summary in target.list_conversations():
        assert target.thread(summary.id), f"{summary.title} opens with something shown"
    statuses = {m.status for s in target.list_conversations() for m in target.all_messages(s.id)}
    assert Status.STREAMING not in statuses and Status.INTERRUPTED in statuses


def test_a_file_from_before_conversations_kept_their_settings_imports_without_them(tmp_path: Path) -> None:
    written = entries(filled(tmp_path / "a.sqlite3"))
    for conversation in written["conversations"]:
        del conversation["settings"], conversation["documents"]
    file = tmp_path / "older.json"
    file.write_text(json.dumps(written), encoding="utf-8")
    target = a_store(tmp_path / "b.sqlite3")
    result = import_conversations(target, file)
    assert (result.count.added, result.problems) == (2, [])
    assert all(target.conversation_settings(s.id) == {} and target.attached_documents(s.id) == []
               for s in target.list_conversations())


def entries(store: ConversationStore) -> dict[str, Any]:
    buffer = io.StringIO()
    write_hearth_json(everything(store), buffer)
    parsed: dict[str, Any] = json.loads(buffer.getvalue())
    return parsed


@pytest.mark.parametrize(("change", "words"), [
    (lambda f: f["conversations"][1]["messages"][2].update(parent="5c0c5c5c-0000-4000-8000-000000000000"),
     "conversation 2 (“Trip «planning»”): the message"),
    (lambda f: f["conversations"][1]["messages"][0].update(role="robot"), "message 1: “role” is “robot”"),
    (lambda f: f["conversations"][1].update(created_at="monday"), "“created_at” should be a number"),
    (lambda f: f["conversations"][0].update(uuid="not-a-uuid"), "conversation 1 (“Second”): “not-a-uuid” is not a UUID"),
    (lambda f: f["conversations"][1]["messages"][0].pop("content"), "message 1: “content” is missing"),
    (lambda f: f["conversations"][1].update(settings=["temperature"]), "“settings” should be a JSON object"),
    (lambda f: f["conversations"][1].update(documents=["Recipes", 3]), "“documents” should be a list of collection"),
    (lambda f: f.update(version=99), "newer version of Hearth"),
])
def test_a_broken_entry_is_named_and_nothing_from_the_file_is_imported(tmp_path: Path, change: Any,
                                                                        words: str) -> None:
    source = filled(tmp_path / "a.sqlite3")
    content = entries(source)
    content["conversations"].sort(key=lambda c: c["title"])  # "Second" first, then the trip
    change(content)
    file = tmp_path / "backup.json"
    file.write_text(json.dumps(content))
    target = a_store(tmp_path / "b.sqlite3")
    result = import_conversations(target, file)
    assert target.list_conversations() == []
    assert len(result.problems) == 1 and str(file) in result.problems[0] and words in result.problems[0], result.problems


def test_bad_json_is_named_with_its_line(tmp_path: Path) -> None:
    source = filled(tmp_path / "a.sqlite3")
    text = json.dumps(entries(source), indent=1).splitlines()
    text[30] = text[30].rstrip(",")  # a missing comma
    file = tmp_path / "backup.json"
    file.write_text("\n".join(text))
    result = import_conversations(a_store(tmp_path / "b.sqlite3"), file)
    assert "line 32" in result.problems[0] or "line 31" in result.problems[0], result.problems


def test_a_summary_goes_out_and_back_in_as_a_summary(tmp_path: Path) -> None:
    source = a_store(tmp_path / "a.sqlite3")
    chat = source.create_conversation("Long")
    question = source.add_message(chat, None, "user", "Tell me about tides.")
    reply = source.add_message(chat, question, "assistant", "The moon pulls the sea.")
    source.add_message(chat, reply, "system", "They spoke of tides.",
                       provenance={"summary": {"through": source.message(reply).uuid, "messages": 2}, "model": "SmolLM2"})  # type: ignore[union-attr]
    target = a_store(tmp_path / "b.sqlite3")
    assert import_conversations(target, exported(source, tmp_path / "backup.json")).count.added == 1
    (imported,) = target.list_conversations()
    path = target.thread(imported.id)
    assert is_summary(path[-1]) and covered_count(path[-1]) == 2
    assert read_from_here(path).summary == "They spoke of tides." and read_from_here(path).messages == ()
