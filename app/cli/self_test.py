"""`hearth --self-test`: proves an installed or bundled Hearth works, with no screen.

Loads the starter model, answers one prompt through the same code the window
uses, checks that the store kept the exchange and that the log holds no
conversation text, and reads a document of each kind Hearth indexes (in a bundle,
that proves the PDF, Office and EPUB readers were frozen with it). Its model entry and conversation always go into a temporary
folder, also with --data-dir, so a user's own data is never touched: only the
log, where the report goes, is the user's. No Qt is imported.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

from app.backends.base import BackendFactory, LoadOptions, ModelRef
from app.chat.reply import generate_reply
from app.config.settings import Settings
from app.conversations.opener import open_conversations
from app.conversations.store import title_from
from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer
from app.documents.retrieve import Retriever
from app.library.model_library import ModelLibrary, starter_model_file
from app.platform.build_info import build_info, describe
from app.platform.errors import HearthError
from app.platform.i18n import _, ngettext
from app.platform.logging_setup import configure_logging
from app.platform.paths import RESOURCES_DIR, AppPaths, resolve_paths

log = logging.getLogger(__name__)

# In English whatever the language in use: the starter model answers English best.
PROMPT = "Reply with one short, friendly sentence: what is a lighthouse for?"
# One file of each kind the documents index reads (made by tests/documents/made_documents.py):
# a question, and the file and place that answers it.
SAMPLES = RESOURCES_DIR / "self-test"
DOCUMENT_CHECKS = (
    ("coach leaves Dover", "letter.pdf", 2), ("chlorophyll", "biology.pptx", 2), ("overtime paid", "handbook.docx", 0),
    ("printer paper", "budget.xlsx", 1), ("bus main gate", "trip.odt", 0), ("storm mast", "voyage.epub", 2),
)


def _say(text: str) -> None:
    """To stdout when there is one (a windowed build has none), and always to the log."""
    log.info("self-test: %s", text)
    if sys.stdout is not None:
        print(text, flush=True)


def run_self_test(backend_factory: BackendFactory, data_dir: str | None = None) -> int:
    """0 when every check passed. The log goes where this user's logs go (or into
    --data-dir), so a failed self-test can be looked into afterwards; everything
    else it writes goes into a temporary folder, deleted when it ends."""
    log_file = resolve_paths(data_dir).log_file
    configure_logging(log_file)
    try:
        with tempfile.TemporaryDirectory(prefix="hearth-self-test-") as scratch:
            work = resolve_paths(scratch)
            work.ensure()
            _say(describe(build_info()))
            _check(backend_factory, work, log_file)
    except HearthError as exc:
        _say(_("FAILED: {reason}").format(reason=exc))
        return 1
    except Exception as exc:
        log.exception("self-test failed")
        _say(_("FAILED: {reason}").format(reason=f"{type(exc).__name__}: {exc}"))
        return 1
    _say(_("Self-test passed."))
    return 0


def _check(backend_factory: BackendFactory, paths: AppPaths, log_file: Path) -> None:

    starter = starter_model_file()
    if starter is None:
        raise HearthError(_("The starter model is not in this build (build it with --with-starter-model)."))
    entry = ModelLibrary(paths.models_dir).add(starter, copy=False)
    _say(_("ok: starter model {model} checked (sha256 {checksum}…)").format(model=entry.shown_name, checksum=entry.sha256[:12]))

    settings = Settings()
    settings.sampling.temperature, settings.sampling.seed, settings.sampling.max_tokens = 0.0, 1, 48
    backend = backend_factory.create(None)
    started = time.perf_counter()
    backend.load(ModelRef(path=starter), LoadOptions(settings.engine))
    _say(_("ok: model loaded in {seconds} s").format(seconds=f"{time.perf_counter() - started:.2f}"))
    store = open_conversations(paths)
    try:
        conversation = store.create_conversation(title_from(PROMPT))
        question = store.add_message(conversation, None, "user", PROMPT)
        reply = generate_reply(backend, store, question, settings, "auto", threading.Event(), lambda text: None,
                               locked=frozenset())  # the self-test's own settings and conversation
    finally:
        backend.unload()
        store.close()
    if not reply.text.strip():
        raise HearthError(_("The model answered with nothing."))
    _say(ngettext(
        "ok: answered in {count} token ({speed} tokens/s)", "ok: answered in {count} tokens ({speed} tokens/s)",
        reply.stats.reply_tokens,
    ).format(count=reply.stats.reply_tokens, speed=f"{reply.stats.tokens_per_second:.0f}"))

    reopened = open_conversations(paths)
    try:
        thread = reopened.thread(conversation)
    finally:
        reopened.close()
    if [m.role for m in thread] != ["user", "assistant"] or thread[-1].content != reply.text:
        raise HearthError(_("The conversation was not stored as it was shown."))
    _say(_("ok: the conversation was stored and read back"))

    _check_documents(paths)

    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    if PROMPT in logged or reply.text.strip() in logged:
        raise HearthError(_("The log contains conversation text."))
    _say(_("ok: the log holds no conversation text"))


def _check_documents(paths: AppPaths) -> None:
    index = DocumentIndex(paths.documents_index)
    try:
        collection = index.create_collection("Self-test")
        index.add_source(collection, SAMPLES)
        outcome = Indexer(index, None).run(collection)
        if outcome.problems or outcome.indexed != len(DOCUMENT_CHECKS):
            raise HearthError(_("The sample documents could not all be read: {problems}").format(
                problems="; ".join(outcome.problems) or _("{count} of {total} read").format(count=outcome.indexed, total=len(DOCUMENT_CHECKS))))
        retriever = Retriever(index, None)
        for question, file_name, number in DOCUMENT_CHECKS:
            found = retriever.search(collection, question, 1)
            if not found or (found[0].chunk.path.name, found[0].chunk.number) != (file_name, number):
                raise HearthError(_("Searching the sample documents for “{question}” did not find {file}.").format(
                    question=question, file=file_name))
    finally:
        index.close()
    _say(_("ok: documents read and searched (PDF, DOCX, PPTX, XLSX, ODT, EPUB)"))
