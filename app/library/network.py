"""Every network connection Hearth makes starts in this module.

Nothing here runs at start-up or while chatting: only the model library calls
it, and only when the user asks for a download, a search or an update check.
A test guards the socket layer to prove it.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from app import __version__
from app.platform.errors import HearthError
from app.platform.i18n import _

DEFAULT_HUB = "https://huggingface.co"
HUB_ENDPOINT_ENV = "HF_ENDPOINT"
USER_AGENT = f"Hearth/{__version__} (private local chat)"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

# What a dropped or failing connection looks like to the caller: worth retrying.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    socket.timeout,
)


class NetworkError(HearthError):
    """The network could not be reached, or a server failed; retrying may help."""


class HttpStatusError(NetworkError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status in (408, 425, 429) or self.status >= 500


def hub_endpoint(configured: str = "") -> str:
    """The Hub to talk to: the setting, then HF_ENDPOINT, then huggingface.co."""
    return (configured or os.environ.get(HUB_ENDPOINT_ENV) or DEFAULT_HUB).rstrip("/")


def status_message(status: int, what: str) -> str:
    """A sentence for an HTTP error status, naming what was asked for (a file's or a
    model's name, or a translated phrase such as "the file")."""
    if status == 401:
        return _("{what} needs you to sign in: add a Hugging Face token in the Library, then try again.").format(what=what)
    if status == 403:
        return _(
            "{what} is gated: accept its license on the Hugging Face website with your account, "
            "add your token in the Library, then try again."
        ).format(what=what)
    if status == 404:
        return _("{what} was not found on the server. It may have been renamed or removed.").format(what=what)
    if status == 416:
        return _("The server refused to continue {what} from where it stopped.").format(what=what)
    if status == 429:
        return _("The server says too many requests were made. Wait a few minutes and try again.")
    if status >= 500:
        return _("The server had a problem while sending {what} (error {status}).").format(what=what, status=status)
    return _("The server refused {what} (error {status}).").format(what=what, status=status)


def strip_etag(value: str | None) -> str:
    if not value:
        return ""
    return value.removeprefix("W/").strip('"')


class _SameHostAuthRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never send the Hub token to another host (the CDN), never
    from https down to http, and never out of http(s) (urllib would follow ftp://)."""

    def http_error_302(self, req, fp, code, msg, headers):  # type: ignore[no-untyped-def]
        # Checked before urllib's own scheme check, which follows ftp:// and answers
        # file:// with a bare "error 302".
        location = headers.get("location") or headers.get("uri")
        if location:
            try:
                _refuse_unsafe_redirect(req.full_url, location)
            except NetworkError:
                fp.close()  # only a refused redirect's body is left unread; urllib reads the others
                raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        _refuse_unsafe_redirect(req.full_url, newurl)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def _refuse_unsafe_redirect(old_url: str, new_url: str) -> None:
    old_scheme = urllib.parse.urlsplit(old_url).scheme.lower()
    new_scheme = urllib.parse.urlsplit(urllib.parse.urljoin(old_url, new_url)).scheme.lower()
    host = urllib.parse.urlsplit(old_url).hostname or old_url
    if new_scheme not in ("http", "https"):
        raise NetworkError(_(
            "The server {host} sent the download to an address that is not a web address ({scheme}:). "
            "Hearth only downloads over the web, so it stopped."
        ).format(host=host, scheme=new_scheme or "?"))
    if old_scheme == "https" and new_scheme == "http":
        raise NetworkError(_(
            "The server {host} sent the download to an unencrypted address (http instead of https). "
            "Hearth stopped so that your sign-in token is never sent unprotected."
        ).format(host=host))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None, token: str = "") -> urllib.request.Request:
    # A normal header, so a same-host redirect (a renamed repo) keeps it;
    # _SameHostAuthRedirects drops it when the redirect leaves the host (the CDN).
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    return request


def open_url(
    url: str,
    headers: dict[str, str] | None = None,
    token: str = "",
    timeout: float = 30.0,
    what: str = "",
) -> http.client.HTTPResponse:
    """GET `url`, following redirects. HTTP errors become HttpStatusError naming `what`
    (by default "the file")."""
    opener = urllib.request.build_opener(_SameHostAuthRedirects())
    try:
        response: http.client.HTTPResponse = opener.open(_request(url, headers=headers, token=token), timeout=timeout)
        return response
    except urllib.error.HTTPError as exc:
        exc.close()
        raise HttpStatusError(exc.code, status_message(exc.code, what or _("the file"))) from exc


@dataclass(frozen=True)
class RemoteFile:
    """What the Hub says about one file at one revision."""

    download_url: str  # pinned to the commit, so a resumed download gets the same bytes
    size: int
    sha256: str
    revision: str


def resolve_hub_file(
    repo: str,
    filename: str,
    revision: str = "main",
    endpoint: str = "",
    token: str = "",
    timeout: float = 30.0,
) -> RemoteFile:
    """Ask the Hub which commit `revision` is, and the file's size and sha256.

    A HEAD on the resolve URL, without following the redirect to the CDN: the
    Hub's own answer carries X-Repo-Commit and, for large (LFS) files,
    X-Linked-Etag (the sha256) and X-Linked-Size. Relative redirects (a renamed
    repo) are followed.
    """
    base = hub_endpoint(endpoint)
    what = f"{repo}/{filename}"
    url = f"{base}/{repo}/resolve/{urllib.parse.quote(revision, safe='')}/{urllib.parse.quote(filename)}"
    opener = urllib.request.build_opener(_NoRedirects())
    commit = ""
    for _redirect in range(5):
        try:
            response = opener.open(_request(url, method="HEAD", token=token), timeout=timeout)
            headers, status = response.headers, response.status
            response.close()
        except urllib.error.HTTPError as exc:
            headers, status = exc.headers, exc.code
            exc.close()
        commit = commit or headers.get("X-Repo-Commit", "")
        location = headers.get("Location", "")
        if 300 <= status < 400 and location and not urllib.parse.urlsplit(location).netloc:
            url = urllib.parse.urljoin(url, location)  # renamed repo: ask again there
            continue
        if status >= 400:
            raise HttpStatusError(status, status_message(status, what))
        break
    else:
        raise NetworkError(_("The Hub sent too many redirects for {what}.").format(what=what))
    linked = strip_etag(headers.get("X-Linked-Etag"))
    # Content-Length of a redirect is the redirect's own body, not the file.
    size_text = headers.get("X-Linked-Size") or (headers.get("Content-Length") if status < 300 else "") or "0"
    pinned = commit or revision
    return RemoteFile(
        download_url=f"{base}/{repo}/resolve/{urllib.parse.quote(pinned, safe='')}/{urllib.parse.quote(filename)}",
        size=int(size_text) if size_text.isdigit() else 0,
        sha256=linked.lower() if SHA256_HEX.match(linked.lower()) else "",
        revision=commit,
    )


def get_json(url: str, token: str = "", timeout: float = 20.0, what: str = "") -> Any:
    """GET a JSON document (Hub API calls). Every failure is a NetworkError with a sentence
    naming `what` (by default "the list of models")."""
    what = what or _("the list of models")
    try:
        with open_url(url, headers={"Accept": "application/json"}, token=token, timeout=timeout, what=what) as response:
            return json.loads(response.read().decode("utf-8"))
    except TRANSIENT_ERRORS as exc:
        raise NetworkError(describe_failure(exc, what)) from exc
    except ValueError as exc:
        raise NetworkError(
            _("The server sent something that is not {what}. Check the Hub address in Settings.").format(what=what)
        ) from exc


def is_unreachable(exc: BaseException) -> bool:
    """No route to the server at all (offline, wrong address): retrying will not help."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or (
        isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)
    )


def describe_failure(exc: BaseException, what: str) -> str:
    """A sentence for a network failure that is not an HTTP status."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return _("The server stopped answering while getting {what}. Check the connection and try again.").format(what=what)
    if is_unreachable(exc):
        return _(
            "Hearth could not reach the server for {what}. "
            "This computer seems to be offline, or the address is wrong."
        ).format(what=what)
    return _("The connection was lost while getting {what}. Check the connection and try again.").format(what=what)
