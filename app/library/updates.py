"""Which downloaded models have a newer revision, in the catalog or on the Hub.

Only run when the user asks ("Check for updates"): it contacts the Hub once per
downloaded model. An update is downloaded as a second version; the installed
one stays usable until the new one is verified, and the user removes either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.library import network
from app.library.catalog import CatalogModel, find_in_catalog
from app.library.model_library import ModelEntry
from app.library.network import RemoteFile
from app.platform.errors import HearthError
from app.platform.i18n import _

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    model_id: str
    repo: str
    repo_file: str
    revision: str
    where: str  # "Hub" or "catalog"


def find_updates(
    entries: list[ModelEntry],
    catalog: list[CatalogModel],
    resolve: Callable[[str, str], RemoteFile] | None = None,
) -> dict[str, Update]:
    """Updates by model id. `resolve(repo, file)` asks the Hub; None checks the catalog only."""
    installed = {e.sha256 for e in entries}
    newest_revision = _newest_per_file(entries)
    updates: dict[str, Update] = {}
    answered, failure = 0, None
    for entry in entries:
        if not entry.repo or newest_revision[(entry.repo, entry.repo_file)] is not entry:
            continue  # not from the Hub, or an older version kept beside a newer one
        listed = find_in_catalog(catalog, entry.repo, entry.repo_file)
        # A pinned catalog entry (revision and sha256) whose file is installed, got at
        # another commit, is no update: the bytes are the same.
        same_file = listed is not None and bool(listed.sha256) and listed.sha256 == entry.sha256
        if listed is not None and listed.revision and listed.revision != entry.revision and not same_file:
            updates[entry.id] = Update(entry.id, entry.repo, entry.repo_file, listed.revision, "catalog")
        if resolve is None:
            continue
        try:
            remote = resolve(entry.repo, entry.repo_file)
        except (HearthError, *network.TRANSIENT_ERRORS) as exc:  # type: ignore[misc]  # a tuple of exception types
            log.info("update check for %s failed: %s", entry.id, exc)
            failure = exc
            continue
        answered += 1
        if remote.revision and remote.revision != entry.revision and remote.sha256 and remote.sha256 not in installed:
            updates[entry.id] = Update(entry.id, entry.repo, entry.repo_file, remote.revision, "Hub")
    if failure is not None and not answered:
        text = str(failure) if isinstance(failure, HearthError) else network.describe_failure(failure, _("updates"))
        raise network.NetworkError(text)
    return updates


def _newest_per_file(entries: list[ModelEntry]) -> dict[tuple[str, str], ModelEntry]:
    newest: dict[tuple[str, str], ModelEntry] = {}
    for entry in sorted(entries, key=lambda e: e.added_at):
        newest[(entry.repo, entry.repo_file)] = entry
    return newest
