"""A conversation's saved KV state holds its token ids, which decode to its text: deleting
the conversation for good deletes its state, and turning saved states off (saved_state_mb
0) empties the folder. The states here are written as the engine writes them (KvStateFolder),
so the names the deleting code uses are those the engine uses."""

from __future__ import annotations

from pathlib import Path

from app.backends.base import LoadOptions
from app.backends.llama.engine import LlamaBackend
from app.backends.llama.kv_store import KvStateFolder
from app.config.settings import EngineSettings
from app.conversations.store import SqliteConversationStore
from app.platform.saved_states import empty_saved_states, forget_saved_states, state_files
from tests.backends.test_kv_store import folder, save


def saved(states: KvStateFolder, key: str) -> list[Path]:
    """`key`'s files on disk (its state and its record, once saved)."""
    return [path for path in state_files(states.folder, key) if path.exists()]


def test_the_naming_is_the_engines(tmp_path: Path) -> None:
    states = folder(tmp_path)
    state = save(states, "conversation-a", [1, 2, 3])
    assert state in state_files(tmp_path, "conversation-a")
    assert states.part_path("conversation-a") in state_files(tmp_path, "conversation-a")
    assert len(saved(states, "conversation-a")) == 2  # the state and its record


def test_forgetting_a_conversation_deletes_its_state_and_leaves_another(tmp_path: Path) -> None:
    states = folder(tmp_path)
    save(states, "gone", [1, 2, 3])
    save(states, "kept", [4, 5, 6])
    states.part_path("gone").write_bytes(b"half a save")
    assert forget_saved_states(tmp_path, ["gone"]) == 3
    assert saved(states, "gone") == []
    assert len(saved(states, "kept")) == 2 and states.saved_tokens("kept") == [4, 5, 6]
    assert forget_saved_states(tmp_path, ["gone", "never-saved"]) == 0
    assert forget_saved_states(tmp_path / "missing", ["kept"]) == 0


def test_deleting_forever_and_emptying_the_trash_report_the_keys_of_the_states(tmp_path: Path) -> None:
    store = SqliteConversationStore(tmp_path / "c.sqlite3")
    try:
        kept, gone, old = (store.create_conversation(title) for title in ("Kept", "Gone", "Old"))
        keys = {id_: conversation.uuid for id_ in (kept, gone, old) if (conversation := store.conversation(id_))}
        states = folder(tmp_path / "kv")
        for key in keys.values():
            save(states, key, [1, 2, 3])
        store.delete_conversation(gone)
        store.delete_conversation(old)
        assert store.empty_trash(days=1) == []  # in the Trash it keeps its state: it may come back
        assert len(saved(states, keys[old])) == 2
        forget_saved_states(states.folder, store.delete_forever(gone))
        assert store.delete_forever(gone) == []
        forget_saved_states(states.folder, store.empty_trash(days=-1))
        assert saved(states, keys[gone]) == [] and saved(states, keys[old]) == []
        assert len(saved(states, keys[kept])) == 2
    finally:
        store.close()


def test_emptying_deletes_every_state_only(tmp_path: Path) -> None:
    states = folder(tmp_path)
    save(states, "a", [1])
    save(states, "b", [2])
    states.part_path("c").write_bytes(b"half a save")
    (tmp_path / "notes.txt").write_text("not a state")
    assert empty_saved_states(tmp_path) == 5
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]
    assert empty_saved_states(tmp_path / "missing") == 0


def test_a_load_with_saved_states_off_empties_the_folder(tmp_path: Path) -> None:
    states = folder(tmp_path)
    save(states, "a", [1, 2, 3])
    options = LoadOptions(EngineSettings(saved_state_mb=0), state_dir=tmp_path)
    # With the limit at 0 nothing of the model file or the engine options is read.
    assert LlamaBackend()._state_folder(options, tmp_path / "unused.gguf", None, 512) is None  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
