"""Edited copies of the test models that llama.cpp would abort on are refused before it sees them.

Issue 11's audit made such files with `gguf-set-metadata --force`, and so do these tests,
on copies of SmolLM2 (its 49k-token vocabulary parses in seconds; Gemma's 262k take far
longer). That script changes a number in place; it cannot change a string or add a key, so
the tokenizer, merges and alignment cases rewrite the copy with the gguf package's
`copy_with_new_metadata` (the core of `gguf-new-metadata`), which by itself keeps a file good.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import gguf
import pytest
from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

from app.modelfile.gguf_info import read_gguf_info
from app.platform.errors import ModelFileError
from tests.conftest import subprocess_env

# A metadata change for `rewritten`: a new string, u32 or u32 array, or None to drop the key.
Changes = dict[str, str | int | list[int] | None]
MakeFile = Callable[[Changes, tuple[str, str] | None], Path]


def set_metadata(path: Path, key: str, value: str) -> None:
    """What the audit ran: gguf-set-metadata, installed with the gguf package."""
    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_set_metadata", str(path), key, value, "--force"],
                   check=True, capture_output=True, timeout=60)


def rewritten(source: Path, target: Path, changes: Changes) -> None:
    """Write `source` to `target` with `changes` to its metadata and the same tensors."""
    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, arch=str(reader.fields["general.architecture"].contents()))
    def details(value: str | int | list[int]) -> MetadataDetails:
        if isinstance(value, list):
            return MetadataDetails(gguf.GGUFValueType.ARRAY, value, sub_type=gguf.GGUFValueType.UINT32)
        value_type = gguf.GGUFValueType.STRING if isinstance(value, str) else gguf.GGUFValueType.UINT32
        return MetadataDetails(value_type, value)

    new = {key: details(value) for key, value in changes.items() if value is not None}
    copy_with_new_metadata(reader, writer, new, [key for key, value in changes.items() if value is None])


@pytest.fixture
def edited_copy(tmp_path: Path, smollm_path: Path) -> Iterator[MakeFile]:
    """Makes an edited copy of SmolLM2; the copies (98 MB each) go afterwards."""
    made: list[Path] = []

    def make(changes: Changes, edit: tuple[str, str] | None) -> Path:
        target = tmp_path / f"edited-{len(made)}.gguf"
        made.append(target)
        if changes:
            rewritten(smollm_path, target, changes)
        else:
            shutil.copyfile(smollm_path, target)
        if edit:
            set_metadata(target, *edit)
        return target

    yield make
    for path in made:
        path.unlink(missing_ok=True)


def refusal(path: Path, reason: str) -> str:
    return (f"The model file {path.name} has settings that llama.cpp cannot run ({reason}). "
            "It may have been edited or damaged: get it again from where it came.")


@pytest.mark.parametrize("changes, edit, reason", [
    # The audit's files: each of these aborts the process inside llama.cpp.
    pytest.param({}, ("llama.block_count", "0"), "its layer count is 0", id="no-layers"),
    pytest.param({}, ("llama.block_count", "1000000"), "its layer count is 1,000,000", id="a-million-layers"),
    # GGUFWriter pads to 32 whatever the key says: the file gguf-set-metadata would make
    # from one that states its alignment of 32.
    pytest.param({"general.alignment": 1}, None, "its data alignment is 1 byte", id="alignment-1"),
    pytest.param({"tokenizer.ggml.model": "none"}, None, "it has no tokenizer, so it cannot read text",
                 id="no-tokenizer"),
    pytest.param({"tokenizer.ggml.model": "llama"}, None, "its tokenizer does not match its vocabulary",
                 id="sentencepiece-on-a-gpt2-vocabulary"),
    pytest.param({}, ("llama.attention.layer_norm_rms_epsilon", "-1"), "its norm epsilon is -1.0",
                 id="negative-epsilon"),
    pytest.param({}, ("llama.attention.layer_norm_rms_epsilon", "nan"), "its norm epsilon is nan", id="nan-epsilon"),
    # llama.cpp fails these less abruptly, but they can never run either.
    pytest.param({"tokenizer.ggml.merges": None}, None, "its tokenizer does not match its vocabulary",
                 id="gpt2-without-merges"),
    pytest.param({}, ("llama.attention.head_count_kv", "2"), "its 9 attention heads cannot share 2 key heads",
                 id="uneven-heads"),
    pytest.param({"llama.attention.head_count": [9] * 30, "llama.attention.head_count_kv": [3] * 29 + [4]}, None,
                 "its 9 attention heads cannot share 4 key heads", id="uneven-heads-in-the-last-layer"),
    pytest.param({}, ("llama.context_length", "4294967295"), "its context length is 4,294,967,295 tokens",
                 id="context-beyond-int32"),
])
def test_a_file_llama_cpp_cannot_run_is_refused_in_a_plain_sentence(
    edited_copy: MakeFile, changes: Changes, edit: tuple[str, str] | None, reason: str
) -> None:
    path = edited_copy(changes, edit)
    with pytest.raises(ModelFileError) as refused:
        read_gguf_info(path)
    assert str(refused.value) == refusal(path, reason)


def test_the_test_models_and_a_faithful_rewrite_pass(
    edited_copy: MakeFile, smollm_path: Path, gemma_path: Path
) -> None:
    """The checks refuse the edits, not the rewriting: a rewritten copy that states the
    usual alignment and gives its head counts layer by layer is still a good model."""
    assert read_gguf_info(smollm_path).layers == 30
    assert read_gguf_info(gemma_path).layers == 18
    rewrite = edited_copy({"general.alignment": 32, "llama.attention.head_count": [9] * 30,
                           "llama.attention.head_count_kv": [3] * 30}, None)
    info = read_gguf_info(rewrite)
    assert info.details["general.alignment"] == "32"
    assert (info.layers, info.kv_heads, info.head_dim) == (30, 3, 64)


def test_models_import_refuses_it_and_the_library_stays_empty(edited_copy: MakeFile, tmp_path: Path) -> None:
    path = edited_copy({}, ("llama.block_count", "0"))
    data = tmp_path / "data"

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data), "models", *args],
                              capture_output=True, text=True, timeout=120, env=subprocess_env(data))

    imported = hearth("import", str(path))
    assert imported.returncode != 0
    assert refusal(path, "its layer count is 0") in imported.stderr
    assert "Traceback" not in imported.stderr
    assert "No models installed" in hearth("list").stdout
    assert not list((data / "models").glob("*.gguf"))


# Loads a file with llama-cpp-python alone (no Hearth checks) and decodes a prompt. Weight
# repacking stays off, as Hearth turns it off on CPUs where it crashes (DESIGN.md, AMX).
LOAD_AND_DECODE = """
import sys
import llama_cpp
import llama_cpp.llama_cpp as lib
defaults = lib.llama_model_default_params
def without_repacking():
    params = defaults()
    params.use_extra_bufts = False
    return params
