"""GGUF checks and the llama.cpp backend on the real test models (SmolLM2-135M-Instruct, Gemma 3 270M base)."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from pathlib import Path

import pytest

from app.backends.base import CapabilityError, ChatRequest, ChatTurn, LoadOptions, ModelFacts, ModelRef, ReplyStats
from app.backends.llama import decoding
from app.backends.llama.engine import LlamaBackend
from app.backends.llama.prompt_formats import COMPLETION, MODEL_TEMPLATE
from app.backends.llama.turn_end import TurnEnd
from app.config.settings import EngineSettings, SamplingSettings
from app.library.model_library import ModelLibrary
from app.modelfile.gguf_info import read_gguf_info
from app.platform.errors import ModelFileError, ModelLoadError, PromptTooLongError

pytestmark = pytest.mark.real_model
GREEDY = SamplingSettings(temperature=0.0, max_tokens=48, seed=1)


@pytest.fixture(scope="module")
def engine() -> LlamaBackend:
    engine = LlamaBackend()
    yield engine
    engine.unload()


def load(engine: LlamaBackend, path: Path, **settings: int) -> ModelFacts:
    return engine.load(ModelRef(path=path), LoadOptions(EngineSettings(**settings)))


def reply_to(engine: LlamaBackend, turns: list[ChatTurn], sampling: SamplingSettings,
             read_from: int | None = None) -> tuple[str, ReplyStats]:
    """A reply through Backend.reply, as the app asks for one: its text and stats."""
    parts: list[str] = []
    stats = engine.reply(ChatRequest("", turns, sampling, "auto", read_from=read_from), threading.Event(),
                         parts.append, lambda _omitted: None)
    return "".join(parts), stats


def test_gguf_facts_of_both_models(smollm_path: Path, gemma_path: Path) -> None:
    smol = read_gguf_info(smollm_path)
    assert (smol.architecture, smol.quantization, smol.context_length) == ("llama", "Q4_1", 8192)
    assert smol.chat_template and smol.license == "apache-2.0"
    assert smol.parameters_label == "134.5M"
    gemma = read_gguf_info(gemma_path)
    assert (gemma.architecture, gemma.quantization, gemma.chat_template) == ("gemma3", "Q4_K_M", None)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"not a model at all", "is not a GGUF model file"),
    (b"GGUF\x03\x00\x00\x00", "damaged or incomplete"),
])
def test_bad_files_give_plain_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        read_gguf_info(path)


def test_truncated_model_is_refused_before_llama_cpp_opens_it(engine: LlamaBackend, truncated_model: Path) -> None:
    with pytest.raises(ModelFileError, match="incomplete"):
        load(engine, truncated_model)
    assert engine.loaded is None


def test_load_reports_progress_and_a_second_model_frees_the_first(engine: LlamaBackend, smollm_path: Path, gemma_path: Path) -> None:
    progress: list[float] = []

    def take(fraction: float) -> bool:
        progress.append(fraction)
        return True

    engine.load(ModelRef(path=smollm_path), LoadOptions(EngineSettings(context_length=512), on_progress=take))
    assert progress[0] == 0.0 < progress[-1] == 1.0 and progress == sorted(progress)
    first = engine._llm
    load(engine, gemma_path, context_length=512)
    assert first._ctx.ctx is None  # the first model's context was freed
    assert engine.loaded is not None and engine.loaded.architecture == "gemma3"


def test_the_memory_warning_comes_before_loading_and_progress_can_abandon_it(
    engine: LlamaBackend, smollm_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.backends.llama.engine.available_memory", lambda: 1024**2)
    heard: list[str] = []

    def abandon(fraction: float) -> bool:
        heard.append(f"progress {fraction}")
        return False

    options = LoadOptions(EngineSettings(context_length=512), on_progress=abandon, on_warning=heard.append)
    with pytest.raises(ModelLoadError, match="was stopped"):
        engine.load(ModelRef(path=smollm_path), options)
    assert len(heard) == 2 and "only 0.0 GB is free" in heard[0] and heard[1] == "progress 0.0"
    assert engine.loaded is None


def test_a_model_on_a_server_is_refused_in_words(engine: LlamaBackend) -> None:
    with pytest.raises(ModelLoadError, match="is on a server"):
        engine.load(ModelRef(name="llama3", url="http://127.0.0.1:8080/v1"), LoadOptions(EngineSettings()))


def test_the_memory_estimate_counts_the_kv_cache_llama_cpp_allocates(
    engine: LlamaBackend, smollm_path: Path, gemma_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What the fit check and the memory warning count per token is what llama.cpp reports
    for the cache it made: keys as q8_0, values as f16 (Gemma has two caches, SWA and not)."""
    caplog.set_level(logging.INFO, logger="llama.cpp")
    for path in (smollm_path, gemma_path):
        caplog.clear()
        load(engine, path, context_length=1024)
        sizes = [re.search(r"size = +([\d.]+) MiB \( *1024 cells.*K \(q8_0\).*V \(f16\)", record.getMessage())
                 for record in caplog.records if record.getMessage().startswith("llama_kv_cache: size =")]
        assert sizes and all(sizes)
        allocated = sum(float(size.group(1)) for size in sizes) * 1024 * 1024
        assert allocated == pytest.approx(read_gguf_info(path).kv_bytes_per_token * 1024, rel=0.002)


