"""Edit, regenerate any reply and branch into a new chat, on the store's message tree (Qt-free)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.conversations.store import ConversationStore, Role, SqliteConversationStore, Status
from app.platform.errors import StorageError


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def two_turns(store: ConversationStore) -> tuple[int, list[int]]:
    conversation = store.create_conversation("Tides", system_prompt="Be brief.", model_id="smol", assistant_id="tutor")
    q1 = store.add_message(conversation, None, Role.USER, "Why tides?")
    a1 = store.add_message(conversation, q1, Role.ASSISTANT, "The moon.", provenance={"seed": 7})
    q2 = store.add_message(conversation, a1, Role.USER, "And the sun?")
    a2 = store.add_message(conversation, q2, Role.ASSISTANT, "It helps.")
    return conversation, [q1, a1, q2, a2]


def contents(store: ConversationStore, conversation: int) -> list[str]:
    return [m.content for m in store.thread(conversation)]


def test_an_edited_question_is_a_sibling_and_the_old_path_stays_a_branch(store: ConversationStore) -> None:
    conversation, (_q1, a1, q2, _a2) = two_turns(store)
    edited = store.add_message(conversation, a1, Role.USER, "And the wind?")  # what ChatSession.edit writes
    store.add_message(conversation, edited, Role.ASSISTANT, "Not much.")
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the wind?", "Not much."]
    assert store.siblings(edited) == [q2, edited]
    assert store.thread_with_branches(conversation).branches[edited] == (2, 2)
    store.show_branch(q2)
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the sun?", "It helps."]


def test_the_first_question_edited_is_a_second_root_with_its_own_branch(store: ConversationStore) -> None:
    conversation, (q1, *_rest) = two_turns(store)
    edited = store.add_message(conversation, None, Role.USER, "Why waves?")
    other = store.create_conversation()
    store.add_message(other, None, Role.USER, "elsewhere")  # a root of another conversation is no sibling
    assert store.siblings(edited) == [q1, edited]
    assert store.thread_with_branches(conversation).branches[edited] == (2, 2)
    store.show_branch(q1)
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the sun?", "It helps."]


def test_an_earlier_reply_regenerated_is_shown_and_the_later_turn_stays_reachable(store: ConversationStore) -> None:
    conversation, (q1, a1, _q2, _a2) = two_turns(store)
    store.set_current_leaf(conversation, q1)  # what ChatSession.regenerate(a1) does before the reply
    again = store.add_message(conversation, q1, Role.ASSISTANT, "Gravity.")
    assert contents(store, conversation) == ["Why tides?", "Gravity."]
    assert store.thread_with_branches(conversation).branches[again] == (2, 2)
    store.show_branch(a1)
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the sun?", "It helps."]


def test_branch_into_a_new_chat_copies_the_path_with_new_uuids_and_provenance(store: ConversationStore) -> None:
    conversation, (q1, a1, _q2, _a2) = two_turns(store)
    store.add_message(conversation, q1, Role.ASSISTANT, "Another answer")  # a branch not on the path
    store.set_conversation_settings(conversation, {"temperature": 1.3})
    copied = store.branch_to_new_conversation(a1, "Tides (branch)")
    assert store.conversation_settings(copied) == {"temperature": 1.3}  # the branch replies as the chat did
    original, branch = store.conversation(conversation), store.conversation(copied)
    assert branch is not None and original is not None
    assert branch.title == "Tides (branch)" and branch.uuid != original.uuid
    assert (branch.system_prompt, branch.model_id, branch.assistant_id) == ("Be brief.", "smol", "tutor")
    messages = store.thread(copied)
    assert [(m.role, m.content) for m in messages] == [(Role.USER, "Why tides?"), (Role.ASSISTANT, "The moon.")]
    assert store.all_messages(copied) == messages  # the path only, nothing of the other branches
    source = {m.uuid for m in store.all_messages(conversation)}
    assert not source & {m.uuid for m in messages}
    assert messages[1].provenance == {"seed": 7} and messages[1].status == Status.COMPLETE
    assert messages[0].created_at == store.message(q1).created_at  # type: ignore[union-attr]
    assert contents(store, conversation) == ["Why tides?", "Another answer"]  # the original is untouched
    assert store.list_conversations()[0].id == copied


def test_branching_a_message_that_is_gone_says_so_and_makes_nothing(store: ConversationStore) -> None:
    conversation, _ = two_turns(store)
    with pytest.raises(StorageError, match="no longer in the conversation"):
        store.branch_to_new_conversation(10_000, "x")
    assert [c.id for c in store.list_conversations()] == [conversation]
