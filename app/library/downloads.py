"""Resumable, verified model downloads.

Each download is a pair of files in the models folder's `.downloads`: the job
(JSON) and the bytes so far (`.part`). They outlive the app, so a download
closed, crashed or cut off goes on from where it stopped with an HTTP Range
request (`If-Range` on the ETag, so a changed file starts over instead of being
spliced). The sha256 is computed while writing; a model joins the library only
when it matches, and a mismatching file is set aside, never used.
"""

from __future__ import annotations

import enum
import hashlib
import http.client
import json
import logging
import re
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.library import network
from app.library.catalog import CatalogModel
from app.library.model_library import DISK_MARGIN, ModelEntry, ModelLibrary, ensure_free_space, hash_file
from app.platform.atomic import write_atomically
from app.platform.errors import HearthError, ModelFileError, StorageError
from app.platform.hashing import ParallelHasher
from app.platform.i18n import N_, _

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)
# While writing, the free space is checked before each 4 MB: a statvfs costs ~2 µs, and the
# next 4 MB must fit above DISK_MARGIN, so the margin holds even without a Content-Length.
SPACE_CHECK_EVERY = 4 * 1024 * 1024


class DownloadError(HearthError):
    """A download that stopped for good; the text says why and what to do."""


class ChecksumMismatch(DownloadError):
    pass


@dataclass
class DownloadJob:
    """Everything needed to start or resume one download."""

    id: str
    url: str  # a direct http(s) URL, or empty until a Hub file is resolved
    file_name: str
    name: str = ""
    repo: str = ""
    repo_file: str = ""
    revision: str = "main"
    expected_sha256: str = ""  # pinned by the user or the catalog
    hub_sha256: str = ""  # what the Hub says
    size: int = 0
    etag: str = ""  # the server's ETag (or Last-Modified without one), for If-Range on resume
    license: str = ""
    source: str = ""
    created_at: float = field(default_factory=time.time)

    @property
    def label(self) -> str:
        return self.name or self.file_name

    def is_same_file(self, other: DownloadJob) -> bool:
        if self.repo or other.repo:
            return (self.repo, self.repo_file) == (other.repo, other.repo_file)
        return self.source == other.source


class Phase(enum.StrEnum):
    """What a download is doing. The values are identities; `label` is what a person reads."""

    RESOLVING = "resolving"  # asking the Hub which file, size and checksum
    CHECKING = "checking"  # hashing what an earlier run left
    DOWNLOADING = "downloading"
    WAITING = "waiting"  # to try again after a failure
    VERIFYING = "verifying"  # comparing the checksum

    @property
    def label(self) -> str:
        return _(_PHASE_LABELS[self])


_PHASE_LABELS = {
    Phase.RESOLVING: N_("Asking the server about the file…"),
    Phase.CHECKING: N_("Checking what was already downloaded…"),
    Phase.DOWNLOADING: N_("Downloading"),
    Phase.WAITING: N_("Waiting to try again…"),
    Phase.VERIFYING: N_("Checking the file…"),
}


@dataclass(frozen=True)
class Progress:
    phase: Phase
    done: int
    total: int
    speed: float = 0.0  # bytes per second
    message: str = ""

    @property
    def seconds_left(self) -> float | None:
        if self.speed <= 0 or self.total <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.speed)

    def summary(self) -> str:
        """One line for a person: '45% · 44.1 of 98.4 MB · 12.3 MB/s · 4 s left'."""
        if self.message:
            return self.message
        if self.phase is Phase.CHECKING:
            return f"{self.phase.label} {_percent(self.done, self.total)}"
        if self.phase is not Phase.DOWNLOADING:
            return self.phase.label
        done, total = f"{self.done / 1e6:,.1f}", f"{self.total / 1e6:,.1f}"
        parts = [_("{done} of {total} MB").format(done=done, total=total) if self.total else _("{done} MB").format(done=done)]
        if self.total:
            parts.insert(0, _percent(self.done, self.total))
        if self.speed:
            parts.append(_("{speed} MB/s").format(speed=f"{self.speed / 1e6:,.1f}"))
        left = self.seconds_left
        if left is not None:
            parts.append(_("{time} left").format(time=duration(left)))
        return " · ".join(parts)


def _percent(done: int, total: int) -> str:
    return f"{100 * done // total}%" if total else ""


