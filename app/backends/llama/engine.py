"""The llama.cpp backend: one GGUF model in this process, loaded with progress,
answering conversations it fits into its context and writes in the model's prompt format.

Not thread-safe by design (app/backends/base.py, Backend): exactly one owner (the
inference worker, or the CLI) calls it, one call at a time, and only that owner closes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
from llama_cpp import Llama

from app.backends.base import (
    Backend,
    Capabilities,
    CapabilityError,
    ChatRequest,
    ChatTurn,
    LoadOptions,
    ModelFacts,
    ModelRef,
    ReplyStats,
    reply_budget,
)
from app.backends.llama.context_shift import kept_from, shift_out_dropped
from app.backends.llama.cpu_buffers import without_amx_buffer
from app.backends.llama.decoding import decode_reply, keep_as_read, read_in_steps
from app.backends.llama.ggml_modules import ensure_backends
from app.backends.llama.gpu import gpu_layers
from app.backends.llama.kv_state import restore, save, state_folder
from app.backends.llama.kv_store import KvStateFolder
from app.backends.llama.llama_log import route_llama_logs
from app.backends.llama.prompt_formats import (
    COMPLETION,
    FORMAT_CHOICES,
    MODEL_TEMPLATE,
    NAMED_FORMATS,
    chat_messages,
    resolve_format,
)
from app.backends.llama.prompting import (
    COMPLETION_STOPS,
    completion_prompt,
    fit_to_context,
)
from app.backends.llama.sampling import ReplySampler
from app.backends.llama.streamed_text import StreamedText
from app.backends.llama.template_guard import RenderLimits, TemplateFault, TemplateStopped, fault_message, render_chat_template
from app.backends.llama.turn_end import TurnEnd
from app.config.settings import EngineSettings, SamplingSettings, usable_context
from app.modelfile.fit import memory_warning
from app.modelfile.gguf_info import EMBEDDING_ARCHITECTURES, GgufInfo, keys_fit_q8_0, read_gguf_info
from app.platform.crash_marker import ANSWERING, LOADING, CrashMarker, EngineRun
from app.platform.errors import ChatTemplateError, ModelLoadError, PromptTooLongError, StoppedError
from app.platform.hardware import available_memory, physical_cores
from app.platform.i18n import _
from app.platform.saved_states import empty_saved_states

log = logging.getLogger(__name__)

# Serialises the temporary patch of llama_model_default_params between engines.
_PARAMS_PATCH_LOCK = threading.Lock()

# The KV cache keeps keys as 8-bit q8_0 (values stay f16; llama.cpp needs flash attention
# for quantized values, which is slower on CPUs). Attention then reads the cached keys
# with integer dot products instead of converting f16. On SmolLM2, the first token of
# turn 5 of a 2,000-token conversation came 1.04x as late as a first line's, not 1.23x,
# and long replies streamed faster; keys take half the memory, and perplexity moved by
# under 0.2 % (docs/PERFORMANCE.md). gguf_info.kv_bytes_per_token counts the same sizes.
# Models whose key rows are not whole q8_0 blocks keep f16 keys (gguf_info.keys_fit_q8_0).
KEY_CACHE_TYPE = llama_cpp.GGML_TYPE_Q8_0

# llama.cpp repacks the weights into its AMX buffer on Intel CPUs with AMX (Sapphire Rapids
# and later), and its first matrix multiply there segfaults (llama.cpp issue 20824; seen on
# a Xeon with amx_int8: every model, every start). That buffer is taken out of the list the
# loader chooses from (cpu_buffers.without_amx_buffer), and the AVX2/AVX-512 repacking
# stays. Where that list cannot be read and llama.cpp reports this feature, the extra
# buffer types stay off altogether.
REPACKING_UNSAFE_WITH = frozenset({"AMX_INT8"})

# A GGUF is spoken to as a chat model, and the user may pick any of its prompt formats,
# unless its architecture is an encoder that only embeds: its context is then made with
# embeddings on (pooled as its GGUF says) and it cannot reply.
CHAT_CAPABILITIES = Capabilities(chat=True, embeddings=False, prompt_formats=tuple(FORMAT_CHOICES))
EMBEDDING_CAPABILITIES = Capabilities(chat=False, embeddings=True)


@functools.cache
def cpu_features() -> frozenset[str]:
    """The CPU features llama.cpp was built for and found ("AVX2", "AMX_INT8", ...),
    read from its own system information."""
    ensure_backends()  # the features are those of the loaded CPU backend
    text = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return parse_system_info(text)


def repacking_is_safe() -> bool:
    """Leave the AMX buffer out of llama.cpp's list; True where weights may then be repacked."""
    return without_amx_buffer() or not cpu_features() & REPACKING_UNSAFE_WITH


