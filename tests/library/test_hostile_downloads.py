"""Downloads against servers that misbehave on purpose: redirects that downgrade or leave
HTTP, a body that never ends, a resume answered with the wrong part of the file."""

from __future__ import annotations

import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.library import model_library as library_module
from app.library import network
from app.library.downloads import Downloader, job_for_url
from app.library.model_library import DISK_MARGIN, ModelLibrary
from app.platform.errors import StorageError
from tests.gguf_factory import MakeGguf
from tests.hub_server import HubServer

FILE = "served.gguf"


@pytest.fixture
def library(paths) -> ModelLibrary:  # type: ignore[no-untyped-def]
    return ModelLibrary(paths.models_dir)


def _redirect(from_url: str, to_url: str) -> urllib.request.Request | None:
    request = urllib.request.Request(from_url, headers={"Authorization": "Bearer hf_secret"})
    handler = network._SameHostAuthRedirects()
    return handler.redirect_request(request, None, 302, "Found", {}, to_url)  # type: ignore[no-untyped-call]


def test_a_redirect_from_https_to_http_is_refused_and_never_carries_the_token() -> None:
    with pytest.raises(network.NetworkError, match="unencrypted address"):
        _redirect("https://huggingface.co/a/b/resolve/main/m.gguf", "http://huggingface.co/cdn/m.gguf")


@pytest.mark.parametrize("target", ["ftp://huggingface.co/m.gguf", "file:///etc/passwd", "gopher://h/m"])
def test_a_redirect_out_of_http_is_refused_in_words(target: str) -> None:
    with pytest.raises(network.NetworkError, match="sent the download to .* Hearth only downloads over the web"):
        _redirect("https://huggingface.co/a/b/resolve/main/m.gguf", target)


def test_a_same_host_https_redirect_keeps_the_token_and_another_host_drops_it() -> None:
    same = _redirect("https://huggingface.co/a", "https://huggingface.co/b")
    other = _redirect("https://huggingface.co/a", "https://cdn.example/b")
    assert same is not None and same.get_header("Authorization") == "Bearer hf_secret"
    assert other is not None and other.get_header("Authorization") is None