def duration(seconds: float) -> str:
    """'4 s', '12 min', '1 h 5 min'."""
    if seconds < 60:
        return _("{seconds} s").format(seconds=f"{seconds:.0f}")
    if seconds < 3600:
        return _("{minutes} min").format(minutes=f"{seconds / 60:.0f}")
    return _("{hours} h {minutes} min").format(hours=int(seconds // 3600), minutes=int(seconds % 3600 // 60))


ProgressCallback = Callable[[Progress], None]


def pinned_sha256(text: str) -> str:
    """A checksum a person gave (--sha256, a catalog entry), checked for form before anything
    is downloaded: before, `--sha256 notahash` fetched the whole file and then complained."""
    pin = text.strip().lower()
    if pin and not network.SHA256_HEX.fullmatch(pin):
        raise DownloadError(_(
            "'{value}' is not a sha256 checksum: a checksum is 64 letters and digits (0-9 and a-f). "
            "Copy it again from where the model is described."
        ).format(value=text))
    return pin


def job_for_url(url: str, sha256: str = "", name: str = "") -> DownloadJob:
    file_name = Path(urllib.parse.urlsplit(url).path).name or "model.gguf"
    return DownloadJob(
        id=uuid.uuid4().hex[:12], url=url, file_name=file_name, name=name or Path(file_name).stem,
        expected_sha256=pinned_sha256(sha256), source=url,
    )


def job_for_hub(
    repo: str, repo_file: str, revision: str = "main", sha256: str = "", name: str = "", license_name: str = ""
) -> DownloadJob:
    return DownloadJob(
        id=uuid.uuid4().hex[:12], url="", file_name=Path(repo_file).name, name=name or Path(repo_file).stem,
        repo=repo, repo_file=repo_file, revision=revision, expected_sha256=pinned_sha256(sha256),
        license=license_name, source=f"Hugging Face {repo}",
    )


def _range_start(response: http.client.HTTPResponse) -> int:
    """The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`."""
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else -1


def job_for_catalog(model: CatalogModel, sha256: str = "") -> DownloadJob:
    return job_for_hub(
        model.repo, model.file, model.revision or "main", sha256=sha256 or model.sha256, name=model.name,
        license_name=model.license,
    )


class Downloader:
    """Runs download jobs; one call of `run` at a time per job."""

    def __init__(
        self,
        library: ModelLibrary,
        endpoint: str = "",
        token: Callable[[], str] = lambda: "",
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = 30.0,
    ) -> None:
        self.library = library
        self.folder = library.models_dir / ".downloads"
        self.endpoint = endpoint
        self._token = token
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout

    # -- the queue on disk ---------------------------------------------------

    def save(self, job: DownloadJob) -> None:
        try:
            write_atomically(self._job_file(job), json.dumps(asdict(job), indent=1).encode("utf-8"))
        except OSError as exc:
            raise StorageError(_("The download list could not be saved ({reason}).").format(reason=exc.strerror or exc)) from exc

    def pending(self) -> list[DownloadJob]:
        """Unfinished downloads, oldest first."""
        jobs = [job for path in self.folder.glob("*.json") if (job := self._read(path)) is not None]
        return sorted(jobs, key=lambda job: job.created_at)

    def latest(self, job: DownloadJob) -> DownloadJob:
        """The job as last saved (with the URL, size and ETag a run found), else `job`."""
        return self._read(self._job_file(job)) or job

    @staticmethod
    def _read(path: Path) -> DownloadJob | None:
        try:
            return DownloadJob(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable download job %s: %s", path, exc)
            return None

    def bytes_on_disk(self, job: DownloadJob) -> int:
        try:
            return self._part_file(job).stat().st_size
        except OSError:
            return 0

    def discard(self, job: DownloadJob) -> None:
        """Cancel: forget the job and delete what was downloaded."""
        self._part_file(job).unlink(missing_ok=True)
        self._job_file(job).unlink(missing_ok=True)

    def _job_file(self, job: DownloadJob) -> Path:
        return self.folder / f"{job.id}.json"

    def _part_file(self, job: DownloadJob) -> Path:
        return self.folder / f"{job.id}.part"

    # -- running -------------------------------------------------------------

    def run(self, job: DownloadJob, progress: ProgressCallback, stop: threading.Event) -> ModelEntry | None:
        """Download, verify and add `job`'s model. Returns None when `stop` was set
        (paused or cancelled); the bytes so far stay on disk for a resume."""
        hashed = ParallelHasher()
        try:
            self.save(job)
            return self._run_with_retries(job, progress, stop, hashed)
        except OSError as exc:  # the disk, not the network (those are retried or explained)
            raise StorageError(_(
                "{model} could not be saved on this computer ({reason}). "
                "Check that the disk is not full, then resume the download."
            ).format(model=job.label, reason=exc.strerror or exc)) from exc
        finally:
            hashed.finish()

    def _run_with_retries(
        self, job: DownloadJob, progress: ProgressCallback, stop: threading.Event, hashed: ParallelHasher
    ) -> ModelEntry | None:
        """Retry with backoff. The count starts again whenever a try brought bytes, so a
        long download survives any number of separate drops."""
        attempt = 0
        while True:
            before = hashed.length
            try:
                return self._attempt(job, progress, stop, hashed)
            except network.HttpStatusError as exc:
                if not exc.retryable:
                    raise DownloadError(str(exc)) from exc
                reason = str(exc)
            except network.TRANSIENT_ERRORS as exc:
                if network.is_unreachable(exc) and not hashed.length:
                    # Offline from the start: say so now rather than after a minute of retries.
                    raise DownloadError(network.describe_failure(exc, job.label)) from exc
                reason = network.describe_failure(exc, job.label)
            if hashed.length > before:
                attempt = 0
            if attempt >= len(self.retry_delays):
                raise DownloadError(_("{reason} What was downloaded is kept; resume it later.").format(reason=reason))
            delay = self.retry_delays[attempt]
            attempt += 1
            log.info("download %s: retry %d in %.0f s: %s", job.id, attempt, delay, reason)
            waiting = _("{reason} Trying again in {seconds} s.").format(reason=reason, seconds=f"{delay:.0f}")
            progress(Progress(Phase.WAITING, self.bytes_on_disk(job), job.size, message=waiting))
            if stop.wait(delay):
                return None

    def _attempt(
        self, job: DownloadJob, progress: ProgressCallback, stop: threading.Event, hashed: ParallelHasher
    ) -> ModelEntry | None:
        if job.repo and not job.url:
            progress(Progress(Phase.RESOLVING, 0, 0))
            remote = network.resolve_hub_file(job.repo, job.repo_file, job.revision, self.endpoint, self._token(), self.timeout)
            job.url, job.size, job.hub_sha256 = remote.download_url, remote.size, remote.sha256
            job.revision = remote.revision or job.revision
            self._check_hashes_agree(job)
            self.save(job)
        part = self._part_file(job)
        have = self.bytes_on_disk(job)
        if job.size and have > job.size:
            part.unlink()
            have = 0
        if hashed.length != have:  # bytes a previous run left: hash them first
            digest = hash_file(part, have, lambda done, total: progress(Progress(Phase.CHECKING, done, total)), stop)
            if digest is None:
                return None
            hashed.restart(digest, have)
        self._check_free_space(job, have)
        if not (job.size and have == job.size) and not self._fetch(job, part, hashed, progress, stop):
            return None
        return self._finish(job, part, hashed.digest(), progress)

    def _check_hashes_agree(self, job: DownloadJob) -> None:
        if job.expected_sha256 and job.hub_sha256 and job.expected_sha256 != job.hub_sha256:
            raise ChecksumMismatch(_(
                "{model} on the Hub is not the file Hearth expected (its checksum differs). "
                "It was not downloaded. The catalog or the repository may have changed."
            ).format(model=job.label))

    def _check_free_space(self, job: DownloadJob, have: int) -> None:
        if job.size:
            ensure_free_space(self.folder, job.size - have, job.label)

    def _check_room_to_write(self, job: DownloadJob, done: int) -> None:
        """Room for the next stretch (the rest of the file where its size is known and less)."""
        stretch = min(SPACE_CHECK_EVERY, job.size - done) if job.size and done < job.size else SPACE_CHECK_EVERY
        if shutil.disk_usage(self.folder).free < stretch + DISK_MARGIN:
            raise StorageError(_(
                "{model} was stopped because the disk is almost full. Hearth keeps {margin} MB free "
                "so that your conversations can still be saved. Free some space, then resume the download."
            ).format(model=job.label, margin=DISK_MARGIN // (1024 * 1024)))

    def _fetch(
        self,
        job: DownloadJob,
        part: Path,
        hashed: ParallelHasher,
        progress: ProgressCallback,
        stop: threading.Event,
    ) -> bool:
        have = hashed.length
        # Always a Range, even from 0: the Hub's CDN bridge refuses some unranged GETs of
        # very large files. Identity encoding: a compressed answer ignores Range.
        headers = {"Accept-Encoding": "identity", "Range": f"bytes={have}-"}
        if have and job.etag and not job.etag.startswith("W/"):
            headers["If-Range"] = job.etag  # a changed file comes whole, not spliced
        response = network.open_url(
            job.url, headers=headers, token=self._token() if job.repo else "", timeout=self.timeout, what=job.label
        )
        with response:
            if have and (response.status != 206 or _range_start(response) != have):
                log.info("download %s: no usable range answer (status %d); starting over", job.id, response.status)
                hashed.restart()
                if response.status == 206:  # a range from the wrong place: ask again from 0
                    part.unlink(missing_ok=True)
                    response.close()  # not held open while the whole file comes again
                    return self._fetch(job, part, hashed, progress, stop)
                have = 0
            length = response.headers.get("Content-Length")
            if length and length.isdigit():
                total = have + int(length)
                if job.size and total != job.size:
                    log.warning("download %s: server says %d bytes, expected %d", job.id, total, job.size)
                job.size = total
            job.etag = response.headers.get("ETag") or response.headers.get("Last-Modified") or job.etag
            self.save(job)
            self._check_free_space(job, have)
            return self._copy_body(job, response, part, hashed, progress, stop)

    def _copy_body(
        self,
        job: DownloadJob,
        response: http.client.HTTPResponse,
        part: Path,
        hashed: ParallelHasher,
        progress: ProgressCallback,
        stop: threading.Event,
    ) -> bool:
        have = hashed.length
        started, last_report, done = time.monotonic(), 0.0, have
        next_check = done
        try:
            with part.open("r+b" if have else "wb") as out:
                out.seek(have)
                out.truncate()
                while True:
                    if stop.is_set():
                        return False
                    block = response.read1(CHUNK)
                    if not block:
                        break
                    if done >= next_check:  # an endless body must not eat the store's margin
                        self._check_room_to_write(job, done)
                        next_check = done + SPACE_CHECK_EVERY
                    out.write(block)
                    hashed.add(block)
                    done += len(block)
                    now = time.monotonic()
                    if now - last_report >= 0.2:
                        last_report = now
                        speed = (done - have) / max(now - started, 1e-3)
                        progress(Progress(Phase.DOWNLOADING, done, job.size, speed))
        except OSError as exc:
            if isinstance(exc, network.TRANSIENT_ERRORS):
                raise
            raise StorageError(_(
                "{model} could not be written to disk ({reason}). "
                "Free some space, then resume the download."
            ).format(model=job.label, reason=exc.strerror or exc)) from exc
        if job.size and done < job.size:
            raise ConnectionError(f"connection closed after {done} of {job.size} bytes")
        return True

    def _finish(self, job: DownloadJob, part: Path, digest: hashlib._Hash, progress: ProgressCallback) -> ModelEntry:
        size = part.stat().st_size
        progress(Progress(Phase.VERIFYING, size, size))
        actual = digest.hexdigest()
        wanted = job.expected_sha256 or job.hub_sha256
        if wanted and actual != wanted:
            rejected = self.folder / f"{job.id}.rejected"
            part.replace(rejected)
            self._job_file(job).unlink(missing_ok=True)
            raise ChecksumMismatch(_(
                "{model} arrived damaged or is not the expected file (its checksum does not match), "
                "so it was not added. Try the download again. The damaged file was set aside as {file}; "
                "delete it to free the space."
            ).format(model=job.label, file=rejected))
        try:
            entry = self.library.add_verified(
                part,
                file_name=job.file_name,
                sha256=actual,
                source=job.source,
                license_name=job.license,
                name=job.name,
                repo=job.repo,
                repo_file=job.repo_file,
                revision=job.revision,
                url=job.url,
            )
        except ModelFileError:
            part.unlink(missing_ok=True)
            self._job_file(job).unlink(missing_ok=True)
            raise
        self._job_file(job).unlink(missing_ok=True)
        return entry