def parse_system_info(text: str) -> frozenset[str]:
    """The features set to 1 in "CPU : SSE3 = 1 | AVX2 = 1 | ... | AMX_INT8 = 1 |"."""
    features: set[str] = set()
    for part in text.split("|"):
        name, _equals, value = part.partition("=")
        if value.strip() == "1":
            features.add(name.rpartition(":")[2].strip())  # the first names its backend
    return frozenset(features)


@functools.cache
def engine_version() -> str:
    """llama-cpp-python's version and the version llama.cpp's library reports of itself."""
    library = llama_cpp.llama_version().decode("utf-8", errors="replace")
    return f"llama-cpp-python {llama_cpp.__version__} (llama.cpp {library})"


@dataclass(frozen=True)
class EngineOptions:
    """How llama.cpp runs a model: what the crash marker records and the details show.

    Safe mode turns off everything the engine can do without: weight repacking (the
    extra buffer types), quantized keys, the memory map, the GPU, half the threads."""

    threads: int
    gpu_layers: int
    key_cache: str  # "q8_0" or "f16"
    weight_repacking: bool
    memory_map: bool
    safe_mode: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_options(
    engine: EngineSettings, info: GgufInfo, context: int, safe_mode: bool, repacking_safe: bool
) -> EngineOptions:
    threads = engine.threads or physical_cores()
    if safe_mode:
        return EngineOptions(max(1, threads // 2), 0, "f16", False, False, True)
    return EngineOptions(
        threads=threads,
        gpu_layers=gpu_layers(info, context),
        key_cache="q8_0" if keys_fit_q8_0(info.head_dim) else "f16",
        weight_repacking=repacking_safe,
        memory_map=True,
        safe_mode=False,
    )


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    info: GgufInfo
    options: EngineOptions
    facts: ModelFacts


@dataclass(frozen=True)
class Prompt:
    tokens: list[int]
    stop: list[str]
    omitted_turns: int
    prompt_format: str
    kept_from: str = ""  # what names the oldest turn the prompt keeps (context_shift.kept_from)


class LlamaBackend(Backend):
    def __init__(self, crash_marker: CrashMarker | None = None, repacking_safe: bool | None = None) -> None:
        """`repacking_safe`: whether weights may be repacked (default: where the AMX
        buffer is out of llama.cpp's list, or this CPU has no AMX)."""
        route_llama_logs()
        ensure_backends()
        self._crash_marker = crash_marker
        without_amx_buffer()  # whatever the options, no weight goes into the AMX buffer
        self._repacking_safe = repacking_is_safe() if repacking_safe is None else repacking_safe
        self._llm: Llama | None = None
        self._loaded: LoadedModel | None = None
        self._states: KvStateFolder | None = None  # saved KV states for the loaded model, if kept
        # The conversation (ChatRequest.conversation_key) whose tokens the KV cache holds now;
        # None: none, or one that cannot be told apart (a reply without a key, a bare generate).
        self._cache_owner: str | None = None
        # The oldest turn kept in the prompt the KV cache holds; None: not known. The cache is
        # moved over left-out turns only when this moved on (context_shift.py): an edit inside
        # the kept turns leaves it where it was, and nothing written before the edit is reused.
        self._cached_start: str | None = None
        self._cancel: threading.Event | None = None
        # ctypes callbacks must outlive every C call that may invoke them.
        self._abort_callback = llama_cpp.ggml_abort_callback(self._should_abort)
        self._no_abort = llama_cpp.ggml_abort_callback()

    @property
    def loaded(self) -> ModelFacts | None:
        return self._loaded.facts if self._loaded is not None else None

    def load(self, model: ModelRef, options: LoadOptions) -> ModelFacts:
        """Check the model file and warn when memory is short, free any loaded model, then
        load it with the engine options chosen for this CPU (or safe mode). Raises
        HearthError, or OSError when the file cannot be read."""
        if model.path is None:
            raise ModelLoadError(
                _("The model {model} is on a server; llama.cpp runs model files on this computer.").format(model=model.name)
            )
        path = model.path
        info = read_gguf_info(path)
        context = usable_context(options.engine.context_length, info.context_length)
        warning = memory_warning(info.file_size, info.kv_bytes_per_token, context, available_memory())
        if warning:
            options.on_warning(warning)
        self.unload()
        if not options.on_progress(0.0):
            raise ModelLoadError(_("Loading the model {file} was stopped.").format(file=path.name))
        engine_options = choose_options(options.engine, info, context, options.safe_mode, self._repacking_safe)

        def progress(fraction: float, _user_data: ctypes.c_void_p) -> bool:
            return options.on_progress(float(fraction))

        progress_callback = llama_lib.llama_progress_callback(progress)
        original_defaults = llama_lib.llama_model_default_params

        def params_with_progress() -> Any:
            params = original_defaults()
            params.progress_callback = progress_callback
            params.use_extra_bufts = engine_options.weight_repacking
            return params

        started = time.perf_counter()
        console = io.StringIO()
        try:
            with (
                self._mark(LOADING, path, info, engine_options),
                _PARAMS_PATCH_LOCK,
                contextlib.redirect_stderr(console),
            ):
                llama_lib.llama_model_default_params = params_with_progress
                try:
                    self._llm = Llama(
                        model_path=str(path),
                        n_ctx=context,
                        n_batch=min(512, context),
                        n_threads=engine_options.threads,
                        n_threads_batch=engine_options.threads,
                        type_k=KEY_CACHE_TYPE if engine_options.key_cache == "q8_0" else llama_cpp.GGML_TYPE_F16,
                        n_gpu_layers=engine_options.gpu_layers,
                        use_mmap=engine_options.memory_map,
                        embedding=info.architecture in EMBEDDING_ARCHITECTURES,
                        verbose=True,  # False would redirect fds 1 and 2 (see llama_log)
                    )
                finally:
                    llama_lib.llama_model_default_params = original_defaults
        except (ValueError, RuntimeError, OSError) as exc:
            log.error("llama.cpp failed to load %s: %s", path, exc)
            raise ModelLoadError(_(
                "The model {file} could not be loaded. The file may be damaged, or it "
                "may need a newer version of Hearth."
            ).format(file=path.name)) from exc
        finally:
            log.debug("llama-cpp-python said while loading: %s", console.getvalue()[-2000:])
        self._llm.verbose = False
        # No llama-cpp-python state cache (set_cache): each saved LlamaState copies the
        # logits buffer too (512 x vocabulary floats: 537 MB for Gemma 3), which the cache's
        # byte budget does not count; a save after a 2,000-token Gemma reply took 1.4 s.
        facts = ModelFacts(
            ref=model,
            name=info.name,
            architecture=info.architecture,
            parameters=info.parameters_label,
            quantization=info.quantization,
            context_length=context,
            license=info.license,
            has_chat_template=info.chat_template is not None,
            threads=engine_options.threads,
            safe_mode=engine_options.safe_mode,
            load_seconds=time.perf_counter() - started,
            capabilities=EMBEDDING_CAPABILITIES if info.architecture in EMBEDDING_ARCHITECTURES else CHAT_CAPABILITIES,
            engine_version=engine_version(),
        )
        self._loaded = LoadedModel(path, info, engine_options, facts)
        self._states = self._state_folder(options, path, engine_options, context)
        return facts

    def _state_folder(self, options: LoadOptions, path: Path, engine_options: EngineOptions, context: int) -> KvStateFolder | None:
        """Where this model's KV states are saved, tagged with what makes a state readable:
        the model file (its path and (inode, size, mtime), as the library keys its hash:
        hashing 351 MB at each load would cost more than the states save), llama.cpp's
        version and the engine options."""
        limit = options.engine.saved_state_mb * 1024 * 1024
        if options.state_dir is None:
            return None
        if limit <= 0:
            # Turned off: the states saved before (each the text of a conversation) go too.
            empty_saved_states(options.state_dir)
            return None
        status = path.stat()
        tag: dict[str, object] = {
            "model": [str(path.resolve()), status.st_ino, status.st_size, status.st_mtime_ns],
            "engine": engine_version(),
            "options": engine_options.as_dict(),
            "context": context,
        }
        folder = state_folder(options.state_dir, limit, tag, context)
        if folder.folder.is_dir():
            folder.trim()  # the limit may have been lowered since
        return folder

    def _mark(
        self, stage: str, path: Path, info: GgufInfo, options: EngineOptions
    ) -> contextlib.AbstractContextManager[Callable[[], None]]:
        """The crash marker for a step that can take the process down (none without a marker)."""
        if self._crash_marker is None:
            return contextlib.nullcontext(lambda: None)
        run = EngineRun(stage, str(path.resolve()), info.name, options.safe_mode, options.as_dict())
        return self._crash_marker.around(run)

    def unload(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
            self._loaded = None
        self._states = None
        self._cache_owner = None
        self._cached_start = None

    def _model(self) -> Llama:
        if self._llm is None:
            raise ModelLoadError(_("No model is loaded. Choose a model first."))
        return self._llm

    def count_tokens(self, text: str) -> int:
        return len(self._model().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One pooled vector per text from an embedding model, in as few llama.cpp batches as
        its batch size allows; a text longer than the context is cut at its end. A chat
        model says in words that it cannot, rather than answering with zeros."""
        facts = self.loaded
        if facts is None:
            raise ModelLoadError(_("No model is loaded. Choose a model first."))
        if not facts.capabilities.embeddings:
            raise CapabilityError(_(
                "The model {model} is a chat model: it cannot turn text into embeddings. "
                "Choose an embedding model for this."
            ).format(model=facts.name))
        if not texts:
            return []
        vectors = self._model().embed(list(texts), truncate=True)
        return [list(vector) for vector in vectors]

    def reply(
        self,
        request: ChatRequest,
        cancel: threading.Event,
        on_text: Callable[[str], None],
        on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        """As Backend.reply. With a conversation key and a state folder, the conversation's
        saved KV state is restored first when the cache holds another conversation (it was
        reopened or switched to), and what the cache holds is saved when the reply ends."""
        self._cancel = cancel  # Stop also ends writing out the prompt (_render)
        prompt = self.build_prompt(request.system_prompt, request.turns, request.sampling, request.prompt_format)
        on_started(prompt.omitted_turns)
        key, states, llm = request.conversation_key, self._states, self._model()
        if key and states is not None and key != self._cache_owner and restore(llm, states, key, prompt.tokens, prompt.kept_from):
            self._cached_start = states.saved_start(key) or None  # None: not recorded (an older state)
        if request.read_from is not None:
            keep_as_read(llm, prompt.tokens, request.read_from)
        stats = self.generate(prompt, request.sampling, cancel, on_text, on_reading)
        if key and states is not None:
            save(llm, states, key, prompt.kept_from)
            self._cache_owner = key
        return stats

    # reply() in its two steps, for the tests and benchmarks that look at the tokens.

    def build_prompt(
        self,
        system_prompt: str,
        history: Sequence[ChatTurn],
        sampling: SamplingSettings,
        format_preference: str,
    ) -> Prompt:
        """Fit the conversation into the context and turn it into tokens."""
        llm = self._model()
        loaded = self._loaded
        assert loaded is not None
        info = loaded.info
        # Tokenizing is where a broken vocabulary crashes llama.cpp (std::out_of_range in
        # byte_to_token for a character it cannot spell): marked like the reply itself.
        with self._mark(ANSWERING, loaded.path, info, loaded.options):
            prompt_format = resolve_format(format_preference, info.architecture, info.chat_template is not None)
            context = loaded.facts.context_length
            fitted = fit_to_context(system_prompt, history, self.count_tokens, context, sampling.max_tokens)
            limit = context - reply_budget(context, sampling.max_tokens)
            turns = fitted.turns
            dropped = 0
            while True:
                tokens, stop = self._render(llm, prompt_format, turns)
                if len(tokens) <= limit:
                    break
                # The per-message estimate was short: drop the oldest non-system turn.
                first = 1 if turns and turns[0].role == "system" else 0
                if len(turns) - first <= 1:
                    raise PromptTooLongError(_(
                        "Your message is too long for this model with the current settings. "
                        "Shorten it, or raise the context length in Settings."
                    ))
                turns = turns[:first] + turns[first + 1 :]
                dropped += 1
                while len(turns) > first and turns[first].role == "assistant":
                    turns = turns[:first] + turns[first + 1 :]
                    dropped += 1
            # Counted, not derived from len(turns): joined turns are not left out.
            omitted = fitted.omitted_turns + dropped
            oldest = next((turn for turn in turns if turn.role != "system"), None)
            return Prompt(tokens=tokens, stop=stop, omitted_turns=omitted, prompt_format=prompt_format,
                          kept_from=kept_from(oldest))

    def _render(self, llm: Llama, prompt_format: str, turns: Sequence[ChatTurn]) -> tuple[list[int], list[str]]:
        try:
            return self._render_unchecked(llm, prompt_format, turns)
        except TemplateStopped:
            raise StoppedError(_("The reply was stopped before the model began writing it.")) from None
        except TemplateFault as fault:
            # The kind and the template line only: the template's own text may quote the conversation.
            model = self._loaded.facts.name if self._loaded is not None else ""
            log.warning("the chat template of %s could not be used (%s, %s)", model, fault.kind.value, fault.detail)
            raise ChatTemplateError(fault_message(fault.kind, model)) from None
        except (ValueError, TypeError) as exc:
            log.warning("prompt format %s failed (%s)", prompt_format, type(exc).__name__)
            raise ChatTemplateError(_(
                "The prompt format {format} could not write out this conversation. "
                "Choose another prompt format for this model in Settings."
            ).format(format=prompt_format)) from None

    def _render_unchecked(self, llm: Llama, prompt_format: str, turns: Sequence[ChatTurn]) -> tuple[list[int], list[str]]:
        if prompt_format == COMPLETION:
            text, stop, added_special = completion_prompt(turns), list(COMPLETION_STOPS), False
        else:
            messages = chat_messages(prompt_format, turns)
            if prompt_format == MODEL_TEMPLATE:
                assert self._loaded is not None and self._loaded.info.chat_template
                eos = llm._model.token_get_text(llm.token_eos())
                # Bounded in time and size, and stopped by Stop (template_guard.py): a model file's
                # template is code from wherever the file came from.
                text = render_chat_template(
                    self._loaded.info.chat_template,
                    messages,
                    bos_token=llm._model.token_get_text(llm.token_bos()),
                    eos_token=eos,
                    limits=RenderLimits.for_context(llm.n_ctx(), messages, self._cancel),
                )
                stop, added_special = [eos], True
            else:
                response = NAMED_FORMATS[prompt_format](messages=messages)
                text, added_special = response.prompt, response.added_special
                raw_stop = response.stop or []
                stop = [raw_stop] if isinstance(raw_stop, str) else list(raw_stop)
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=not added_special, special=True)
        return tokens, stop

    def _should_abort(self, _user_data: ctypes.c_void_p) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def generate(
        self,
        prompt: Prompt,
        sampling: SamplingSettings,
        cancel: threading.Event,
        on_text: Callable[[str], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        """Stream a reply into `on_text` until done or `cancel` is set; `on_reading` hears how
        much of a long prompt has been read.

        Tokens come from `decode_reply` (decoding.py: `Llama.generate`'s loop, which reuses
        the KV cache's common prefix), not `create_completion`, whose work per token grows
        with the reply. Sampling is `Llama.generate`'s: llama-cpp-python's defaults (top-k
        40, min-p 0.05) plus ours, in llama.cpp's own chain (sampling.py)."""
        llm = self._model()
        self._cache_owner = None  # reply() names the owner once this has returned
        cached_start, self._cached_start = self._cached_start, None  # set again once this returns
        limit = min(sampling.max_tokens, llm.n_ctx() - len(prompt.tokens))
        if limit <= 0:
            raise PromptTooLongError(_(
                "This conversation leaves no room for a reply in the model's context. "
                "Start a new chat, or raise the context length in Settings."
            ))
        seed = sampling.seed if sampling.seed >= 0 else random.getrandbits(31)
        llm.set_seed(seed)
        self._cancel = cancel
        # The abort callback lets Stop interrupt a long prompt inside llama_decode.
        # It runs per graph node, so it is switched off once tokens flow.
        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._abort_callback, None)
        # A decode that Stop or an error cut short leaves its tokens queued, counted only at
        # the next synchronize: they would count as this reply's prompt (prompt_tokens_reused,
        # which Reproduce reads on from).
        llama_cpp.llama_synchronize(llm._ctx.ctx)
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        text = StreamedText(prompt.stop)
        # A model without a chat template is a base model, whatever format it is spoken to in.
        turn_end = TurnEnd() if self._loaded is not None and not self._loaded.facts.has_chat_template else None
        started = time.perf_counter()
        first_token_at: float | None = None
        reply_tokens = 0
        # Tokens sampled, for the speed: a stop found in a chunk's text leaves the chunk's
        # later tokens sampled and decoded, but not in the reply.
        sampled = 0
        shifted = 0  # cached tokens the context shift kept
        # Each token's text, asked of llama.cpp once a reply: a reply's tokens come again (of
        # 256, 40-60 % on SmolLM2 and about 80 % on Gemma 3 were repeats).
        pieces: dict[int, bytes] = {}
        sampler = ReplySampler(llm, sampling.temperature, sampling.top_p, sampling.repeat_penalty)
        chunks = decode_reply(llm, prompt.tokens, sampler, limit)
        loaded = self._loaded
        assert loaded is not None
        # Marked until the first token: reading the prompt is where a bad model or CPU path
        # crashes; a crash mid-reply is as likely a kill or a power cut, not the model.
        try:
            with self._mark(ANSWERING, loaded.path, loaded.info, loaded.options) as settle:
                # More turns left out: the cache keeps the ones still in the prompt (context_shift.py).
                if prompt.omitted_turns and cached_start is not None and prompt.kept_from != cached_start:
                    shifted = shift_out_dropped(llm, prompt.tokens)
                if shifted:
                    # llama.cpp moves the cached keys at the next decode. Stopped half-way, some
                    # layers' keys would be moved twice and a state saved after it never moved:
                    # that one decode (one token) runs without the Stop check.
                    llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._no_abort, None)
                    llm.eval(prompt.tokens[llm.n_tokens : llm.n_tokens + 1])
                    llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._abort_callback, None)
                read_in_steps(llm, prompt.tokens, on_reading)
                for chunk in chunks:
                    if first_token_at is None:
                        first_token_at = time.perf_counter()
                        settle()
                        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._no_abort, None)
                    sampled += len(chunk)
                    parts: list[str] = []
                    stopped = False
                    for token in chunk:
                        piece = pieces.get(token)
                        if piece is None:
                            piece = pieces[token] = llm.detokenize([token])
                        reply_tokens += 1
                        part = text.add(piece)
                        if turn_end is not None:
                            part = turn_end.add(part)
                        parts.append(part)
                        stopped = text.stopped or (turn_end is not None and turn_end.stopped)
                        if stopped:
                            break
                    if shown := "".join(parts):
                        on_text(shown)
                    if stopped or cancel.is_set():
                        break
        except RuntimeError as exc:
            if not cancel.is_set():
                raise ModelLoadError(_("The model stopped with an error: {reason}").format(reason=exc)) from exc
        finally:
            sampler.close()
            llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._no_abort, None)
            self._cancel = None
        self._cached_start = prompt.kept_from
        rest = text.finish()
        if turn_end is not None:
            rest = turn_end.add(rest) + turn_end.finish()
        if rest:
            on_text(rest)
        finished = time.perf_counter()
        # Prompt tokens llama.cpp actually read; the rest came from the KV cache.
        evaluated = llama_cpp.llama_perf_context(llm._ctx.ctx).n_p_eval
        if first_token_at is None:
            first_token_at = finished
        streaming_time = finished - first_token_at
        return ReplyStats(
            prompt_tokens=len(prompt.tokens),
            prompt_tokens_reused=max(0, len(prompt.tokens) - evaluated),
            reply_tokens=reply_tokens,
            time_to_first_token=first_token_at - started,
            tokens_per_second=(sampled - 1) / streaming_time if reply_tokens > 1 and streaming_time > 0 else 0.0,
            total_seconds=finished - started,
            stopped=cancel.is_set(),
            omitted_turns=prompt.omitted_turns,
            prompt_format=prompt.prompt_format,
            seed=seed,
            shifted_tokens=shifted,
        )

