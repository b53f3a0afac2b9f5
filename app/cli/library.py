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
from app.library.downloads import Downloader, DownloadJob, Progress, job_for_catalog, job_for_hub, job_for_url
from app.library.model_library import ModelLibrary
from app.library.packs import export_pack, import_pack
from app.platform.errors import HearthError
from app.platform.paths import AppPaths
from app.platform.secrets import TokenStore


def add_model_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser("models", help="the model library")
    sub = models.add_subparsers(dest="models_command", required=True)
    sub.add_parser("list", help="show the installed models")
    search = sub.add_parser("search", help="search the Hugging Face Hub for GGUF models")
    search.add_argument("query")
    pull = sub.add_parser("pull", help="download a model; run it again to resume")
    pull.add_argument("what", metavar="ID_OR_REPO/FILE_OR_URL",
                      help="a catalog id, owner/repo/file.gguf, or an http(s) URL")
    pull.add_argument("--sha256", default="", help="refuse the file unless it has this checksum")
    add = sub.add_parser("import", aliases=["add"], help="add a .gguf file to the library")
    add.add_argument("path", type=Path)
    add.add_argument("--in-place", action="store_true", help="use the file where it is, do not copy it")
    verify = sub.add_parser("verify", help="check that model files are whole and unchanged")
    verify.add_argument("id", nargs="?", help="one model (default: all)")
    remove = sub.add_parser("rm", help="remove a model and delete its file")
    remove.add_argument("id")
    sub.add_parser("add-starter", help="add the bundled starter model (SmolLM2-135M-Instruct)")


def add_pack_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pack = commands.add_parser("pack", help="carry models and settings to other computers (a USB stick)")
    sub = pack.add_subparsers(dest="pack_command", required=True)
    export = sub.add_parser("export", help="write a pack folder")
    export.add_argument("folder", type=Path)
    export.add_argument("--models", nargs="+", required=True, metavar="ID", help="the models to include")
    export.add_argument("--installer", type=Path, help="also carry this installer file or folder")
    export.add_argument("--no-settings", action="store_true", help="leave this computer's settings out")
    load = sub.add_parser("import", help="check a pack folder and add its models and settings")
    load.add_argument("folder", type=Path)


def run_pack(args: argparse.Namespace, paths: AppPaths) -> int:
    library = ModelLibrary(paths.models_dir)
    show = _fraction_printer()
    if args.pack_command == "export":
        settings = None if args.no_settings else load_settings(paths.settings_file)
        files = export_pack(args.folder, library, settings, args.models, args.installer, show)
        sys.stderr.write("\n")
        models = sum(f.kind == "model" for f in files)
        extras = "".join(f" and the {kind}" for kind in ("settings", "installer") if any(f.kind == kind for f in files))
        print(f"Wrote a pack of {models} model(s){extras} to {args.folder} "
              f"({sum(f.size for f in files) / 1e6:,.0f} MB, every file with its sha256).")
        return 0
    result = import_pack(args.folder, library, paths.settings_file, show)
    sys.stderr.write("\n")
    for entry in result.added:
        print(f"Added {entry.name} as '{entry.id}' (checked).")
    for name in result.already_there:
        print(f"{name} was already installed.")
    if result.settings_applied:
        print("The pack's settings were applied.")
    return 0


def _fraction_printer() -> Callable[[int, int], None]:
    line = _status_line(4)
    return lambda done, total: line(done, total, f"{100 * done // total if total else 100:3d}%  "
                                                 f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB")


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
        raise HearthError("Downloads are turned off by your administrator.")
    if command == "import":
        entry = library.add(args.path, copy=not args.in_place)
        print(f"Added {entry.name} as '{entry.id}'.")
    elif command == "add-starter":
        entry = library.add_starter()
        print(f"The starter model {entry.name} is installed as '{entry.id}' (license: {entry.license}).")
    elif command == "rm":
        found = library.get(args.id)
        if found is None:
            raise HearthError(f"There is no model '{args.id}'. Run 'hearth models list' to see what is installed.")
        freed = library.remove(args.id)
        print(f"Removed {found.name}" + (f"; {freed / 1e6:,.0f} MB freed." if freed else "; its file was left where it is."))
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
        print("No models installed. Add one with: hearth models import FILE.gguf")
    for entry in entries:
        origin = f"{entry.repo}@{entry.revision[:8]}" if entry.repo else entry.source
        print(
            f"{entry.id}\t{entry.size / 1e6:,.0f} MB\t{entry.architecture}\t{entry.quantization}\t"
            f"context {entry.context_length:,}\t{entry.license or 'license unknown'}\t{origin}"
        )


def _verify(library: ModelLibrary, model_id: str | None) -> int:
    entries = library.models() if model_id is None else [e for e in library.models() if e.id == model_id]
    if not entries:
        raise HearthError(f"There is no model '{model_id}'." if model_id else "No models are installed.")
    damaged = 0
    for entry in entries:
        problem = library.verify(entry)
        damaged += bool(problem)
        print(f"{entry.id}: {problem or 'OK'}")
    return 1 if damaged else 0


def _search(query: str, paths: AppPaths) -> None:
    endpoint = load_settings(paths.settings_file).library.hub_endpoint
    results = hub_search.search_models(query, endpoint, TokenStore().get())
    if not results:
        print(f"No GGUF models found for '{query}'.")
    for result in results:
        print(f"{result.repo}\t{result.downloads:,} downloads\t{result.likes:,} likes")


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
                f"'{what}' is not a catalog model, an owner/repo/file.gguf path or an http(s) URL."
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
        print(f"Resuming {job.label} from {resumed / 1e6:,.1f} MB.", file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    entry = downloader.run(job, _progress_printer(), stop)
    sys.stderr.write("\n")
    if entry is None:
        print("Paused. Run the same command again to resume.", file=sys.stderr)
        return 130
    print(f"Added {entry.name} as '{entry.id}' (sha256 {entry.sha256[:12]}…, verified).")
    return 0


def _progress_printer() -> Callable[[Progress], None]:
    line, last_phase = _status_line(10), [""]

    def show(progress: Progress) -> None:
        changed, last_phase[0] = progress.phase != last_phase[0], progress.phase
        if progress.message or (progress.phase != "downloading" and changed):
            sys.stderr.write(f"\n{progress.summary()}")
        if progress.phase == "downloading":
            line(progress.done, progress.total, progress.summary())

    return show
