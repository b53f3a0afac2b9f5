"""`hearth docs`: collections of the user's documents, indexed and searched from the command line."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from app.backends.base import Backend, BackendFactory
from app.chat.grounding import DocumentGrounder, Grounding, excerpt
from app.config.policy import Policy
from app.config.settings import load_settings
from app.documents.blocks import place_label
from app.documents.embedder_loading import LoadedEmbedder, chosen_embedder, embedder_that_built, load_embedder
from app.documents.embedders import Embedder
from app.documents.index import Collection, DocumentIndex
from app.documents.indexer import Indexer, IndexProgress
from app.documents.retrieve import Retriever
from app.library.model_library import ModelEntry, ModelLibrary, sha256_of
from app.platform.crash_marker import CrashMarker
from app.platform.errors import HearthError, StorageError
from app.platform.i18n import _
from app.platform.paths import AppPaths

# What a passage shows of its text in the terminal.
PASSAGE_CHARS = 400


def add_docs_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    docs = commands.add_parser("docs", help=_("your documents: collections to search and ask about"))
    sub = docs.add_subparsers(dest="docs_command", required=True)
    create = sub.add_parser("create", help=_("make an empty collection"))
    create.add_argument("name")
    add = sub.add_parser("add", help=_("add files or folders to a collection (made if it does not exist)"))
    add.add_argument("name")
    add.add_argument("paths", nargs="+", type=Path)
    index = sub.add_parser("index", help=_("read, chunk and embed what changed in a collection (progress on stderr)"))
    index.add_argument("name")
    search = sub.add_parser("search", help=_("print the passages of a collection that answer a question"))
    search.add_argument("name")
    search.add_argument("question", nargs="+")
    search.add_argument("--limit", type=int, default=6, help=_("at most this many passages (default 6)"))
    for command in (index, search):
        command.add_argument("--embedder", help=_("an embedding model: a .gguf file or an installed model's id"))
    listing = sub.add_parser("list", help=_("show the collections, or one collection's files and their problems"))
    listing.add_argument("name", nargs="?")
    remove = sub.add_parser("rm", help=_("delete a collection and its index, or only some of its files or folders"))
    remove.add_argument("name")
    remove.add_argument("paths", nargs="*", type=Path)


def run_docs(args: argparse.Namespace, paths: AppPaths, policy: Policy, backend_factory: BackendFactory) -> int:
    index = DocumentIndex(paths.documents_index)
    try:
        command = args.docs_command
        if command == "create":
            index.create_collection(args.name)
            print(_("Made the collection “{name}”.").format(name=args.name))
            return 0
        if command == "add":
            return _add(index, args.name, args.paths)
        if command == "list":
            return _list(index, args.name)
        if command == "rm":
            return _remove(index, args.name, args.paths)
        collection = index.collection(args.name)
        backend = None
        try:
            backend, embedder = _embedder(args.embedder, collection, paths, policy, backend_factory, command == "search")
            if command == "index":
                return _index(index, collection, embedder)
            return _search(index, collection, embedder, " ".join(args.question), args.limit)
        finally:
            if backend is not None:
                backend.unload()
    finally:
        index.close()


def _add(index: DocumentIndex, name: str, sources: list[Path]) -> int:
    try:
        collection = index.collection(name)
    except StorageError:
        collection = index.create_collection(name)
    for source in sources:
        if not source.exists():
            raise HearthError(_("{path}: there is no such file or folder").format(path=source))
        index.add_source(collection, source.resolve())
    print(_("Added to “{name}”. Run 'hearth docs index {name}' to read them.").format(name=name))
    return 0


def _list(index: DocumentIndex, name: str | None) -> int:
    if name is None:
        for collection in index.collections():
            files = index.files(collection)
            print(_("{name}: {files} files, {chunks} passages").format(name=collection.name, files=len(files), chunks=index.chunk_count(collection)))
        return 0
    collection = index.collection(name)
    for source in index.sources(collection):
        print(_("added: {path}").format(path=source))
    for path, record in sorted(index.files(collection).items()):
        state = "" if record.complete else " " + _("(not finished)")
        problem = f" — {record.problem}" if record.problem else ""
        print(f"  {path}{state}{problem}")
    return 0


def _remove(index: DocumentIndex, name: str, sources: list[Path]) -> int:
    collection = index.collection(name)
    if not sources:
        index.remove_collection(collection)
        print(_("Deleted the collection “{name}” and its index.").format(name=name))
        return 0
    for source in sources:
        if not index.remove_source(collection, source.resolve()):
            raise HearthError(_("{path} was not added to “{name}”.").format(path=source, name=name))
    print(_("Removed. The next 'hearth docs index {name}' drops their passages.").format(name=name))
    return 0


def _embedder(
    choice: str | None, collection: Collection, paths: AppPaths, policy: Policy, backend_factory: BackendFactory,
    searching: bool,
) -> tuple[Backend | None, Embedder | None]:
    """The embedding model asked for, or the one that built the collection; none at all
    gives keyword search only (and says what a model would add). A search with another
    model than the collection's is refused: its vectors would match nothing."""
    library = ModelLibrary(paths.models_dir)
    settings = policy.apply(load_settings(paths.settings_file))
    if choice and Path(choice).suffix.lower() == ".gguf":
        model_path, identity = Path(choice), sha256_of(Path(choice))
        names: tuple[str, ...] = (model_path.stem, model_path.name)
    else:
        entry = chosen_embedder(library, choice or settings.documents.embedder, collection.embedder)
        if entry is None and collection.embedder:
            raise HearthError(_("The embedding model that indexed “{name}” is not installed: give one with --embedder.").format(name=collection.name))
        if entry is None:
            print("hearth: " + _(
                "No embedding model: keyword search only. With one (--embedder), Hearth also finds passages that say the same in other words."
            ), file=sys.stderr)
            return None, None
        model_path, identity, names = library.file_of(entry), entry.sha256, entry.names
    if choice and searching and collection.embedder and identity != collection.embedder:
        raise HearthError(_(
            "“{name}” was indexed with another embedding model, so {model} cannot search it by meaning. "
            "Leave out --embedder to use the one it was indexed with, or index it again with this one."
        ).format(name=collection.name, model=model_path.name))
    if not policy.allows(*names):
        raise HearthError(_("Your administrator does not allow the model {model} on this computer.").format(model=model_path.name))
    backend = backend_factory.create(CrashMarker(paths.crash_markers))
    return backend, load_embedder(backend, model_path, identity, settings.engine)


