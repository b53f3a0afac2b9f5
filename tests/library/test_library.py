"""The model library's core: catalog, fit verdicts, other apps' folders, Hub search, tokens."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from app.documents.embedders import Prefixes, prefixes_for
from app.library import hub_search
from app.library.catalog import KINDS, OPTIONAL, REQUIRED, load_catalog
from app.library.model_library import ModelLibrary, sha256_of
from app.library.other_apps import find_other_apps_models, ollama_name
from app.modelfile.fit import Verdict, judge, memory_needed
from app.modelfile.gguf_info import EMBEDDING_ARCHITECTURES, keys_fit_q8_0, kv_bytes_per_token, read_gguf_info
from app.platform.errors import ModelFileError
from app.platform.secrets import NO_KEYRING_NOTICE, TokenStore
from tests.fakes import MemoryKeyring
from tests.gguf_factory import MakeGguf
from tests.hub_server import HubServer

GIB = 1024**3


# -- the catalog -----------------------------------------------------------------


# Embedding encoders keep no KV cache in llama.cpp: their entries give no layer shape.
KV_SHAPE = ("layers", "kv_heads", "head_dim")


def test_every_catalog_entry_is_complete() -> None:
    catalog = load_catalog()
    assert 12 <= len(catalog) <= 20
    assert len({m.id for m in catalog}) == len(catalog)
    for model in catalog:
        assert model.kind in KINDS, f"{model.id}: kind {model.kind!r}"
        for name in REQUIRED:
            if not (model.is_embedding and name in KV_SHAPE):
                assert getattr(model, name) not in ("", 0, []), f"{model.id}: {name} is empty"
        assert model.repo.count("/") == 1 and model.file.endswith(".gguf")
        assert model.sources and all(s.strip() for s in model.sources)
        assert model.description.endswith(".") and len(model.description) < 200
        if model.is_embedding:
            assert 10e6 <= model.parameters <= 1e9 and model.kv_bytes_per_token == 0
        else:
            assert 0.3e9 <= model.parameters <= 9e9
        assert model.ram_gb * GIB >= model.size_bytes, f"{model.id}: needs at least its file in memory"
    sizes = [m.parameters for m in catalog if not m.is_embedding]
    assert min(sizes) < 1e9 and max(sizes) > 7e9, "from old laptops to 8B"


def test_catalog_files_have_no_unknown_keys() -> None:
    document = json.loads(load_catalog.__defaults__[0].read_text(encoding="utf-8"))  # type: ignore[index]
    allowed = set(REQUIRED) | set(OPTIONAL)
    assert all(set(raw) <= allowed for raw in document["models"])


def test_the_catalog_offers_embedding_models_english_and_multilingual_with_their_sources() -> None:
    """Embedding models are in the catalog like the chat models: with public sources, a
    kind that says what they are for, an architecture llama.cpp loads with embeddings on,
    and a row of the prefix table where their model card asks for prefixes."""
    catalog = load_catalog()
    embedders = {m.id: m for m in catalog if m.is_embedding}
    assert {"bge-small-en-v1.5", "embeddinggemma-300m"} <= set(embedders)
    assert all(m.kind == "chat" for m in catalog if m.id not in embedders), "a chat entry by default"
    for model in embedders.values():
        assert len(model.sources) >= 3 and any(model.repo in source for source in model.sources)
        assert any(model.file in source for source in model.sources)
        assert model.quantization in model.file.upper()
    english, multilingual = embedders["bge-small-en-v1.5"], embedders["embeddinggemma-300m"]
    assert "English" in english.description and "100 languages" in multilingual.description
    assert multilingual.sha256 and len(multilingual.revision) == 40, "pinned: size and sha256 from the sources"
    assert any(multilingual.sha256 in source and str(multilingual.size_bytes) in source for source in multilingual.sources)
    assert prefixes_for(f"{english.name} {english.file}") == Prefixes("Represent this sentence for searching relevant passages: ", "")
    assert prefixes_for(f"{multilingual.name} {multilingual.file}") == Prefixes("task: search result | query: ", "title: none | text: ")
    assert "gemma-embedding" in EMBEDDING_ARCHITECTURES and "bert" in EMBEDDING_ARCHITECTURES


# -- hardware fit ----------------------------------------------------------------


def test_fit_verdicts_against_fake_memory_sizes() -> None:
    two_gb_model, kv = 2 * GIB, 100_000  # 100 kB per token: 0.4 GB at 4,096 tokens
    assert judge(two_gb_model, kv, 4096, total_memory=16 * GIB).verdict is Verdict.RUNS_WELL
    slow = judge(two_gb_model, kv, 4096, total_memory=3 * GIB)
    assert slow.verdict is Verdict.MAY_BE_SLOW and "other programs may slow down" in slow.explanation
    big = judge(two_gb_model, kv, 4096, total_memory=2 * GIB)
    assert big.verdict is Verdict.TOO_BIG and big.label == "Too big for this computer"
    assert "2.0 GB" in big.explanation and "smaller model" in big.explanation
    # A long context alone can make a model too big.
    assert judge(two_gb_model, kv, 131_072, total_memory=8 * GIB).verdict is Verdict.TOO_BIG
    # A GPU backend with room enough runs it well even on little system memory.
    assert judge(two_gb_model, kv, 4096, total_memory=4 * GIB, gpu_memory=8 * GIB).verdict is Verdict.RUNS_WELL


def test_memory_needed_uses_the_models_own_kv_size(synthetic_gguf: MakeGguf) -> None:
    gemma_shaped = synthetic_gguf("gemma-shaped.gguf", architecture="gemma3", layers=18, heads=4, kv_heads=1, head_dim=256)
    info = read_gguf_info(gemma_shaped)
    assert info.kv_bytes_per_token == 18 * 1 * 256 * (34 / 32 + 2)  # 18 layers: q8_0 keys, f16 values
    needed = memory_needed(info.file_size, info.kv_bytes_per_token, 4096)
    assert needed == info.file_size + 4096 * info.kv_bytes_per_token + 300 * 1024 * 1024


def test_keys_stay_f16_where_their_rows_are_not_whole_q8_0_blocks() -> None:
    """llama.cpp would abort the process on a q8_0 key cache it cannot lay out."""
    assert keys_fit_q8_0(64) and keys_fit_q8_0(256)
    assert not keys_fit_q8_0(80) and not keys_fit_q8_0(0)  # 0: the GGUF did not say
    assert kv_bytes_per_token(layers=2, kv_heads=3, head_dim=80) == 2 * 3 * 80 * (2 + 2)
    assert kv_bytes_per_token(layers=2, kv_heads=3, head_dim=64) == 2 * 3 * 64 * (34 / 32 + 2)


# -- other apps' folders -----------------------------------------------------------


def _gguf(path: Path, source: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as handle:
        path.write_bytes(handle.read(4096))  # the header is all discovery reads
    return path


def test_models_of_other_apps_are_found_in_their_layouts(tmp_path: Path, synthetic_gguf: MakeGguf) -> None:
    home, model = tmp_path / "home", synthetic_gguf()
    lm = _gguf(home / ".lmstudio/models/bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", model)
    _gguf(home / ".lmstudio/models/bartowski/Qwen2.5-0.5B-Instruct-GGUF/mmproj-f16.gguf", model)
    old_lm = _gguf(home / ".cache/lm-studio/models/TheBloke/X-GGUF/x.Q4_K_M.gguf", model)
    gpt = _gguf(home / ".local/share/nomic.ai/GPT4All/Llama-3.2-1B-Instruct-Q4_0.gguf", model)
    _gguf(home / ".local/share/nomic.ai/GPT4All/incomplete-Phi-3-mini.gguf", model)
    jan_folder = home / ".local/share/Jan/data/llamacpp/models/Qwen/Qwen3-1.7B"
    jan = _gguf(jan_folder / "model.gguf", model)
    (jan_folder / "model.yml").write_text("model_path: llamacpp/models/Qwen/Qwen3-1.7B/model.gguf\nname: Qwen3\n")
    imported = _gguf(tmp_path / "elsewhere/mine.gguf", model)
    (home / ".local/share/Jan/data/llamacpp/models/mine").mkdir(parents=True)
    (home / ".local/share/Jan/data/llamacpp/models/mine/model.yml").write_text(f"model_path: '{imported}'\n")
    blob_hex = "c1864a5eb19305c40519da12cc543519e48a0697ecd30e15d5ac228644957d12"
    ollama = _gguf(home / f".ollama/models/blobs/sha256-{blob_hex}", model)
    manifest = home / ".ollama/models/manifests/registry.ollama.ai/library/gemma/2b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({
        "schemaVersion": 2,
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{blob_hex}", "size": 4096},
            {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:" + "0" * 64, "size": 10},
        ],
    }))
    (home / ".ollama/models/manifests/registry.ollama.ai/library/broken").mkdir(parents=True)
    (home / ".ollama/models/manifests/registry.ollama.ai/library/broken/latest").write_text("{not json")
    (home / ".lmstudio/models/me/notes/readme.gguf").parent.mkdir(parents=True)
    (home / ".lmstudio/models/me/notes/readme.gguf").write_text("not a model")

    found = {(m.app, m.name, m.path) for m in find_other_apps_models(home, env={}, platform="linux")}
    assert found == {
        ("LM Studio", "Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M", lm),
        ("LM Studio", "X-GGUF/x.Q4_K_M", old_lm),
        ("GPT4All", "Llama-3.2-1B-Instruct-Q4_0", gpt),
        ("Jan", "Qwen/Qwen3-1.7B", jan),
        ("Jan", "mine", imported),
        ("Ollama", "gemma:2b", ollama),
    }


def test_ollama_names_and_environment_overrides(tmp_path: Path, synthetic_gguf: MakeGguf) -> None:
    assert ollama_name("registry.ollama.ai", "library", "llama3.2", "latest") == "llama3.2:latest"
    assert ollama_name("registry.ollama.ai", "user", "m", "q4") == "user/m:q4"
    assert ollama_name("hf.co", "bartowski", "Llama-3.2-1B-Instruct-GGUF", "latest") == "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:latest"
    models = tmp_path / "custom-ollama"
    _gguf(models / f"blobs/sha256-{'a' * 64}", synthetic_gguf())
    (models / "manifests/hf.co/bartowski/Llama-GGUF").mkdir(parents=True)
    (models / "manifests/hf.co/bartowski/Llama-GGUF/Q4_K_M").write_text(json.dumps(
        {"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "a" * 64}]}))
    found = find_other_apps_models(tmp_path / "nobody", env={"OLLAMA_MODELS": str(models)}, platform="linux")
    assert [m.name for m in found] == ["hf.co/bartowski/Llama-GGUF:Q4_K_M"]


def test_other_apps_models_are_used_in_place_and_never_deleted(paths, synthetic_gguf: MakeGguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    theirs = tmp_path / "lmstudio" / "model.gguf"
    theirs.parent.mkdir()
    theirs.write_bytes(synthetic_gguf().read_bytes())
    library = ModelLibrary(paths.models_dir)
    entry = library.add(theirs, copy=False)
    assert entry.in_place and library.file_of(entry) == theirs.resolve()
    assert library.remove(entry.id) == 0
    assert theirs.is_file() and library.models() == []


def test_gguf_details_for_both_test_models(smollm_path: Path, gemma_path: Path) -> None:
    smol, gemma = read_gguf_info(smollm_path), read_gguf_info(gemma_path)
    assert (smol.architecture, smol.layers, smol.kv_heads, smol.head_dim) == ("llama", 30, 3, 64)
    assert (gemma.architecture, gemma.layers, gemma.kv_heads, gemma.head_dim) == ("gemma3", 18, 1, 256)
    assert smol.details["general.license"] == "apache-2.0"
    assert gemma.details["gemma3.attention.sliding_window"] == "512"
    assert "tokenizer.chat_template" not in smol.details, "the template is shown as present, not dumped"
    assert all(len(v) <= 201 for v in gemma.details.values())


@pytest.mark.parametrize("tokenizer", ["llama", "gpt2"])
def test_synthetic_model_files_pass_every_check_with_the_facts_asked_for(synthetic_gguf: MakeGguf, tokenizer: str) -> None:
    """The library, pack and download tests use these instead of the real models."""
    path = synthetic_gguf("Tiny.gguf", name="Tiny Chat", architecture="qwen2", parameters=1_234_567, quantization="Q4_K_M",
                          context_length=32_768, license_name="mit", tokenizer=tokenizer, vocabulary=400, layers=3,
                          heads=8, kv_heads=2, head_dim=128)
    info = read_gguf_info(path)
    assert (info.name, info.architecture, info.parameters_label, info.quantization) == ("Tiny Chat", "qwen2", "1.2M", "Q4_K_M")
    assert (info.parameters, info.context_length, info.license) == (1_234_567, 32_768, "mit")
    assert (info.layers, info.kv_heads, info.head_dim) == (3, 2, 128) and info.chat_template
    assert info.details["tokenizer.ggml.model"] == tokenizer
    assert 100_000 < info.file_size < 1_000_000
    assert read_gguf_info(synthetic_gguf("plain.gguf", chat_template=None, tokenizer=tokenizer)).chat_template is None

    same, again, seeded, renamed = (sha256_of(synthetic_gguf(f"{file}.gguf", name=name, seed=seed))
                                    for file, name, seed in [("a", "A", 0), ("b", "A", 0), ("c", "A", 1), ("d", "D", 0)])
    assert same == again and len({same, seeded, renamed}) == 3, "the library tells files apart by sha256"
    cut = path.with_name("cut.gguf")
    cut.write_bytes(path.read_bytes()[: info.file_size // 2])
    with pytest.raises(ModelFileError, match="is incomplete"):
        read_gguf_info(cut)


def test_verify_notices_a_damaged_file(paths, synthetic_gguf: MakeGguf) -> None:  # type: ignore[no-untyped-def]
    library = ModelLibrary(paths.models_dir)
    entry = library.add(synthetic_gguf())
    assert library.verify(entry) == ""
    stored = library.file_of(entry)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    assert "no longer matches its checksum" in library.verify(entry)
    stored.unlink()
    assert "is missing" in library.verify(entry)


# -- Hub search --------------------------------------------------------------------


def test_hub_search_and_file_listing_against_a_local_hub(synthetic_gguf: MakeGguf) -> None:
    q4, q8 = synthetic_gguf("q4.gguf", quantization="Q4_K_M"), synthetic_gguf("q8.gguf", quantization="Q8_0")
    with HubServer() as hub:
        hub.models_api = [
            {"id": "bartowski/SmolLM2-135M-Instruct-GGUF", "downloads": 1200, "likes": 7},
            {"id": "someone/other-GGUF", "downloads": 3, "likes": 0},
        ]
        repo = "bartowski/SmolLM2-135M-Instruct-GGUF"
        hub.serve(f"{repo}/SmolLM2-135M-Instruct-Q8_0.gguf", q8)
        hub.serve(f"{repo}/SmolLM2-135M-Instruct-Q4_K_M.gguf", q4)
        hub.serve(f"{repo}/big/SmolLM2-135M-Instruct-F16-00001-of-00002.gguf", q4)
        hub.serve(f"{repo}/mmproj-SmolLM2-f16.gguf", q4)
        results = hub_search.search_models("smollm2", endpoint=hub.url)
        files = hub_search.list_gguf_files(repo, endpoint=hub.url)
        query = hub.log[0].path
    assert [(r.repo, r.downloads) for r in results] == [(repo, 1200)]
    assert query == "/api/models"
    assert [(f.quantization, f.size) for f in files] == [
        ("Q4_K_M", q4.stat().st_size),
        ("Q8_0", q8.stat().st_size),
    ], "smallest first"
    assert q4.stat().st_size < q8.stat().st_size
    assert files[0].sha256 == hub.files[f"{repo}/SmolLM2-135M-Instruct-Q4_K_M.gguf"].sha256


def test_quantization_names_and_split_files() -> None:
    assert hub_search.quantization_of("Llama-3.2-1B-Instruct-IQ3_XS.gguf") == "IQ3_XS"
    assert hub_search.quantization_of("qwen2.5-7b-instruct-q4_k_m.gguf") == "Q4_K_M"
    assert hub_search.quantization_of("model-f16.gguf") == "F16"
    assert hub_search.quantization_of("model.gguf") == "unknown"
    assert hub_search.SPLIT_PART.search("big-Q4_K_M-00001-of-00003.gguf")
    assert not hub_search.SPLIT_PART.search("small-Q4_K_M.gguf")
    assert hub_search.PROJECTOR.search("mmproj-model-f16.gguf")


# -- the token for gated repos -------------------------------------------------------


def test_the_token_goes_to_the_keyring() -> None:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        assert TokenStore().set(" hf_secret ") == ""
        assert TokenStore().get() == "hf_secret", "a new session reads it back"
        assert backend.saved == {("Hearth", "huggingface-token"): "hf_secret"}
        TokenStore().set("")
        assert TokenStore().get() == ""
    finally:
        keyring.set_keyring(previous)


def test_without_a_keyring_the_token_lasts_one_session() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        tokens = TokenStore()
        assert tokens.set("hf_secret") == NO_KEYRING_NOTICE
        assert tokens.get() == "hf_secret"
        assert TokenStore().get() == "", "nothing was written anywhere"
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("status, words", [(401, "sign in"), (403, "gated"), (429, "too many requests")])
def test_gated_and_refused_hub_files_are_explained(status: int, words: str) -> None:
    from app.library.network import HttpStatusError, status_message

    assert words in status_message(status, "the model")
    assert HttpStatusError(status, "").retryable is (status == 429)


# -- updates -------------------------------------------------------------------------


def test_a_newer_revision_on_the_hub_or_in_the_catalog_is_an_update(paths, synthetic_gguf: MakeGguf) -> None:  # type: ignore[no-untyped-def]
    import dataclasses
    import threading

    from app.library.catalog import load_catalog
    from app.library.downloads import Downloader, job_for_hub
    from app.library.network import NetworkError, resolve_hub_file
    from app.library.updates import find_updates

    repo, name = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smol.gguf"
    library = ModelLibrary(paths.models_dir)
    with HubServer() as hub:
        hub.serve(f"{repo}/{name}", synthetic_gguf("smol.gguf"))
        Downloader(library, hub.url).run(job_for_hub(repo, name), lambda p: None, threading.Event())
        resolve = lambda r, f: resolve_hub_file(r, f, endpoint=hub.url)  # noqa: E731
        assert find_updates(library.models(), [], resolve) == {}

        hub.serve(f"{repo}/{name}", synthetic_gguf("smol-new.gguf", seed=1), commit="c" * 40)
        (update,) = find_updates(library.models(), [], resolve).values()
        assert (update.revision, update.where) == ("c" * 40, "Hub")

        Downloader(library, hub.url).run(job_for_hub(repo, name), lambda p: None, threading.Event())
        assert len(library.models()) == 2, "both versions are kept"
        assert find_updates(library.models(), [], resolve) == {}, "the newest version is installed"

    listed = dataclasses.replace(load_catalog()[0], repo=repo, file=name, revision="d" * 40)
    assert [u.where for u in find_updates(library.models(), [listed]).values()] == ["catalog"]
    newest = max(library.models(), key=lambda e: e.added_at)
    pinned = dataclasses.replace(listed, sha256=newest.sha256)  # as EmbeddingGemma's entry pins its file
    assert find_updates(library.models(), [pinned]) == {}, "the pinned file is installed, got at another commit"
    offline = lambda r, f: resolve_hub_file(r, f, endpoint="http://127.0.0.1:9")  # noqa: E731
    with pytest.raises(NetworkError, match="offline"):
        find_updates(library.models(), [], offline)


def test_the_manifest_is_read_once_until_any_process_changes_it(
    tmp_path: Path, synthetic_gguf: MakeGguf, monkeypatch: pytest.MonkeyPatch
) -> None:
    window_side, cli_side = ModelLibrary(tmp_path / "models"), ModelLibrary(tmp_path / "models")
    window_side.add(synthetic_gguf("First.Q4_1.gguf"))
    reads: list[Path] = []
    read_text = Path.read_text

    def counted(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counted)
    for _ in range(5):
        assert [m.name for m in window_side.models()] == ["First.Q4_1"]
    assert len(reads) <= 1
    cli_side.add(synthetic_gguf("Second.Q4_1.gguf"))  # as `hearth models add` would, meanwhile
    assert sorted(m.name for m in window_side.models()) == ["First.Q4_1", "Second.Q4_1"]
    (tmp_path / "models" / "manifest.json").write_text('{"models": []}')  # edited in place
    assert window_side.models() == []
