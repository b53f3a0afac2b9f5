"""A local HTTP server on 127.0.0.1 that serves model files like the Hugging Face
Hub does, and breaks on request: dropped connections, 500s, a slow trickle,
wrong bytes, and a server that ignores Range. Used by tests and bench/.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "a" * 40


@dataclass
class Faults:
    drop_after: int = 0  # close the connection after this many body bytes...
    drops: int = 0  # ...this many times
    errors: int = 0  # answer 500 to this many GETs
    trickle: float = 0.0  # seconds to sleep between 64 KiB blocks
    wrong_bytes: bool = False  # flip one byte in the middle of the file
    ignore_range: bool = False
    wrong_range: int = 0  # answer this many resumed GETs with a Content-Range that starts at 0


@dataclass
class Served:
    path: Path
    sha256: str
    size: int
    commit: str = COMMIT


@dataclass
class LoggedRequest:
    method: str
    path: str
    range_start: int
    status: int
    body_bytes: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class HubServer:
    """`files` maps "repo/file" (Hub style) or "file" (plain URL) to a file on disk."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.faults = Faults()
        self.log: list[LoggedRequest] = []
        self.models_api: list[dict] = []
        self.cdn_url = ""  # redirect file bytes to another server (a CDN on another host)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, name: str, path: Path, commit: str = COMMIT) -> Served:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.files[name] = Served(path, digest, path.stat().st_size, commit)
        return self.files[name]

    def bytes_sent(self) -> int:
        return sum(r.body_bytes for r in self.log)

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                entry = LoggedRequest(self.command, path, 0, 200, headers=dict(self.headers))
                hub.log.append(entry)
                if path.startswith("/api/"):
                    return self._api(path, entry)
                resolve = re.fullmatch(r"/(.+?/.+?)/resolve/([^/]+)/(.+)", path)
                if resolve:
                    repo, revision, name = resolve.groups()
                    served = hub.files.get(f"{repo}/{name}")
                    if served is None or revision not in ("main", served.commit):
                        return self._status(404, entry)
                    entry.status = 302
                    self.send_response(302)
                    self.send_header("Location", f"{hub.cdn_url or hub.url}/cdn/{served.sha256}")
                    self.send_header("X-Repo-Commit", served.commit)
                    self.send_header("X-Linked-Etag", f'"{served.sha256}"')
                    self.send_header("X-Linked-Size", str(served.size))
                    self.send_header("ETag", '"git-blob-oid"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if path.startswith("/cdn/"):
                    served = next((s for s in hub.files.values() if s.sha256 == path[5:]), None)
                else:
                    served = hub.files.get(path.lstrip("/"))
                if served is None:
                    return self._status(404, entry)
                return self._file(served, head, entry)

            def _status(self, status: int, entry: LoggedRequest) -> None:
                entry.status = status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _api(self, path: str, entry: LoggedRequest) -> None:
                tree = re.fullmatch(r"/api/models/(.+?/.+?)/tree/([^/]+)", path)
                if tree:
                    prefix = tree.group(1) + "/"
                    body = [
                        {"type": "file", "path": key[len(prefix):], "size": s.size, "oid": "0" * 40,
                         "lfs": {"oid": s.sha256, "size": s.size, "pointerSize": 134}}
                        for key, s in hub.files.items() if key.startswith(prefix)
                    ]
                elif path == "/api/models":
                    query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                    words = query.get("search", [""])[0].lower()
                    body = [m for m in hub.models_api if words in m["id"].lower()]
                else:
                    return self._status(404, entry)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

            def _file(self, served: Served, head: bool, entry: LoggedRequest) -> None:
                faults = hub.faults
                if not head and faults.errors > 0:
                    faults.errors -= 1
                    return self._status(500, entry)
                etag = f'"{served.sha256}"'
                wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if_range = self.headers.get("If-Range")
                ranged = bool(wanted) and not faults.ignore_range and if_range in (None, etag)
                start = int(wanted.group(1)) if ranged else 0
                if start >= served.size and start > 0:
                    return self._status(416, entry)
                entry.range_start = start
                entry.status = 206 if ranged else 200
                self.send_response(entry.status)
                self.send_header("Content-Length", str(served.size - start))
                self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                claimed = start
                if ranged and start and faults.wrong_range > 0:
                    faults.wrong_range -= 1
                    claimed = 0
                if ranged:
                    self.send_header("Content-Range", f"bytes {claimed}-{served.size - 1}/{served.size}")
                self.end_headers()
                if head:
                    return None
                drop_at = faults.drop_after if faults.drops > 0 else 0
                if drop_at:
                    faults.drops -= 1
                middle = served.size // 2
                if not (drop_at or faults.trickle or faults.wrong_bytes):
                    return self._send_whole(served, start, entry)
                with served.path.open("rb") as handle:
                    handle.seek(start)
                    position = start
                    while block := handle.read(64 * 1024):
                        if faults.wrong_bytes and position <= middle < position + len(block):
                            index = middle - position
                            block = block[:index] + bytes([block[index] ^ 0xFF]) + block[index + 1:]
                        if drop_at and entry.body_bytes + len(block) > drop_at:
                            self.wfile.write(block[: drop_at - entry.body_bytes])
                            entry.body_bytes = drop_at
                            self.wfile.flush()
                            self.connection.close()
                            return None
                        try:
                            self.wfile.write(block)
                        except (BrokenPipeError, ConnectionResetError):
                            return None
                        entry.body_bytes += len(block)
                        position += len(block)
                        if faults.trickle:
                            time.sleep(faults.trickle)
                return None

            def _send_whole(self, served: Served, start: int, entry: LoggedRequest) -> None:
                """No fault to inject: sendfile, as a real file server would (little CPU)."""
                with served.path.open("rb") as handle, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    entry.body_bytes = self.connection.sendfile(handle, start, served.size - start)

        return Handler