class _EndlessHandler(BaseHTTPRequestHandler):
    """A chunked answer without Content-Length that never ends: within the 64 MB this test
    server sends at most, so a regression fails the test instead of filling the real disk."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b"\0" * 65536
        try:
            for _block in range(1024):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        except (BrokenPipeError, ConnectionResetError):
            return


@pytest.fixture
def endless() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{FILE}"
    server.shutdown()
    server.server_close()


def test_an_endless_body_stops_before_the_margin_for_conversations_is_crossed(
    library: ModelLibrary, endless: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage
    downloads = library.models_dir / ".downloads"
    room = 20 * 1024 * 1024  # the disk is full once 20 MB more are written

    def usage(path: object) -> object:
        written = sum(p.stat().st_size for p in downloads.glob("*.part"))
        return real(path)._replace(free=DISK_MARGIN + room - written)  # type: ignore[arg-type]

    monkeypatch.setattr(library_module.shutil, "disk_usage", usage)
    fetch = Downloader(library, retry_delays=(0.01,), timeout=5)
    with pytest.raises(StorageError, match="disk is almost full"):
        fetch.run(job_for_url(endless), lambda p: None, threading.Event())
    written = sum(p.stat().st_size for p in downloads.glob("*.part"))
    assert 0 < written <= room, "the download stopped before the margin was touched"


def test_a_resume_answered_with_the_wrong_range_starts_again_from_zero(
    library: ModelLibrary, synthetic_gguf: MakeGguf
) -> None:
    model = synthetic_gguf(FILE, parameters=4_000_000)
    with HubServer() as server:
        served = server.serve(FILE, model)
        server.faults.drop_after, server.faults.drops = served.size // 3, 1
        server.faults.wrong_range = 1
        fetch = Downloader(library, retry_delays=(0.01,) * 3, timeout=5)
        entry = fetch.run(job_for_url(f"{server.url}/{FILE}", served.sha256), lambda p: None, threading.Event())
        assert entry is not None and entry.sha256 == served.sha256
        assert [r.range_start for r in server.log if r.method == "GET"][-1] == 0


ODD_MODELS = [
    {"id": "a/ok", "downloads": 5, "likes": 1},
    {"id": "b/lots", "downloads": "lots", "likes": None},
    {"id": "c/float", "downloads": 1.5, "likes": [1]},
    {"id": ["not", "a", "name"]},
    "not a table",
    None,
]
ODD_TREE = [
    {"type": "file", "path": "good-Q4_K_M.gguf", "size": 10, "lfs": {"oid": "a" * 64, "size": 10}},
    {"type": "file", "path": "odd-Q8_0.gguf", "size": "big", "lfs": "not a table"},
    {"type": "file", "path": ["x.gguf"]},
    {"type": "file", "path": "neg-Q4_0.gguf", "size": -5, "lfs": {"oid": 12, "size": "x"}},
    "not a table",
    7,
]


def test_odd_fields_in_the_hubs_answers_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.library import hub_search

    monkeypatch.setattr(network, "get_json", lambda url, token="": ODD_MODELS if "tree" not in url else ODD_TREE)
    found = hub_search.search_models("x", endpoint="http://127.0.0.1:9")
    assert [(m.repo, m.downloads, m.likes) for m in found] == [("a/ok", 5, 1), ("b/lots", 0, 0), ("c/float", 0, 0)]
    files = hub_search.list_gguf_files("a/ok", endpoint="http://127.0.0.1:9")
    assert sorted((f.path, f.size, f.sha256) for f in files) == [
        ("good-Q4_K_M.gguf", 10, "a" * 64), ("neg-Q4_0.gguf", 0, ""), ("odd-Q8_0.gguf", 0, "")
    ]


def test_an_answer_that_is_not_a_list_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.library import hub_search

    monkeypatch.setattr(network, "get_json", lambda url, token="": {"error": "odd"})
    assert hub_search.search_models("x", endpoint="http://127.0.0.1:9") == []
    assert hub_search.list_gguf_files("a/ok", endpoint="http://127.0.0.1:9") == []


class _RedirectingHandler(BaseHTTPRequestHandler):
    """Sends every request to the address after /to/ in its path."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path.removeprefix("/to/"))
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:9/m.gguf", "file:///etc/passwd", "gopher://127.0.0.1:9/m"])
def test_a_download_redirected_out_of_http_stops_in_words(library: ModelLibrary, target: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RedirectingHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/to/{target}"
        with pytest.raises(network.NetworkError, match="Hearth only downloads over the web"):
            Downloader(library, retry_delays=(0.01,), timeout=5).run(job_for_url(url), lambda p: None, threading.Event())
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_that_just_fits_is_not_stopped_in_its_last_stretch(
    library: ModelLibrary, synthetic_gguf: MakeGguf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check while writing asked for a whole 4 MB stretch beyond the margin even when
    less of the file was left: a file that fit with 1 MB to spare was stopped near its end."""
    model = synthetic_gguf(FILE, parameters=10_000_000)  # 6 MB: one check at 4 MB, 2 MB left
    real = shutil.disk_usage
    downloads = library.models_dir / ".downloads"

    def usage(path: object) -> object:
        written = sum(p.stat().st_size for p in downloads.glob("*.part"))
        return real(path)._replace(free=DISK_MARGIN + model.stat().st_size + 1024 * 1024 - written)  # type: ignore[arg-type]

    monkeypatch.setattr(library_module.shutil, "disk_usage", usage)
    with HubServer() as server:
        served = server.serve(FILE, model)
        entry = Downloader(library, timeout=5).run(job_for_url(f"{server.url}/{FILE}", served.sha256),
                                                   lambda p: None, threading.Event())
    assert entry is not None and entry.sha256 == served.sha256
