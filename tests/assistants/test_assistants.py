"""The assistants without Qt: the built-ins, the user's own as files, export and import
(bad files named and never half imported), and which settings are in force, from where."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from app.assistants.book import AssistantBook
from app.assistants.built_ins import BUILT_INS
from app.assistants.file_format import FORMAT, read_file, to_document
from app.assistants.in_force import Layers, Source, conversation_layers, in_force, sampling_in_force
from app.assistants.model import PLAIN_HELPER_ID, Assistant, AssistantError
from app.backends.base import LoadOptions, ModelRef
from app.chat.reply import generate_reply, settings_in_force
from app.config import schema
from app.config.policy import Policy
from app.config.settings import Settings
from app.conversations.store import SqliteConversationStore
from app.platform.paths import resolve_paths
from tests.fakes import FakeBackend
from tests.i18n_helpers import PseudoLanguage, speaking


@pytest.fixture
def book(tmp_path: Path) -> AssistantBook:
    return AssistantBook(tmp_path / "assistants")


def test_the_built_ins_are_there_and_the_plain_helper_is_todays_default(book: AssistantBook) -> None:
    shelf = book.read()
    names = [a.shown_name for a in shelf.assistants]
    assert names == ["Plain helper", "Writing tutor", "Summariser", "Translator", "Explain like I'm 12"]
    assert shelf.default("no-such-assistant").id == PLAIN_HELPER_ID
    plain = shelf.default(PLAIN_HELPER_ID)
    forced = in_force(Layers(Settings(), (), plain))
    assert forced["system_prompt"].value == "You are a helpful assistant." and forced["system_prompt"].source is Source.DEFAULT
    tutor = shelf.default("writing-tutor")
    assert "Never write the essay" in tutor.prompt_text and tutor.greeting_text.startswith("Hello!")
    for assistant in BUILT_INS:
        assert len(assistant.system_prompt) < 300  # short enough for a 135M model to follow


def test_an_edited_built_in_is_the_users_copy_and_deleting_it_brings_the_built_in_back(book: AssistantBook) -> None:
    tutor = book.get("writing-tutor")
    assert tutor is not None and tutor.built_in
    book.save(tutor.as_users(greeting="Hi, class!"))
    shelf = book.read()
    edited = shelf.get("writing-tutor")
    assert edited is not None and edited.greeting_text == "Hi, class!" and shelf.edited_built_in("writing-tutor")
    assert [a.id for a in shelf.assistants].count("writing-tutor") == 1
    book.delete("writing-tutor")
    assert book.read().get("writing-tutor") == tutor
    with pytest.raises(AssistantError, match="cannot be deleted; you can duplicate one"):
        book.delete("writing-tutor")


def test_create_duplicate_and_delete_the_users_own(book: AssistantBook) -> None:
    mine = book.save(Assistant(id="quiz-master", name="Quiz master", system_prompt="Ask me one question at a time.",
                               sampling={"temperature": 1.0, "max_tokens": 200}, greeting="Ready?"))
    copy = book.duplicate(mine)
    assert copy.name == "Quiz master (copy)" and copy.id != mine.id and copy.sampling == mine.sampling
    shelf = book.read()
    assert [a.name for a in shelf.assistants[len(BUILT_INS):]] == ["Quiz master", "Quiz master (copy)"]
    book.delete(copy.id)
    assert book.read().get(copy.id) is None and book.get("quiz-master") == mine


def test_export_and_import_round_trip_without_overwriting(book: AssistantBook, tmp_path: Path) -> None:
    mine = book.save(Assistant(id="lab-helper", name="Lab helper", system_prompt="Talk about safety first.",
                               sampling={"seed": 42}, model_id="smollm2", greeting="Which experiment?"))
    exported = tmp_path / "lab-helper.json"
    book.export(mine, exported)
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document == {"format": FORMAT, "version": 1, "id": "lab-helper", "name": "Lab helper",
                        "system_prompt": "Talk about safety first.", "settings": {"seed": 42}, "model": "smollm2",
                        "greeting": "Which experiment?"}
    other = AssistantBook(tmp_path / "elsewhere")
    assert other.import_file(exported) == mine
    assert other.import_file(exported) == mine  # the same again: still one
    assert len(other.read().assistants) == len(BUILT_INS) + 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps({**document, "greeting": "Goggles on!"}), encoding="utf-8")
    second = other.import_file(changed)
    assert second.id != "lab-helper" and other.get("lab-helper") == mine  # never overwritten


@pytest.mark.parametrize(("content", "problem"), [
    ('{"format": "hearth-assistant", "version": 1,\n "name": "X",\n "settings": {"temperature": 0.5,}}',
     "is not valid JSON: line 3, column"),
    ('{"format": "hearth-pack", "version": 1}', 'cannot be used. It is not a Hearth assistant'),
    ('{"format": "hearth-assistant", "version": 7, "id": "x", "name": "X"}', "written by a newer version of Hearth"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": ""}', "needs a name"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": "X", "settings": {"temperature": 9}}',
     "temperature must be from 0.0 to 2.0, not 9.0"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": "X", "settings": {"max_tokens": "many"}}',
     "max_tokens must be a whole number, not 'many'"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": "X", "settings": {"context_length": 512}}',
     "“context_length” is not a setting an assistant can set"),
    ('{"format": "hearth-assistant", "version": 1, "id": "../../etc", "name": "X"}', "may have only small letters"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": "X", "prompt": "Hi"}', "“prompt” is not part of"),
    ('{"format": "hearth-assistant", "version": 1, "id": "x", "name": 5}', "Its “name” must be text"),
])
def test_a_bad_file_names_what_is_wrong_and_imports_nothing(book: AssistantBook, tmp_path: Path, content: str, problem: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(AssistantError, match="bad.json") as caught:
        book.import_file(bad)
    assert problem in str(caught.value)
    assert not (tmp_path / "assistants").exists()


def test_a_damaged_file_in_the_folder_is_reported_and_left_alone(book: AssistantBook, tmp_path: Path) -> None:
    folder = tmp_path / "assistants"
    folder.mkdir()
    (folder / "broken.json").write_text("{", encoding="utf-8")
    shelf = book.read()
    assert len(shelf.assistants) == len(BUILT_INS)
    assert shelf.problems == ("The file broken.json is not valid JSON: line 1, column 2: Expecting property name "
                              "enclosed in double quotes.",)
    assert (folder / "broken.json").exists()


def test_the_layers_each_say_where_the_value_comes_from() -> None:
    settings = Settings()
    settings.sampling.max_tokens = 300  # the user's own choice
    tutor = Assistant(id="t", name="T", system_prompt="Teach.", sampling={"temperature": 0.5, "top_p": 0.8})
    layers = Layers(settings, (), tutor, {"top_p": 0.6})
    forced = in_force(layers)
    assert {name: (f.value, f.source) for name, f in forced.items()} == {
        "temperature": (0.5, Source.ASSISTANT),
        "top_p": (0.6, Source.CONVERSATION),
        "max_tokens": (300, Source.SETTINGS),
        "repeat_penalty": (schema.REPEAT_PENALTY.default, Source.DEFAULT),
        "seed": (-1, Source.DEFAULT),
        "system_prompt": ("Teach.", Source.ASSISTANT),
    }
    assert sampling_in_force(forced).temperature == 0.5


def test_the_administrators_lock_beats_the_conversation_and_the_assistant() -> None:
    policy = Policy(values={"temperature": 0.1, "system_prompt": "Be kind."}, locked={"temperature", "system_prompt"})
    settings = policy.apply(Settings())
    tutor = Assistant(id="t", name="T", system_prompt="Teach.", sampling={"temperature": 0.5})
    forced = in_force(Layers(settings, policy.locked, tutor, {"temperature": 1.5}))
    assert (forced["temperature"].value, forced["temperature"].source) == (0.1, Source.ADMINISTRATOR)
    assert (forced["system_prompt"].value, forced["system_prompt"].source) == ("Be kind.", Source.ADMINISTRATOR)
    assert forced["system_prompt"].source.label == "set by your administrator (locked)"


def test_an_old_chat_keeps_its_system_prompt_when_the_default_changes() -> None:
    settings = Settings()
    tutor = Assistant(id="t", name="T", system_prompt="Teach.")
    same = in_force(conversation_layers(settings, (), tutor, "Teach."))["system_prompt"]
    assert (same.value, same.source) == ("Teach.", Source.ASSISTANT)
    settings.system_prompt = "Answer in French."
    kept = in_force(conversation_layers(settings, (), None, "You are a helpful assistant."))["system_prompt"]
    assert (kept.value, kept.source) == ("You are a helpful assistant.", Source.CONVERSATION)
    older = in_force(conversation_layers(settings, (), None, None))["system_prompt"]  # recorded none
    assert (older.value, older.source) == ("Answer in French.", Source.SETTINGS)


def test_the_reply_is_written_with_the_settings_in_force(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path)
    book = AssistantBook(paths.assistants_dir)
    tutor = book.get("writing-tutor")
    assert tutor is not None
    store = SqliteConversationStore(paths.database)
    conversation = store.create_conversation("Essay", system_prompt=tutor.prompt_text, assistant_id=tutor.id)
    question = store.add_message(conversation, None, "user", "Write my essay about rivers.")
    backend = FakeBackend()
    backend.load(ModelRef(path=tmp_path / "m.gguf"), LoadOptions(Settings().engine))
    result = generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _t: None,
                            locked=(), assistants=book.get)
    (request,) = backend.requests
    shown = settings_in_force(store.conversation(conversation), Settings(), (), tutor)
    assert request.system_prompt == tutor.prompt_text == shown["system_prompt"].value
    assert request.sampling.temperature == 0.5 == shown["temperature"].value
    reply = store.message(result.message_id)
    assert reply is not None and reply.provenance["assistant_name"] == "Writing tutor"
    assert reply.provenance["sampling"]["temperature"] == 0.5
    store.close()


def test_built_in_names_and_prompts_are_translated_where_shown() -> None:
    tutor = next(a for a in BUILT_INS if a.id == "writing-tutor")
    with speaking(PseudoLanguage()):
        assert tutor.shown_name == "⟦Writing tutor⟧" and tutor.prompt_text == f"⟦{tutor.system_prompt}⟧"
        assert to_document(tutor)["name"] == "⟦Writing tutor⟧"  # an export is the user's copy, in their language


def test_a_file_renamed_by_hand_takes_the_files_name_as_its_id(book: AssistantBook, tmp_path: Path) -> None:
    mine = book.save(Assistant(id="first", name="First"))
    (tmp_path / "assistants" / "first.json").rename(tmp_path / "assistants" / "second.json")
    assert book.read().get("second") == Assistant(id="second", name="First") != mine
    assert read_file(tmp_path / "assistants" / "second.json").id == "first"


def test_a_conversations_own_settings_beat_its_assistants_and_the_lock_beats_them(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path)
    book = AssistantBook(paths.assistants_dir)
    store = SqliteConversationStore(paths.database)
    conversation = store.create_conversation("Essay", system_prompt="Teach.", assistant_id="writing-tutor")
    other = store.create_conversation("Other", assistant_id="summariser")
    assert store.conversation_settings(conversation) == {}
    store.set_conversation_settings(conversation, {"temperature": 1.2, "max_tokens": 100, "context_length": 9, "seed": "x"})
    assert [c.id for c in store.list_conversations("writing-tutor")] == [conversation] != [other]
    assert store.assistants_in_use() == ["summariser", "writing-tutor"]
    backend = FakeBackend()
    backend.load(ModelRef(path=tmp_path / "m.gguf"), LoadOptions(Settings().engine))
    question = store.add_message(conversation, None, "user", "Hello")
    generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _t: None,
                   locked=(), assistants=book.get)
    assert (backend.requests[-1].sampling.temperature, backend.requests[-1].sampling.max_tokens) == (1.2, 100)
    forced = settings_in_force(store.conversation(conversation), Settings(), (), book.get("writing-tutor"),
                               store.conversation_settings(conversation))
    assert forced["temperature"].source is Source.CONVERSATION and forced["seed"].source is Source.DEFAULT  # "x": left out
    policy = Policy(values={"temperature": 0.1}, locked={"temperature"})
    generate_reply(backend, store, question, policy.apply(Settings()), "auto", threading.Event(), lambda _t: None,
                   locked=policy.locked, assistants=book.get)
    assert backend.requests[-1].sampling.temperature == 0.1
    store.set_conversation_settings(conversation, {})
    assert store.conversation_settings(conversation) == {}
    store.close()
