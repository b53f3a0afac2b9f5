"""`hearth models ...` and `hearth pack ...`: the model library from the command line (no Qt)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from app.config.policy import Policy
from app.config.settings import load_settings
from app.library import hub_search
from app.library.catalog import load_catalog
from app.library.downloads import Downloader, DownloadJob, Phase, Progress, job_for_catalog, job_for_hub, job_for_url
from app.library.model_library import ModelLibrary, embedding_model_note
from app.library.packs import PackFile, export_pack, import_pack
from app.modelfile.gguf_info import EMBEDDING_ARCHITECTURES, read_gguf_info
from app.platform.errors import HearthError
from app.platform.i18n import _, ngettext
from app.platform.paths import AppPaths
from app.platform.secrets import TokenStore


def add_model_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser("models", help=_("the model library"))
    sub = models.add_subparsers(dest="models_command", required=True)
    sub.add_parser("list", help=_("show the installed models"))
    search = sub.add_parser("search", help=_("search the Hugging Face Hub for GGUF models"))
    search.add_argument("query")
    pull = sub.add_parser("pull", help=_("download a model; run it again to resume"))
    pull.add_argument("what", metavar="ID_OR_REPO/FILE_OR_URL",
                      help=_("a catalog id, owner/repo/file.gguf, or an http(s) URL"))
    pull.add_argument("--sha256", default="", help=_("refuse the file unless it has this checksum"))
    add = sub.add_parser("import", aliases=["add"], help=_("add a .gguf file to the library"))
    add.add_argument("path", type=Path)
    add.add_argument("--in-place", action="store_true", help=_("use the file where it is, do not copy it"))
    verify = sub.add_parser("verify", help=_("check that model files are whole and unchanged"))
    verify.add_argument("id", nargs="?", help=_("one model (default: all)"))
    remove = sub.add_parser("rm", help=_("remove a model and delete its file"))
    remove.add_argument("id")
    sub.add_parser("add-starter", help=_("add the bundled starter model (SmolLM2-135M-Instruct)"))


def add_pack_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pack = commands.add_parser("pack", help=_("carry models and settings to other computers (a USB stick)"))
    sub = pack.add_subparsers(dest="pack_command", required=True)
    export = sub.add_parser("export", help=_("write a pack folder"))
    export.add_argument("folder", type=Path)
    export.add_argument("--models", nargs="+", required=True, metavar="ID", help=_("the models to include"))
    export.add_argument("--installer", type=Path, help=_("also carry this installer file or folder"))
    export.add_argument("--no-settings", action="store_true", help=_("leave this computer's settings out"))
    load = sub.add_parser("import", help=_("check a pack folder and add its models and settings"))
    load.add_argument("folder", type=Path)


def run_pack(args: argparse.Namespace, paths: AppPaths) -> int:
    library = ModelLibrary(paths.models_dir)
    show = _fraction_printer()
    if args.pack_command == "export":
        settings = None if args.no_settings else load_settings(paths.settings_file)
        files = export_pack(args.folder, library, settings, args.models, args.installer, show)
        sys.stderr.write("\n")
        print(_written(files, args.folder))
        return 0
    result = import_pack(args.folder, library, paths.settings_file, show)
    sys.stderr.write("\n")
    for entry in result.added:
        print(_("Added {model} as '{id}' (checked).").format(model=entry.shown_name, id=entry.id))
    for name in result.already_there:
        print(_("{model} was already installed.").format(model=name))
    if result.settings_applied:
        print(_("The pack's settings were applied."))
    return 0


def _written(files: list[PackFile], folder: Path) -> str:
    """What `hearth pack export` says it wrote: one sentence for each mix of what a pack holds."""
    models = sum(f.kind == "model" for f in files)
    kinds = {f.kind for f in files}
    if {"settings", "installer"} <= kinds:
        sentence = ngettext(
            "Wrote a pack of {count} model and the settings and the installer to {folder} ({size} MB, every file with its sha256).",
            "Wrote a pack of {count} models and the settings and the installer to {folder} ({size} MB, every file with its sha256).",
            models,
        )
    elif "settings" in kinds:
        sentence = ngettext(
            "Wrote a pack of {count} model and the settings to {folder} ({size} MB, every file with its sha256).",
            "Wrote a pack of {count} models and the settings to {folder} ({size} MB, every file with its sha256).",
            models,
        )
    elif "installer" in kinds:
        sentence = ngettext(
            "Wrote a pack of {count} model and the installer to {folder} ({size} MB, every file with its sha256).",
            "Wrote a pack of {count} models and the installer to {folder} ({size} MB, every file with its sha256).",
            models,
        )
    else:
        sentence = ngettext(
            "Wrote a pack of {count} model to {folder} ({size} MB, every file with its sha256).",
            "Wrote a pack of {count} models to {folder} ({size} MB, every file with its sha256).",
            models,
        )
    return sentence.format(count=models, folder=folder, size=f"{sum(f.size for f in files) / 1e6:,.0f}")


def _fraction_printer() -> Callable[[int, int], None]:
    line = _status_line(4)
    return lambda done, total: line(done, total, f"{100 * done // total if total else 100:3d}%  " + _("{done} of {total} MB").format(
        done=f"{done / 1e6:,.0f}", total=f"{total / 1e6:,.0f}"))


def _status_line(steps: int) -> Callable[[int, int, str], None]:
    """On a terminal, rewrite one line; elsewhere (a pipe, a log) print a line each
    1/`steps` of the way."""
    interactive, last = sys.stderr.isatty(), [-1]

    def write(done: int, total: int, text: str) -> None:
        step = steps * done // total if total else steps
        if interactive:
            sys.stderr.write("\r" + text.ljust(70))
        elif step != last[0]:
            sys.stderr.write(text.strip() + "\n")
        last[0] = step

    return write


def run_models(args: argparse.Namespace, paths: AppPaths, policy: Policy) -> int:
    library = ModelLibrary(paths.models_dir)
    command = {"add": "import"}.get(args.models_command, args.models_command)
    if command in ("pull", "search") and not policy.downloads:
        raise HearthError(_("Downloads are turned off by your administrator."))
    if command == "import":
        entry = library.add(args.path, copy=not args.in_place)
        print(_("Added {model} as '{id}'.").format(model=entry.shown_name, id=entry.id))
    elif command == "add-starter":
        entry = library.add_starter()
        print(_("The starter model {model} is installed as '{id}' (license: {license}).").format(
            model=entry.shown_name, id=entry.id, license=entry.license))
    elif command == "rm":
        found = library.get(args.id)
        if found is None:
            raise HearthError(
                _("There is no model '{id}'. Run 'hearth models list' to see what is installed.").format(id=args.id)
            )
        freed = library.remove(args.id)
        if freed:
            print(_("Removed {model}; {size} MB freed.").format(model=found.shown_name, size=f"{freed / 1e6:,.0f}"))
        else:
            print(_("Removed {model}; its file was left where it is.").format(model=found.shown_name))
    elif command == "verify":
        return _verify(library, args.id)
    elif command == "search":
        _search(args.query, paths)
    elif command == "pull":
        return _pull(args.what, args.sha256, library, paths)
    else:
        _list(library)
    return 0


def _list(library: ModelLibrary) -> None:
    entries = library.models()
    if not entries:
        print(_("No models installed. Add one with: hearth models import FILE.gguf"))
    for entry in entries:
        origin = f"{entry.repo}@{entry.revision[:8]}" if entry.repo else entry.source
        size = _("{size} MB").format(size=f"{entry.size / 1e6:,.0f}")
        context = _("context {tokens}").format(tokens=f"{entry.context_length:,}")
        columns = [entry.id, size, entry.architecture, entry.quantization, context, entry.license or _("license unknown"), origin]
        if entry.is_embedding:
            columns.append(_("embedding model, for documents"))
        print("\t".join(columns))


def refuse_embedding_model(library: ModelLibrary, model_path: Path) -> None:
    """`hearth ask` chats: an embedding model (installed, or a file given by its path) is
    refused in a sentence before it is loaded; llama.cpp would fail on it mid-reply."""
    entry = next((m for m in library.models() if library.file_of(m) == model_path), None)
    architecture = entry.architecture if entry is not None else read_gguf_info(model_path).architecture
    if architecture in EMBEDDING_ARCHITECTURES:
        raise HearthError(embedding_model_note(entry.shown_name if entry is not None else model_path.name))


def _verify(library: ModelLibrary, model_id: str | None) -> int:
    entries = library.models() if model_id is None else [e for e in library.models() if e.id == model_id]
    if not entries:
        raise HearthError(_("There is no model '{id}'.").format(id=model_id) if model_id else _("No models are installed."))
    damaged = 0
    for entry in entries:
        problem = library.verify(entry)
        damaged += bool(problem)
        print(f"{entry.id}: {problem or _('OK')}")
    return 1 if damaged else 0


def _search(query: str, paths: AppPaths) -> None:
    endpoint = load_settings(paths.settings_file).library.hub_endpoint
    results = hub_search.search_models(query, endpoint, TokenStore().get())
    if not results:
        print(_("No GGUF models found for '{query}'.").format(query=query))
    for result in results:
        downloads = ngettext("{count} download", "{count} downloads", result.downloads).format(count=f"{result.downloads:,}")
        likes = ngettext("{count} like", "{count} likes", result.likes).format(count=f"{result.likes:,}")
        print(f"{result.repo}\t{downloads}\t{likes}")


def _job_for(what: str, sha256: str, downloader: Downloader) -> DownloadJob:
    """The pending job for the same file if there is one (that is how pull resumes)."""
    if what.startswith(("http://", "https://")):
        job = job_for_url(what, sha256)
    else:
        entry = next((m for m in load_catalog() if m.id == what), None)
        if entry is not None:
            job = job_for_catalog(entry, sha256)
        elif what.count("/") >= 2 and what.lower().endswith(".gguf"):
            owner, name, repo_file = what.split("/", 2)
            job = job_for_hub(f"{owner}/{name}", repo_file, sha256=sha256)
        else:
            raise HearthError(
                _("'{what}' is not a catalog model, an owner/repo/file.gguf path or an http(s) URL.").format(what=what)
            )
    pending = next((other for other in downloader.pending() if other.is_same_file(job)), None)
    if pending is None:
        return job
    if sha256:
        pending.expected_sha256 = sha256  # a corrected pin replaces the earlier one
    return pending


def _pull(what: str, sha256: str, library: ModelLibrary, paths: AppPaths) -> int:
    settings = load_settings(paths.settings_file)
    tokens = TokenStore()
    downloader = Downloader(library, settings.library.hub_endpoint, tokens.get)
    job = _job_for(what, sha256.lower(), downloader)
    resumed = downloader.bytes_on_disk(job)
    if resumed:
        print(_("Resuming {model} from {size} MB.").format(model=job.label, size=f"{resumed / 1e6:,.1f}"), file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_signal: stop.set())
    entry = downloader.run(job, _progress_printer(), stop)
    sys.stderr.write("\n")
    if entry is None:
        print(_("Paused. Run the same command again to resume."), file=sys.stderr)
        return 130
    print(_("Added {model} as '{id}' (sha256 {checksum}…, verified).").format(
        model=entry.shown_name, id=entry.id, checksum=entry.sha256[:12]))
    return 0


def _progress_printer() -> Callable[[Progress], None]:
    line, last_phase = _status_line(10), [""]

    def show(progress: Progress) -> None:
        changed, last_phase[0] = progress.phase != last_phase[0], progress.phase
        if progress.message or (progress.phase is not Phase.DOWNLOADING and changed):
            sys.stderr.write(f"\n{progress.summary()}")
        if progress.phase is Phase.DOWNLOADING:
            line(progress.done, progress.total, progress.summary())

    return show
