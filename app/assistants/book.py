"""The assistants a user can choose: the built-ins, and the user's own saved as files in
the data folder (`AppPaths.assistants_dir`, one `<id>.json` each).

A user's file with a built-in's id is the user's edited copy of it: it is shown instead of
the built-in, and deleting it brings the built-in back. Reading is a few small files (a
handful of kilobytes); the window still does it off the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.assistants.built_ins import BUILT_IN_IDS, BUILT_INS
from app.assistants.file_format import FILE_SUFFIX, read_file, write_file
from app.assistants.model import ID_PATTERN, PLAIN_HELPER_ID, Assistant, AssistantError, checked, new_id
from app.platform.i18n import _

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shelf:
    """What the book held when it was read: every assistant, built-ins first, and a plain
    sentence for each file that could not be used (those are left out, never deleted)."""

    assistants: tuple[Assistant, ...]
    problems: tuple[str, ...] = field(default=())

    def get(self, assistant_id: str) -> Assistant | None:
        return next((a for a in self.assistants if a.id == assistant_id), None)

    def default(self, assistant_id: str) -> Assistant:
        """The assistant a new chat starts from: `assistant_id` (the setting), or the Plain
        helper when there is none by that id."""
        found = self.get(assistant_id) or self.get(PLAIN_HELPER_ID)
        assert found is not None  # a built-in, or the user's copy of it
        return found

    def edited_built_in(self, assistant_id: str) -> bool:
        """`assistant_id` is a built-in that the user changed (deleting the copy restores it)."""
        found = self.get(assistant_id)
        return assistant_id in BUILT_IN_IDS and found is not None and not found.built_in


class AssistantBook:
    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def _file(self, assistant_id: str) -> Path:
        if not ID_PATTERN.fullmatch(assistant_id):
            raise AssistantError(_("There is no assistant “{id}”.").format(id=assistant_id))
        return self._folder / f"{assistant_id}{FILE_SUFFIX}"

    def read(self) -> Shelf:
        """Every assistant, the built-ins first (or the user's copies of them), then the
        user's own by name."""
        own: dict[str, Assistant] = {}
        problems: list[str] = []
        files = sorted(self._folder.glob(f"*{FILE_SUFFIX}")) if self._folder.is_dir() else []
        for path in files:
            try:
                assistant = read_file(path)
            except AssistantError as exc:
                log.warning("assistants: %s", exc)
                problems.append(str(exc))
                continue
            if assistant.id != path.stem:  # renamed by hand: the file name is what Delete removes
                assistant = checked(replace(assistant, id=path.stem))
            own[assistant.id] = assistant
        built_ins = [own.pop(a.id, a) for a in BUILT_INS]
        return Shelf((*built_ins, *sorted(own.values(), key=lambda a: a.name.casefold())), tuple(problems))

    def get(self, assistant_id: str) -> Assistant | None:
        """One assistant, reading at most its own file; None when there is none by that id
        (or its file cannot be used: the built-in then, where there is one)."""
        built_in = next((a for a in BUILT_INS if a.id == assistant_id), None)
        try:
            path = self._file(assistant_id)
        except AssistantError:
            return None
        if not path.is_file():
            return built_in
        try:
            return checked(replace(read_file(path), id=assistant_id))
        except AssistantError as exc:
            log.warning("assistants: %s", exc)
            return built_in

    def save(self, assistant: Assistant) -> Assistant:
        """Save the user's own `assistant` (a built-in's id: the user's copy of it)."""
        own = checked(assistant.as_users() if assistant.built_in else assistant)
        write_file(own, self._file(own.id))
        return own

    def duplicate(self, assistant: Assistant) -> Assistant:
        """A new assistant of the user's, like `assistant`, saved."""
        name = _("{name} (copy)").format(name=assistant.shown_name)
        return self.save(assistant.as_users(id=new_id(name), name=name))

    def delete(self, assistant_id: str) -> None:
        """Delete the user's own assistant; for an edited built-in, the user's copy (the
        built-in is back). A built-in itself cannot be deleted."""
        path = self._file(assistant_id)
        if not path.is_file():
            if assistant_id in BUILT_IN_IDS:
                raise AssistantError(_("The assistants that come with Hearth cannot be deleted; "
                                       "you can duplicate one and change the copy."))
            return
        try:
            path.unlink()
        except OSError as exc:
            raise AssistantError(_("The assistant could not be deleted ({reason}).").format(reason=exc.strerror or exc)) from exc

    def export(self, assistant: Assistant, path: Path) -> None:
        write_file(assistant, path)

    def import_file(self, path: Path) -> Assistant:
        """Save the assistant in the file at `path` as the user's own, and return it. It
        keeps its id unless another assistant has it; then it gets a new one, so an import
        never overwrites. A bad file raises AssistantError and nothing is saved."""
        imported = read_file(path)
        existing = self.get(imported.id)
        if existing is not None:
            if existing.as_users() == imported:
                return existing  # the same assistant imported again: nothing new
            imported = replace(imported, id=new_id(imported.name))
        return self.save(imported)
