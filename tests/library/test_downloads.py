"""Downloads against a local server that answers like the Hub and breaks on request."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.library import model_library as library_module
from app.library.downloads import ChecksumMismatch, Downloader, DownloadError, Progress, job_for_hub, job_for_url
from app.library.model_library import ModelLibrary
from app.platform.errors import ModelFileError, StorageError
from tests.gguf_factory import MakeGguf
from tests.hub_server import COMMIT, HubServer

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"
# The test server trickles, drops and breaks in blocks of 64 KiB; a slow trickle (0.1 s a
# block: the 40 blocks take 4 s) lets a test pause or change a download after two blocks.
BLOCK = 64 * 1024
SLOW = 0.1


@pytest.fixture
def model(synthetic_gguf: MakeGguf) -> Path:
    """A 2.5 MB model (40 blocks): room to drop, pause or replace a download partway."""
    return synthetic_gguf("served.gguf", parameters=4_000_000)


@pytest.fixture
def server(model: Path) -> Iterator[HubServer]:
    with HubServer() as hub:
        hub.serve(FILE, model)
        hub.serve(f"{REPO}/{FILE}", model)
        yield hub


@pytest.fixture
def library(paths) -> ModelLibrary:  # type: ignore[no-untyped-def]
    return ModelLibrary(paths.models_dir)


def downloader(library: ModelLibrary, server: HubServer) -> Downloader:
    return Downloader(library, endpoint=server.url, retry_delays=(0.01,) * 3, timeout=5)


def collect() -> tuple[list[Progress], callable]:  # type: ignore[valid-type]
    seen: list[Progress] = []
    return seen, seen.append


def test_a_direct_url_download_is_verified_and_added(server: HubServer, library: ModelLibrary, model: Path) -> None:
    seen, report = collect()
    served = server.files[FILE]
    entry = downloader(library, server).run(job_for_url(f"{server.url}/{FILE}", served.sha256), report, threading.Event())
    assert entry is not None and entry.sha256 == served.sha256 and entry.size == served.size
    assert library.file_of(entry).read_bytes() == model.read_bytes()
    assert [m.id for m in library.models()] == [entry.id]
    assert not list((library.models_dir / ".downloads").iterdir()), "nothing may be left behind"
    assert seen[-1].phase == "verifying"


def test_a_hub_download_records_revision_and_sha256(server: HubServer, library: ModelLibrary) -> None:
    entry = downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    assert entry is not None
    assert (entry.repo, entry.repo_file, entry.revision) == (REPO, FILE, COMMIT)
    assert entry.sha256 == server.files[FILE].sha256
    assert f"/resolve/{COMMIT}/" in entry.url, "a resumed download must ask for the same commit"
    head = next(r for r in server.log if r.method == "HEAD")
    assert head.path == f"/{REPO}/resolve/main/{FILE}"


def test_a_dropped_connection_resumes_with_range(server: HubServer, library: ModelLibrary) -> None:
    size = server.files[FILE].size
    server.faults.drop_after, server.faults.drops = size // 3, 1
    entry = downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    assert entry is not None and entry.sha256 == server.files[FILE].sha256
    bodies = [r for r in server.log if r.path.startswith("/cdn/")]
    assert [r.range_start for r in bodies] == [0, size // 3]
    assert server.bytes_sent() == size, "nothing already on disk is fetched again"


def test_server_errors_are_retried_then_explained(server: HubServer, library: ModelLibrary) -> None:
    server.faults.errors = 2
    seen, report = collect()
    assert downloader(library, server).run(job_for_url(f"{server.url}/{FILE}"), report, threading.Event())
    assert sum(p.phase == "waiting" for p in seen) == 2
    assert "error 500" in seen[0].message and "Trying again" in seen[0].message

    library.remove(library.models()[0].id)
    server.faults.errors = 99
    with pytest.raises(DownloadError, match=r"The server had a problem .*\(error 500\)\. What was downloaded is kept"):
        downloader(library, server).run(job_for_url(f"{server.url}/{FILE}"), lambda p: None, threading.Event())
    assert library.models() == []


def test_a_missing_file_is_not_retried(server: HubServer, library: ModelLibrary) -> None:
    with pytest.raises(DownloadError, match="was not found on the server"):
        downloader(library, server).run(job_for_hub(REPO, "no-such.gguf"), lambda p: None, threading.Event())
    assert len(server.log) == 1


def test_pause_on_a_slow_trickle_then_resume(server: HubServer, library: ModelLibrary) -> None:
    server.faults.trickle = SLOW
    fetch = downloader(library, server)
    job = job_for_url(f"{server.url}/{FILE}")
    stop, result = threading.Event(), []
    worker = threading.Thread(target=lambda: result.append(fetch.run(job, lambda p: None, stop)))
    worker.start()
    deadline = time.monotonic() + 20
    while fetch.bytes_on_disk(job) < 2 * BLOCK and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(10)
    assert not worker.is_alive(), "a pause is noticed between blocks, even on a trickle"
    assert result == [None]
    have = fetch.bytes_on_disk(job)
    assert 2 * BLOCK <= have < server.files[FILE].size
    assert [j.id for j in fetch.pending()] == [job.id], "a paused download survives a restart"

    server.faults.trickle = 0
    again = Downloader(library, endpoint=server.url)  # as after restarting the app
    entry = again.run(again.pending()[0], lambda p: None, threading.Event())
    assert entry is not None and entry.sha256 == server.files[FILE].sha256
    assert server.log[-1].range_start == have


def test_wrong_bytes_are_set_aside(server: HubServer, library: ModelLibrary) -> None:
    server.faults.wrong_bytes = True
    with pytest.raises(ChecksumMismatch, match="checksum does not match.*set aside"):
        downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    assert library.models() == []
    assert [p.suffix for p in (library.models_dir / ".downloads").iterdir()] == [".rejected"]


def test_a_server_that_ignores_range_starts_over_cleanly(server: HubServer, library: ModelLibrary) -> None:
    server.faults.drop_after, server.faults.drops = server.files[FILE].size // 4, 1
    server.faults.ignore_range = True
    entry = downloader(library, server).run(job_for_url(f"{server.url}/{FILE}"), lambda p: None, threading.Event())
    assert entry is not None and entry.sha256 == server.files[FILE].sha256
    assert [r.status for r in server.log] == [200, 200]


def test_a_pinned_sha256_that_differs_from_the_hub_stops_before_downloading(server: HubServer, library: ModelLibrary) -> None:
    with pytest.raises(ChecksumMismatch, match="not the file Hearth expected"):
        downloader(library, server).run(job_for_hub(REPO, FILE, sha256="0" * 64), lambda p: None, threading.Event())
    assert [r.method for r in server.log] == ["HEAD"]


def test_free_disk_space_is_checked_first(server: HubServer, library: ModelLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr(library_module.shutil, "disk_usage", lambda p: real(p)._replace(free=50_000_000))
    # Refused though the 2.5 MB would fit: 200 MB stay free for the conversation store (DISK_MARGIN).
    with pytest.raises(StorageError, match="not enough free disk space .* it needs 0.0 GB and 0.1 GB is free"):
        downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    assert server.bytes_sent() == 0


def test_a_file_that_is_not_gguf_is_refused(server: HubServer, library: ModelLibrary, tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<html>Sign in to continue</html>")
    server.serve("page.gguf", page)
    with pytest.raises(ModelFileError, match="not a GGUF model file"):
        downloader(library, server).run(job_for_url(f"{server.url}/page.gguf"), lambda p: None, threading.Event())
    assert library.models() == [] and not any(library.models_dir.glob("*.gguf"))


def test_a_new_revision_is_a_second_version(server: HubServer, library: ModelLibrary, synthetic_gguf: MakeGguf) -> None:
    first = downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    server.serve(f"{REPO}/{FILE}", synthetic_gguf("served-v2.gguf"), commit="b" * 40)
    second = downloader(library, server).run(job_for_hub(REPO, FILE), lambda p: None, threading.Event())
    assert first is not None and second is not None and first.id != second.id
    assert {m.revision for m in library.models()} == {COMMIT, "b" * 40}
    assert library.file_of(first).is_file() and library.file_of(second).is_file()
    assert library.file_of(first) != library.file_of(second)


def test_the_token_goes_to_the_hub_but_never_to_the_cdn(server: HubServer, library: ModelLibrary, model: Path) -> None:
    with HubServer() as cdn:
        cdn.serve(FILE, model)
        server.cdn_url = cdn.url
        fetch = Downloader(library, endpoint=server.url, token=lambda: "hf_secret")
        assert fetch.run(job_for_hub(REPO, FILE), lambda p: None, threading.Event()) is not None
        hub_requests = [r for r in server.log if "/resolve/" in r.path]
        assert hub_requests and all(r.headers.get("Authorization") == "Bearer hf_secret" for r in hub_requests)
        assert cdn.log and all("Authorization" not in r.headers for r in cdn.log)


def test_a_file_changed_on_the_server_starts_over_instead_of_being_spliced(
    server: HubServer, library: ModelLibrary, synthetic_gguf: MakeGguf
) -> None:
    fetch = downloader(library, server)
    job = job_for_url(f"{server.url}/{FILE}")
    server.faults.trickle = SLOW
    stop = threading.Event()
    worker = threading.Thread(target=lambda: fetch.run(job, lambda p: None, stop))
    worker.start()
    while fetch.bytes_on_disk(job) < 2 * BLOCK:
        time.sleep(0.02)
    stop.set()
    worker.join(5)
    server.faults.trickle = 0
    server.serve(FILE, synthetic_gguf("other.gguf", architecture="gemma3"))  # replaced on the server: a new ETag
    entry = fetch.run(fetch.latest(job), lambda p: None, threading.Event())
    last = server.log[-1]
    assert last.headers.get("If-Range") and last.range_start == 0 and last.status == 200
    assert entry is not None and entry.sha256 == server.files[FILE].sha256 and entry.architecture == "gemma3"


def test_every_drop_that_made_progress_earns_new_retries(server: HubServer, library: ModelLibrary) -> None:
    server.faults.drop_after, server.faults.drops = server.files[FILE].size // 7, 6  # more drops than retry delays
    entry = downloader(library, server).run(job_for_url(f"{server.url}/{FILE}"), lambda p: None, threading.Event())
    assert entry is not None and entry.sha256 == server.files[FILE].sha256
    assert len([r for r in server.log if r.method == "GET"]) == 7


def test_offline_from_the_start_fails_at_once_in_words(library: ModelLibrary) -> None:
    seen, report = collect()
    with pytest.raises(DownloadError, match="seems to be offline"):
        Downloader(library, retry_delays=(5.0,) * 5).run(job_for_url("http://127.0.0.1:9/model.gguf"), report, threading.Event())
    assert not [p for p in seen if p.phase == "waiting"], "no retries when there is no network at all"
