"""Fast at every turn, on SmolLM2 with a 512-token context: the KV cache of the turns still
read kept when older ones are left out (a context shift), and each conversation's KV state
saved to disk and restored, giving the reply a fresh read of the same prompt gives."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import llama_cpp
import pytest

from app.backends.base import ChatRequest, ChatTurn, LoadOptions, ModelRef, ReplyStats
from app.backends.llama.engine import LlamaBackend
from app.backends.llama.kv_store import KvStateFolder
from app.config.settings import EngineSettings, SamplingSettings

pytestmark = pytest.mark.real_model
GREEDY = SamplingSettings(temperature=0.0, max_tokens=8, seed=1)
SYSTEM = "You are a helpful assistant."
ANSWER = ("Lighthouses guided ships along dangerous coasts for centuries. Keepers trimmed the wicks, "
          "wound the clockwork and logged every storm, ship and wreck they saw from the lantern room. ") * 2


def question(i: int) -> str:
    return f"Question {i}: tell me one more thing about the lighthouse keepers of the northern coast, and their families."


def load(engine: LlamaBackend, path: Path, state_dir: Path | None = None, context: int = 512) -> None:
    engine.load(ModelRef(path=path), LoadOptions(EngineSettings(context_length=context, threads=2), state_dir=state_dir))


def ask(engine: LlamaBackend, turns: list[ChatTurn], key: str = "") -> tuple[str, ReplyStats]:
    parts: list[str] = []
    stats = engine.reply(ChatRequest(SYSTEM, turns, GREEDY, "auto", key), threading.Event(), parts.append, lambda _o: None)
    return "".join(parts), stats


def states_of(engine: LlamaBackend) -> KvStateFolder:
    assert engine._states is not None
    return engine._states


@pytest.fixture
def engine() -> LlamaBackend:
    engine = LlamaBackend()
    yield engine
    engine.unload()


def test_turns_at_a_full_context_keep_the_cache_of_the_turns_still_read(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path)
    history: list[ChatTurn] = []
    shifts = 0
    for i in range(9):
        history.append(ChatTurn("user", question(i)))
        prompt = engine.build_prompt(SYSTEM, history, GREEDY, "auto")
        text, stats = ask(engine, history)
        assert text
        llm = engine._llm
        assert llm is not None and llm.input_ids[: len(prompt.tokens)].tolist() == prompt.tokens
        # The cache's positions run on without a gap (the kept tokens were moved back) and
        # the model's memory ends where llama-cpp-python thinks it does.
        assert llama_cpp.llama_memory_seq_pos_max(llama_cpp.llama_get_memory(llm._ctx.ctx), 0) == llm.n_tokens - 1
        if stats.shifted_tokens:
            shifts += 1
            assert stats.omitted_turns
            # Read: the previous answer (the cache holds what the model wrote instead) and the question.
            assert stats.prompt_tokens - stats.prompt_tokens_reused < stats.prompt_tokens // 2
            assert stats.prompt_tokens_reused >= stats.shifted_tokens
        history.append(ChatTurn("assistant", ANSWER))
    assert shifts >= 2  # the kept part moved on twice, and neither time was it read again


def test_a_saved_state_restored_after_a_switch_and_a_restart_gives_the_same_reply(
    engine: LlamaBackend, smollm_path: Path, tmp_path: Path
) -> None:
    states = tmp_path / "states"
    load(engine, smollm_path, states)
    long_chat = [ChatTurn("user", question(0)), ChatTurn("assistant", ANSWER), ChatTurn("user", question(1))]
    first, first_stats = ask(engine, long_chat, "long")
    assert first and first_stats.prompt_tokens_reused == 0
    assert len(list(states.glob("*.kvstate"))) == 1

    other, _ = ask(engine, [ChatTurn("user", "What is two plus two?")], "short")  # the cache now holds another chat
    assert other and len(list(states.glob("*.kvstate"))) == 2
    switched, stats = ask(engine, long_chat, "long")
    assert switched == first
    assert stats.prompt_tokens_reused == stats.prompt_tokens - 1  # only the last token read again, for its logits

    engine.unload()
    load(engine, smollm_path, states)  # as after a restart
    reopened, stats = ask(engine, long_chat, "long")
    assert reopened == first and stats.prompt_tokens_reused == stats.prompt_tokens - 1


def test_a_truncated_or_foreign_state_is_ignored_deleted_and_saved_again(
    engine: LlamaBackend, smollm_path: Path, tmp_path: Path
) -> None:
    states_dir = tmp_path / "states"
    load(engine, smollm_path, states_dir)
    chat = [ChatTurn("user", question(0)), ChatTurn("assistant", ANSWER), ChatTurn("user", question(1))]
    expected, _ = ask(engine, chat, "chat")
    state = states_of(engine).state_path("chat")
    record_path = state.with_suffix(".json")
    whole = state.stat().st_size

    state.write_bytes(state.read_bytes()[: whole // 2])  # cut short, as by a full disk or a crash
    engine.unload()
    load(engine, smollm_path, states_dir)
    text, stats = ask(engine, chat, "chat")
    assert text == expected and stats.prompt_tokens_reused == 0
    assert state.stat().st_size == whole  # saved again, whole

    # Another conversation's state put in its place (whole, but not the one recorded).
    ask(engine, [ChatTurn("user", "What is two plus two?")], "other")
    state.write_bytes(states_of(engine).state_path("other").read_bytes())
    engine.unload()
    load(engine, smollm_path, states_dir)
    text, stats = ask(engine, chat, "chat")
    assert text == expected and stats.prompt_tokens_reused == 0
    assert state.stat().st_size == whole

    engine.unload()
    load(engine, smollm_path, states_dir, context=1024)  # other engine options: the state is foreign
    text, stats = ask(engine, chat, "chat")
    assert text == expected and stats.prompt_tokens_reused == 0
    assert json.loads(record_path.read_text())["tag"]["context"] == 1024


def test_stop_right_after_a_context_shift_saves_a_state_as_good_as_one_not_stopped(
    engine: LlamaBackend, smollm_path: Path, tmp_path: Path
) -> None:
    """llama.cpp moves the cached keys at the first decode after a shift; a Stop there once
    left them unmoved in the saved state, and a reopened chat read its turns wrongly."""
    load(engine, smollm_path, tmp_path / "states")
    history: list[ChatTurn] = []
    for i in range(12):  # up to the turn whose start moves on
        history.append(ChatTurn("user", question(i)))
        prompt = engine.build_prompt(SYSTEM, history, GREEDY, "auto")
        if prompt.omitted_turns and engine._cached_start is not None and prompt.kept_from != engine._cached_start:
            break
        ask(engine, history, "chat")
        history.append(ChatTurn("assistant", ANSWER))
    else:
        pytest.fail("the kept turns never moved on")
    llm = engine._llm
    assert llm is not None
    before = llm.save_state()
    cached_start = engine._cached_start

    stop = threading.Event()  # pressed once the prompt is built, as the reply begins
    stopped = engine.reply(ChatRequest(SYSTEM, history, GREEDY, "auto", "chat"), stop, lambda _t: None, lambda _o: stop.set())
    assert stopped.stopped and stopped.shifted_tokens
    engine.unload()
    load(engine, smollm_path, tmp_path / "states")  # reopened: the state saved at the Stop is read
    reopened, stats = ask(engine, history, "chat")
    assert stats.prompt_tokens_reused > stats.prompt_tokens // 2

    engine.unload()
    load(engine, smollm_path)
    llm = engine._llm
    assert llm is not None
    llm.load_state(before)  # the same cache again, answered without a Stop this time
    engine._cached_start = cached_start
    not_stopped, stats = ask(engine, history)
    assert stats.shifted_tokens
    assert reopened == not_stopped


def test_an_edit_inside_the_kept_turns_is_read_anew_not_shifted(engine: LlamaBackend, smollm_path: Path) -> None:
    """What the model wrote of a question before it was edited is not reused: only turns left
    out move the cache, and an edit leaves the oldest kept turn where it was."""
    load(engine, smollm_path)
    long_question = ("tell me everything about the keepers of the lighthouse on the northern coast, their "
                     "families, the storms they saw, the ships they saved and the logbooks they kept.")
    history: list[ChatTurn] = []
    for i in range(9):
        history.append(ChatTurn("user", f"Question {i}, please listen carefully.\n{long_question}"))
        _text, stats = ask(engine, history)
        history.append(ChatTurn("assistant", ANSWER))
    assert stats.omitted_turns, "the conversation outgrew the context"
    edited = [*history[:-2], ChatTurn("user", long_question)]  # its first words deleted, sent again
    assert engine.build_prompt(SYSTEM, edited, GREEDY, "auto").kept_from == engine._cached_start
    _text, stats = ask(engine, edited)
    assert stats.omitted_turns and not stats.shifted_tokens


@pytest.mark.parametrize("then", ["restart", "switch"])
def test_a_chat_reopened_at_the_turn_its_kept_part_moves_on_restores_its_state_and_shifts_it(
    engine: LlamaBackend, smollm_path: Path, tmp_path: Path, then: str
) -> None:
    states = tmp_path / "states"
    load(engine, smollm_path, states)
    history: list[ChatTurn] = []
    for i in range(12):
        history.append(ChatTurn("user", question(i)))
        prompt = engine.build_prompt(SYSTEM, history, GREEDY, "auto")
        if prompt.omitted_turns and engine._cached_start is not None and prompt.kept_from != engine._cached_start:
            break  # this question moves the kept part on: ask it after a restart
        ask(engine, history, "chat")
        history.append(ChatTurn("assistant", ANSWER))
    else:
        pytest.fail("the kept turns never moved on")
    if then == "restart":
        engine.unload()
        load(engine, smollm_path, states)  # the cache is empty
    else:  # the cache holds another chat that begins as this one's kept part does, but goes on otherwise
        ask(engine, [ChatTurn("user", question(0) + " And what of their dogs?")], "other")
    _text, stats = ask(engine, history, "chat")
    assert stats.shifted_tokens, "the saved state was restored and moved over the turns now left out"
    assert stats.prompt_tokens - stats.prompt_tokens_reused < stats.prompt_tokens // 2