def _index(index: DocumentIndex, collection: Collection, embedder: Embedder | None) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_signal: stop.set())
    signal.signal(signal.SIGTERM, lambda *_signal: stop.set())

    def show(progress: IndexProgress) -> None:
        left = "" if progress.seconds_left is None else " " + _("about {minutes} min left").format(minutes=round(progress.seconds_left / 60, 1))
        line = _("{done}/{total} files, {chunks} passages").format(done=progress.files_done, total=progress.files_total, chunks=progress.chunks_done)
        print(f"\r{line}{left}   ", end="", file=sys.stderr, flush=True)

    outcome = Indexer(index, embedder).run(collection, should_stop=stop.is_set, on_progress=show)
    print(file=sys.stderr)
    for problem in outcome.problems:
        print(f"hearth: {problem}", file=sys.stderr)
    if outcome.stopped:
        print(_("Stopped; the next 'hearth docs index {name}' goes on from here.").format(name=collection.name), file=sys.stderr)
        return 130
    print(_("{indexed} files read, {unchanged} unchanged, {removed} removed; {chunks} passages added.").format(
        indexed=outcome.indexed, unchanged=outcome.unchanged, removed=outcome.removed, chunks=outcome.chunks))
    if outcome.embedded_again:
        print(_("The passages of {files} unchanged files were embedded again with the new embedding model.").format(
            files=outcome.embedded_again))
    return 0


def _search(index: DocumentIndex, collection: Collection, embedder: Embedder | None, question: str, limit: int) -> int:
    passages = Retriever(index, embedder).search(collection, question, limit)
    if not passages:
        print(_("Nothing in “{name}” matches.").format(name=collection.name))
        return 1
    for passage in passages:
        place = place_label(passage.chunk.kind, passage.chunk.number, passage.chunk.headings)
        where = f"{passage.chunk.path.name}, {place}" if place else passage.chunk.path.name
        _print_passage(passage.rank, where, passage.chunk.headings, passage.chunk.text)
    return 0


def _print_passage(number: int, where: str, headings: tuple[str, ...], text: str, words: tuple[str, ...] = ()) -> None:
    print(f"[{number}] {where}" + (f" — {' > '.join(headings)}" if headings else ""))
    print("    " + excerpt(text, words, PASSAGE_CHARS))


class AskDocuments:
    """`hearth ask --docs NAME`: the collections a question is answered from, with the
    embedding model that built each loaded in a backend of its own, on this thread."""

    def __init__(self, names: list[str], paths: AppPaths, policy: Policy, backend_factory: BackendFactory) -> None:
        self.names = list(dict.fromkeys(names))
        self.index = DocumentIndex(paths.documents_index)
        self._library = ModelLibrary(paths.models_dir)
        self._engine = policy.apply(load_settings(paths.settings_file)).engine
        self._policy = policy
        self._embedders = LoadedEmbedder(lambda: backend_factory.create(CrashMarker(paths.crash_markers)))
        try:
            collections = [self.index.collection(name) for name in self.names]
        except StorageError:
            self.close()
            raise
        for collection in collections:
            if collection.embedder and self._entry(collection) is None:
                print("hearth: " + _(
                    "The embedding model that indexed “{name}” is not installed: its passages are found by their words only."
                ).format(name=collection.name), file=sys.stderr)
        self.grounder = DocumentGrounder(lambda: self.index, self._embedder_for)

    def _entry(self, collection: Collection) -> ModelEntry | None:
        return embedder_that_built(self._library, self._policy, collection.embedder)

    def _embedder_for(self, collection: Collection) -> Embedder | None:
        entry = self._entry(collection)
        if entry is None:
            return None
        return self._embedders.get(self._library.file_of(entry), entry.sha256, self._engine)

    def print_sources(self, grounding: Grounding) -> None:
        for name in grounding.missing:
            print("hearth: " + _("There is no collection “{name}” any more.").format(name=name), file=sys.stderr)
        if not grounding.sources:
            print(_("Sources: nothing in {names} matches the question.").format(names=", ".join(self.names)))
            return
        print(_("Sources (all of {names} was read):").format(names=", ".join(self.names)) if grounding.whole else _("Sources:"))
        for source in grounding.sources:
            _print_passage(source.number, source.where, source.headings, source.text, source.words)

    def close(self) -> None:
        self._embedders.unload()
        self.index.close()