def test_library_registers_with_hash_and_facts(tmp_path: Path, smollm_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    entry = library.add(smollm_path, copy=False, license_name="Apache-2.0")
    assert len(entry.sha256) == 64 and entry.has_chat_template and entry.size == smollm_path.stat().st_size
    assert library.add(smollm_path, copy=False) == entry  # same file, same entry
    assert [m.id for m in ModelLibrary(tmp_path / "models").models()] == [entry.id]


def test_smollm_chats_with_its_own_template_and_reuses_the_cache(engine: LlamaBackend, smollm_path: Path) -> None:
    loaded = load(engine, smollm_path, context_length=2048, threads=2)
    assert loaded.context_length == engine._llm.n_ctx() == 2048  # never llama-cpp-python's 512
    history = [ChatTurn("user", "What is the capital of France?")]
    prompt = engine.build_prompt("You are a helpful assistant.", history, GREEDY, "auto")
    assert prompt.prompt_format == MODEL_TEMPLATE and prompt.stop == ["<|im_end|>"]
    parts: list[str] = []
    first = engine.generate(prompt, GREEDY, threading.Event(), parts.append)
    reply = "".join(parts)
    assert "Paris" in reply
    assert first.reply_tokens > 0 and first.tokens_per_second > 0 and first.time_to_first_token > 0

    history += [ChatTurn("assistant", reply), ChatTurn("user", "And of Germany?")]
    second_prompt = engine.build_prompt("You are a helpful assistant.", history, GREEDY, "auto")
    second = engine.generate(second_prompt, GREEDY, threading.Event(), lambda _t: None)
    # The second turn re-reads only what is new, not the whole history.
    assert second.prompt_tokens_reused >= len(prompt.tokens)
    # No llama-cpp-python state cache: its saves copy the whole logits buffer (see engine.py).
    assert engine._llm.cache is None


def test_a_reply_says_what_was_left_out_before_its_first_text(engine: LlamaBackend, smollm_path: Path) -> None:
    facts = load(engine, smollm_path, context_length=512)
    assert facts.capabilities.chat and not facts.capabilities.embeddings
    history = [ChatTurn(role, f"{role} words about lighthouses " * 12) for _ in range(6) for role in ("user", "assistant")]
    request = ChatRequest("", (*history, ChatTurn("user", "Say hi.")), SamplingSettings(temperature=0.0, max_tokens=16, seed=1), "auto")
    events: list[tuple[str, object]] = []
    stats = engine.reply(request, threading.Event(), lambda text: events.append(("text", text)),
                         lambda omitted: events.append(("started", omitted)))
    kind, omitted = events[0]
    assert kind == "started" and isinstance(omitted, int) and 0 < omitted < len(history)
    assert len(events) > 1 and all(kind == "text" for kind, _ in events[1:])
    assert (stats.omitted_turns, stats.prompt_format, stats.stopped) == (omitted, MODEL_TEMPLATE, False)
    assert stats.reply_tokens > 0


def test_a_chat_model_says_it_cannot_embed(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=512)
    with pytest.raises(CapabilityError, match="cannot turn text into embeddings"):
        engine.embed(["a lighthouse"])


def test_joined_turns_are_not_reported_as_left_out(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=2048)
    # A reply stopped before any text leaves two user turns in a row; they are joined.
    history = [ChatTurn("user", "Hello"), ChatTurn("assistant", ""), ChatTurn("user", "Are you there?")]
    prompt = engine.build_prompt("", history, GREEDY, "auto")
    assert prompt.omitted_turns == 0


def test_stop_halts_within_200_ms_and_keeps_the_partial_reply(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=2048)
    sampling = SamplingSettings(temperature=0.8, max_tokens=1500, seed=3)
    prompt = engine.build_prompt("", [ChatTurn("user", "Write a very long story about a lighthouse.")], sampling, "auto")
    cancel = threading.Event()
    parts: list[str] = []
    stopped_at: list[float] = []

    def take(text: str) -> None:
        parts.append(text)
        if len(parts) == 20:
            cancel.set()
            stopped_at.append(time.perf_counter())

    stats = engine.generate(prompt, sampling, cancel, take)
    assert time.perf_counter() - stopped_at[0] < 0.2
    assert stats.stopped and len(parts) == 20 and "".join(parts).strip()


def test_stop_interrupts_a_long_prompt(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=8192)
    sampling = SamplingSettings(max_tokens=16)
    long_text = "The lighthouse keeper counted waves. " * 700
    prompt = engine.build_prompt("", [ChatTurn("user", long_text)], sampling, "auto")
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    started = time.perf_counter()
    stats = engine.generate(prompt, sampling, cancel, lambda _t: None)
    assert stats.stopped and time.perf_counter() - started < 2.0
    # The next call works normally.
    short = engine.build_prompt("", [ChatTurn("user", "Say hi.")], GREEDY, "auto")
    parts: list[str] = []
    engine.generate(short, GREEDY, threading.Event(), parts.append)
    assert "".join(parts).strip()


def test_a_message_longer_than_the_context_is_a_plain_error(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=512)
    with pytest.raises(PromptTooLongError, match="too long"):
        engine.build_prompt("", [ChatTurn("user", "lighthouse " * 2000)], GREEDY, "auto")


def test_gemma_base_without_template_gives_a_non_empty_reply(engine: LlamaBackend, gemma_path: Path) -> None:
    load(engine, gemma_path, context_length=1024)
    with_system = engine.build_prompt("Answer in French.", [ChatTurn("user", "Hello")], GREEDY, "auto")
    assert "Answer in French.\n\nHello" in engine._llm.detokenize(with_system.tokens).decode()
    for preference, expected in (("auto", "gemma"), ("completion", COMPLETION)):
        prompt = engine.build_prompt("", [ChatTurn("user", "The capital of France is")], GREEDY, preference)
        assert prompt.prompt_format == expected
        parts: list[str] = []
        stats = engine.generate(prompt, GREEDY, threading.Event(), parts.append)
        assert "".join(parts).strip(), f"empty reply in {preference} mode"
        assert stats.reply_tokens > 0


def test_a_base_model_stops_at_the_end_of_its_answer_instead_of_inventing_more_questions(
    engine: LlamaBackend, gemma_path: Path,
) -> None:
    load(engine, gemma_path, context_length=1024)
    for seed in (1, 2, 3):  # each went on to the token limit with questions of its own before
        sampling = SamplingSettings(temperature=0.7, max_tokens=120, seed=seed)
        prompt = engine.build_prompt("You are a helpful assistant.", [ChatTurn("user", "What is the capital of France?")],
                                     sampling, "auto")
        parts: list[str] = []
        stats = engine.generate(prompt, sampling, threading.Event(), parts.append)
        reply = "".join(parts)
        assert reply.strip() and "capital of" not in reply.split("\n", 1)[-1] and "Question" not in reply
        assert stats.reply_tokens < sampling.max_tokens, reply


@pytest.mark.parametrize("sampling", [
    GREEDY,
    SamplingSettings(temperature=0.9, max_tokens=48, seed=7),
    # Penalties that lift or sink the recent tokens far, and long replies to meet them.
    SamplingSettings(temperature=0.0, max_tokens=160, repeat_penalty=0.5),
    SamplingSettings(temperature=1.3, top_p=0.9, max_tokens=160, repeat_penalty=2.0, seed=3),
    SamplingSettings(temperature=0.7, top_p=1.0, max_tokens=160, repeat_penalty=0.8, seed=11),
])
def test_replies_match_llama_cpp_pythons_own_completion(
    engine: LlamaBackend, smollm_path: Path, gemma_path: Path, sampling: SamplingSettings
) -> None:
    """The engine's own token loop samples and stops exactly as create_completion does,
    though its sampler chain sees only the likeliest and the recent tokens (sampling.py)
    and create_completion's the whole vocabulary: a seed gives the reply it gave before."""
    for path, preference in ((smollm_path, "auto"), (gemma_path, COMPLETION)):
        load(engine, path, context_length=1024)
        prompt = engine.build_prompt("", [ChatTurn("user", "Name three colours of the sea.")], sampling, preference)
        parts: list[str] = []
        engine.generate(prompt, sampling, threading.Event(), parts.append)
        engine._llm.reset()  # read the whole prompt again, in the same batch as the engine did
        expected = engine._llm.create_completion(
            prompt=prompt.tokens, max_tokens=sampling.max_tokens, temperature=sampling.temperature,
            top_p=sampling.top_p, repeat_penalty=sampling.repeat_penalty, seed=sampling.seed, stop=prompt.stop,
        )["choices"][0]["text"]
        if path == gemma_path:  # a base model's reply also ends where it begins a turn of its own
            turn_end = TurnEnd()
            expected = turn_end.add(expected) + turn_end.finish()
        assert "".join(parts) == expected and expected.strip()


def test_a_stop_string_ends_the_reply_just_before_it(engine: LlamaBackend, smollm_path: Path) -> None:
    load(engine, smollm_path, context_length=1024)
    question = [ChatTurn("user", "Name three colours of the sea.")]
    prompt = engine.build_prompt("", question, GREEDY, "auto")

    def reply(stops: list[str]) -> str:
        parts: list[str] = []
        engine.generate(dataclasses.replace(prompt, stop=stops), GREEDY, threading.Event(), parts.append)
        return "".join(parts)

    whole = reply(prompt.stop)
    stop = whole[len(whole) // 2 : len(whole) // 2 + 3]  # a stop string the reply is sure to reach
    assert len(stop) == 3
    assert reply([*prompt.stop, stop]) == whole[: whole.index(stop)]


def test_a_fast_models_text_comes_a_few_tokens_at_a_time_after_its_first_token_alone(
    engine: LlamaBackend, smollm_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The text is handled once per chunk of tokens (decoding.CHUNK_SECONDS), not once
    between every two decodes; the first token still goes at once, and the text is the same."""
    load(engine, smollm_path, context_length=1024)
    prompt = engine.build_prompt("", [ChatTurn("user", "Name three colours of the sea.")], GREEDY, "auto")
    monkeypatch.setattr(decoding, "CHUNK_SECONDS", 0.0)
    one_by_one: list[str] = []
    engine.generate(prompt, GREEDY, threading.Event(), one_by_one.append)
    monkeypatch.setattr(decoding, "CHUNK_SECONDS", 60.0)
    gathered: list[str] = []
    stats = engine.generate(prompt, GREEDY, threading.Event(), gathered.append)
    assert stats.reply_tokens == GREEDY.max_tokens and len(one_by_one) > GREEDY.max_tokens / 2
    assert gathered == [one_by_one[0], "".join(one_by_one[1:])]


def test_after_a_stop_inside_a_chunk_the_next_turn_replies_as_from_an_empty_cache(
    engine: LlamaBackend, smollm_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stop string found inside a chunk leaves the chunk's later tokens decoded in the
    cache; the next turn must not see them: its reply is the one an empty cache gives."""
    load(engine, smollm_path, context_length=1024)
    monkeypatch.setattr(decoding, "CHUNK_SECONDS", 60.0)  # one chunk after the first token
    question = [ChatTurn("user", "Name three colours of the sea.")]
    prompt = engine.build_prompt("", question, GREEDY, "auto")
    whole: list[str] = []
    engine.generate(prompt, GREEDY, threading.Event(), whole.append)
    text = "".join(whole)
    stop = text[len(text) // 3 : len(text) // 3 + 3]
    cut: list[str] = []
    engine.generate(dataclasses.replace(prompt, stop=[*prompt.stop, stop]), GREEDY, threading.Event(), cut.append)
    assert "".join(cut) == text[: text.index(stop)]
    turns = [*question, ChatTurn("assistant", "".join(cut)), ChatTurn("user", "And three colours of the sky?")]
    follow_up = engine.build_prompt("", turns, GREEDY, "auto")
    after_stop: list[str] = []
    stats = engine.generate(follow_up, GREEDY, threading.Event(), after_stop.append)
    assert stats.prompt_tokens_reused > len(prompt.tokens)  # the first turn came from the cache
    engine._llm.reset()
    fresh: list[str] = []
    engine.generate(follow_up, GREEDY, threading.Event(), fresh.append)
    assert "".join(after_stop) == "".join(fresh) and "".join(fresh).strip()


@pytest.mark.parametrize("seed", [26, 32, 58])  # seeds whose replies differed read in other batches
def test_a_later_reply_written_again_from_where_it_read_on_is_identical(
    engine: LlamaBackend, smollm_path: Path, seed: int,
) -> None:
    """What Reproduce relies on: with the cache still holding the prompt, a reply asked to
    read on from where the first one did (ChatRequest.read_from) comes out the same."""
    load(engine, smollm_path, context_length=1024)
    sampling = SamplingSettings(temperature=0.9, max_tokens=48, seed=seed)
    question = [ChatTurn("user", "Tell me about a cat.")]
    turns = [*question, ChatTurn("assistant", reply_to(engine, question, sampling)[0]), ChatTurn("user", "And about a dog?")]
    written, stats = reply_to(engine, turns, sampling)
    assert 0 < stats.prompt_tokens_reused < stats.prompt_tokens - 1  # the question was read after the cached turn
    assert written.strip() and reply_to(engine, turns, sampling, read_from=stats.prompt_tokens_reused)[0] == written


def test_a_long_prompt_written_again_from_where_it_read_on_is_not_read_again(engine: LlamaBackend, smollm_path: Path) -> None:
    """Its end was read a batch at a time and its last token alone, as the cache that still
    holds it reads it: Reproduce answers at once, with the same reply."""
    load(engine, smollm_path, context_length=2048)
    story = " ".join(f"On day {n} the class planted {n} trees by the river." for n in range(1, 80))
    turns = [ChatTurn("user", f"{story}\n\nHow many trees on day 7?")]
    sampling = SamplingSettings(temperature=0.9, max_tokens=24, seed=26)
    assert engine._llm is not None
    engine._llm.reset()
    written, first = reply_to(engine, turns, sampling)
    again, second = reply_to(engine, turns, sampling, read_from=first.prompt_tokens_reused)
    assert first.prompt_tokens_reused == 0 and first.prompt_tokens > 2 * 512
    assert second.prompt_tokens_reused == second.prompt_tokens - 1 and again == written and written.strip()


def test_a_long_prompt_is_read_in_steps_that_say_how_far_and_change_nothing_in_the_reply(
    engine: LlamaBackend, smollm_path: Path,
) -> None:
    load(engine, smollm_path, context_length=2048)
    story = " ".join(f"On day {n} the class planted {n} trees by the river." for n in range(1, 80))
    prompt = engine.build_prompt("", [ChatTurn("user", f"{story}\n\nHow many trees on day 7?")], GREEDY, "auto")
    assert len(prompt.tokens) > 2 * 512

    def reply(steps: list[float]) -> tuple[str, ReplyStats]:
        assert engine._llm is not None
        engine._llm.reset()  # nothing cached: the whole prompt is read
        parts: list[str] = []
        stats = engine.generate(prompt, GREEDY, threading.Event(), parts.append, steps.append)
        return "".join(parts), stats

    steps: list[float] = []
    with_steps, stats = reply(steps)
    assert len(steps) == -(-(len(prompt.tokens) - 1) // 512) and steps == sorted(steps) and steps[-1] == pytest.approx(1, abs=0.01)
    assert stats.prompt_tokens_reused == 0 and with_steps.strip()
    assert engine._llm is not None
    engine._llm.reset()  # read in one go by llama-cpp-python itself: the same reply
    expected = engine._llm.create_completion(prompt=prompt.tokens, max_tokens=GREEDY.max_tokens, temperature=0.0,
                                             top_p=GREEDY.top_p, repeat_penalty=GREEDY.repeat_penalty, seed=GREEDY.seed,
                                             stop=prompt.stop)["choices"][0]["text"]
    assert with_steps == expected
    cached: list[float] = []
    parts: list[str] = []
    engine.generate(prompt, GREEDY, threading.Event(), parts.append, cached.append)  # all in the cache: nothing to wait for
    assert cached == [] and "".join(parts) == with_steps