lib.llama_model_default_params = without_repacking
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=True)
llm.eval(llm.tokenize(b"Hello!\\nWhat is the capital of France?"))
print("decoded")
"""


@pytest.mark.real_model
def test_llama_cpp_really_aborts_the_process_on_such_files(
    edited_copy: MakeFile, smollm_path: Path, tmp_path: Path
) -> None:
    """Why the checks exist: no Python exception, the whole process ends (SIGABRT), at
    load or at the first decode."""
    env = {**subprocess_env(tmp_path), "GGML_NO_BACKTRACE": "1"}  # no gdb forked for a backtrace

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", LOAD_AND_DECODE, str(path)],
                              capture_output=True, text=True, timeout=120, env=env)

    untouched = run(smollm_path)
    assert untouched.returncode == 0 and "decoded" in untouched.stdout, untouched.stderr[-2000:]
    for edit, assertion in [
        (("llama.block_count", "0"), "GGML_ASSERT(hparams.n_layer_all > 0"),
        (("llama.attention.layer_norm_rms_epsilon", "-1"), "GGML_ASSERT(eps >= 0.0f)"),
    ]:
        edited = run(edited_copy({}, edit))
        assert edited.returncode == -signal.SIGABRT, edited.stderr[-2000:]
        assert assertion in edited.stderr and "decoded" not in edited.stdout
