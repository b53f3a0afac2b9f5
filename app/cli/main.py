"""Headless commands over the domain packages and a backend, for scripting and screenless tests.

No Qt is imported here. `hearth` with no command opens the window (see __main__).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.backends.base import BackendFactory, LoadOptions, ModelRef
from app.chat.crash_recovery import crash_notice, take_crash
from app.chat.provenance import ModelFile
from app.chat.reply import generate_reply
from app.cli.chats import add_chats_commands, run_chats
from app.cli.docs import AskDocuments, add_docs_commands, run_docs
from app.cli.library import add_model_commands, add_pack_commands, refuse_embedding_model, run_models, run_pack
from app.config.policy import Policy, load_policy
from app.config.settings import load_settings, save_model_preferences
from app.conversations.late_saves import LateSaves
from app.conversations.opener import open_conversations
from app.conversations.store import title_from
from app.library.model_library import ModelLibrary
from app.platform.crash_marker import CrashMarker
from app.platform.errors import HearthError
from app.platform.i18n import _
from app.platform.logging_setup import configure_logging
from app.platform.paths import AppPaths, policy_files, resolve_paths

COMMANDS = ("ask", "models", "pack", "chats", "docs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description=_("Private AI chat on your own computer."))
    parser.add_argument("--version", action="version", version=f"Hearth {__version__}")
    parser.add_argument("--data-dir", help=_("keep all of Hearth's files in this folder"))
    parser.add_argument("--self-test", action="store_true",
                        help=_("check that this copy of Hearth works: load the starter model, answer once, exit"))
    commands = parser.add_subparsers(dest="command")

    ask = commands.add_parser("ask", help=_("ask a model one question; the reply streams to stdout"))
    ask.add_argument("prompt")
    ask.add_argument("--model", help=_("a .gguf file or an installed model's id (default: last used)"))
    ask.add_argument("--no-save", action="store_true", help=_("do not save the exchange"))
    ask.add_argument("--docs", action="append", default=[], metavar="COLLECTION",
                     help=_("answer from this collection of your documents, and print the sources (may be given more than once)"))
    ask.add_argument("--every-document", action="store_true",
                     help=_("with --docs: go through every document, taking notes, then answer from the notes "
                            "(for questions about all of them; slower)"))
    ask.add_argument("--max-tokens", type=int, help=_("longest reply, in tokens"))
    ask.add_argument("--seed", type=int, help=_("sampling seed, for repeatable replies"))
    ask.add_argument("--format", dest="prompt_format", help=_("prompt format: auto, model, completion, chatml, gemma, ..."))
    ask.add_argument("--safe-mode", action="store_true",
                     help=_("run this model from now on with the engine's speed-ups off (after it crashed)"))

    add_model_commands(commands)
    add_pack_commands(commands)
    add_chats_commands(commands)
    add_docs_commands(commands)
    return parser


def _model_path(library: ModelLibrary, choice: str | None, last_used: str, policy: Policy) -> Path:
    if choice and Path(choice).suffix.lower() == ".gguf":
        if not policy.allows(Path(choice).stem, Path(choice).name):
            raise HearthError(_not_allowed(Path(choice).name))
        return Path(choice)
    wanted = choice or last_used or policy.default_model
    entry = library.get(wanted) if wanted else None
    if not choice and (entry is None or entry.is_embedding):  # the first chat model
        entry = next((m for m in library.models() if policy.allows(*m.names) and not m.is_embedding), None)
    if entry is None and choice:
        raise HearthError(
            _("There is no '{model}' model installed. Run 'hearth models list' to see what is.").format(model=choice)
        )
    if entry is None:
        raise HearthError(_("There is no chat model installed. Run 'hearth models list' to see what is."))
    if not policy.allows(*entry.names):
        raise HearthError(_not_allowed(entry.shown_name))
    return library.file_of(entry)


def _model_file(library: ModelLibrary, path: Path) -> ModelFile:
    """The file a reply is written with, for its provenance: its library entry (with the
    sha256 hashed when it was added), or the bare file."""
    entry = next((m for m in library.models() if library.file_of(m) == path), None)
    return ModelFile.from_entry(entry) if entry is not None else ModelFile.outside_library(path)


def _not_allowed(model: str) -> str:
    return _("Your administrator does not allow the model {model} on this computer.").format(model=model)


def _remember(paths: AppPaths, model_key: str, **changes: object) -> None:
    """Store a model's changed preferences; a settings file that cannot be written is
    said, and this run goes on."""
    try:
        save_model_preferences(paths.settings_file, model_key, **changes)
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)


def _ask(args: argparse.Namespace, paths: AppPaths, policy: Policy, backend_factory: BackendFactory) -> int:
    cancel = threading.Event()
    signal.signal(signal.SIGINT, lambda *_signal: cancel.set())
    # `kill`, a logout or a timeout: stop like Ctrl+C, so a load or a prompt being read ends
    # cleanly and is not taken for a crash at the next start.
    signal.signal(signal.SIGTERM, lambda *_signal: cancel.set())
    formats = backend_factory.capabilities.prompt_formats
    if args.prompt_format and args.prompt_format not in formats:
        raise HearthError(_("Unknown prompt format '{format}'. Choose one of: {formats}.").format(
            format=args.prompt_format, formats=", ".join(formats)))

    settings = policy.apply(load_settings(paths.settings_file))
    library = ModelLibrary(paths.models_dir)
    crashed = take_crash(paths, settings, library)
    if crashed is not None:
        notice = crash_notice(crashed)
        if not crashed.safe_mode:
            try_safe_mode = _("To try it in safe mode: {command}").format(command="hearth ask --safe-mode ...")
            notice = f"{notice} {try_safe_mode}"
        print(f"hearth: {notice}", file=sys.stderr)
    for option, name in ((args.max_tokens, "max_tokens"), (args.seed, "seed")):
        if option is not None and name in policy.locked:
            raise HearthError(_("{setting} is set by your administrator and cannot be changed.").format(setting=name))
    if args.max_tokens:
        settings.sampling.max_tokens = args.max_tokens
    if args.seed is not None:
        settings.sampling.seed = args.seed
    model_path = _model_path(library, args.model, settings.last_model_id, policy)
    refuse_embedding_model(library, model_path)
    prompt = args.prompt.strip()
    if not prompt:
        raise HearthError(_("The question is empty: type something to ask."))
    if args.every_document and not args.docs:
        raise HearthError(_("--every-document goes through the documents given with --docs: name a collection."))
    model_key = library.preferences_key(model_path)
    preferences = settings.model_preferences(model_key)
    fmt = args.prompt_format or preferences.prompt_format
    if args.safe_mode and not preferences.safe_mode:
        preferences.safe_mode = True
        _remember(paths, model_key, safe_mode=True)
    elif preferences.crashed == "safe" and not args.safe_mode:
        raise HearthError(_(
            "The model {file} stopped Hearth even in safe mode: it cannot run on this "
            "computer. Choose another one ('hearth models list'), or add --safe-mode to try anyway."
        ).format(file=model_path.name))
    elif preferences.crashed and not preferences.safe_mode:
        raise HearthError(_(
            "The model {file} stopped Hearth the last time it ran. To try it again with "
            "the speed-ups that fail on some computers turned off, add --safe-mode."
        ).format(file=model_path.name))

    documents = AskDocuments(args.docs, paths, policy, backend_factory) if args.docs else None
    backend = backend_factory.create(CrashMarker(paths.crash_markers))
    try:
        loaded = backend.load(ModelRef(path=model_path), LoadOptions(
            settings.engine, preferences.safe_mode, on_progress=lambda _fraction: not cancel.is_set()))
    except HearthError:
        if documents is not None:
            documents.close()
        if cancel.is_set():
            return 130  # Ctrl+C while loading
        raise
    if preferences.crashed:  # it loaded cleanly this time
        _remember(paths, model_key, crashed="")
    if loaded.safe_mode:
        print("hearth: " + _("{model} runs in safe mode (slower).").format(model=loaded.name), file=sys.stderr)
    # Saved only once the model is loaded, so a failed load leaves no unanswered question.
    store = open_conversations(paths, in_memory=args.no_save)
    conversation_id = store.create_conversation(title_from(prompt), system_prompt=settings.system_prompt, model_id=model_key)
    question_id = store.add_message(conversation_id, None, "user", prompt)
    if documents is not None:
        store.set_attached_documents(conversation_id, documents.names)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    late_saves = None if args.no_save else LateSaves(lambda: open_conversations(paths))
    try:
        result = generate_reply(backend, store, question_id, settings, fmt, cancel, write, locked=policy.locked,
                                model_file=_model_file(library, model_path),
                                documents=documents.grounder if documents is not None else None,
                                every_document=args.every_document, on_documents_read=_show_reading,
                                late_saves=late_saves)
        sys.stdout.write("\n")
        if documents is not None and result.grounding is not None:
            documents.print_sources(result.grounding)
    finally:
        if late_saves is not None:
            late_saves.close()
        backend.unload()
        store.close()
        if documents is not None:
            documents.close()
    return 130 if cancel.is_set() else 0


def _show_reading(done: int, total: int) -> None:
    """Going through every document: how far, on stderr (the answer goes to stdout)."""
    print("\r" + _("reading your documents: part {done} of {total}").format(done=done, total=total),
          end="\n" if done == total else "", file=sys.stderr, flush=True)


def run(argv: Sequence[str], backend_factory: BackendFactory) -> int:
    """A command; its models run on the backends `backend_factory` makes."""
    args = build_parser().parse_args(argv)
    if args.self_test:
        from app.cli.self_test import run_self_test

        return run_self_test(backend_factory, args.data_dir)
    paths = resolve_paths(args.data_dir)
    try:
        paths.ensure()
        configure_logging(paths.log_file)
        policy = load_policy(policy_files())
        for problem in policy.problems:
            print(f"hearth: {problem}", file=sys.stderr)
        if args.command == "ask":
            return _ask(args, paths, policy, backend_factory)
        if args.command == "pack":
            return run_pack(args, paths)
        if args.command == "chats":
            return run_chats(args, paths)
        if args.command == "docs":
            return run_docs(args, paths, policy, backend_factory)
        return run_models(args, paths, policy)
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print("hearth: " + _("{reason} ({file}).").format(reason=exc.strerror or exc, file=exc.filename or _("file")), file=sys.stderr)
        return 1
    except Exception as exc:
        logging.getLogger("hearth").exception("command failed")
        print("hearth: " + _("something went wrong: {reason}. Details are in {file}.").format(reason=exc, file=paths.log_file),
              file=sys.stderr)
        return 1


def wants_cli(argv: Sequence[str]) -> bool:
    """True when the arguments name a command or ask for help/version, not the window."""
    return any(arg in COMMANDS or arg in ("-h", "--help", "--version", "--self-test") for arg in argv)
