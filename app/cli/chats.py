"""`hearth chats ...`: conversations from the command line, for scripts and backups (no Qt).

Conversations are named by their UUID (`hearth chats list` shows them). Each command is
one entry of `_HANDLERS`: a parser and a function.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.chat.export import ExportFormat, export_to_folder
from app.chat.export_markdown import conversation_markdown
from app.conversations.opener import open_at_start
from app.conversations.search import MATCH_END, MATCH_START
from app.conversations.store import Conversation, ConversationStore
from app.conversations.transfer.importer import import_conversations
from app.platform.errors import HearthError
from app.platform.i18n import _, ngettext
from app.platform.paths import AppPaths


def add_chats_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chats = commands.add_parser("chats", help=_("your conversations: list, search, show, export, import"))
    sub = chats.add_subparsers(dest="chats_command", required=True)
    sub.add_parser("list", help=_("show every conversation with its id, newest first"))
    search = sub.add_parser("search", help=_("find the conversations and messages that use these words"))
    search.add_argument("query", nargs="+", help=_("words, as typed in the window's search box"))
    search.add_argument("--limit", type=int, default=20, help=_("at most this many hits (default 20)"))
    show = sub.add_parser("show", help=_("print a conversation (the shown branch) as Markdown"))
    show.add_argument("id", help=_("the conversation's id, from 'hearth chats list'"))
    export = sub.add_parser("export", help=_("write conversations to files in a folder"))
    export.add_argument("--format", dest="export_format", required=True, choices=[f.value for f in ExportFormat],
                        help=_("md and html: one file per conversation; json: one file that imports back whole"))
    export.add_argument("--id", dest="conversation_id", help=_("only this conversation (default: all)"))
    export.add_argument("folder", type=Path)
    load = sub.add_parser("import", help=_("add conversations from a Hearth JSON file or a ChatGPT export"))
    load.add_argument("path", type=Path, metavar="FILE_OR_DIR",
                      help=_("a .json file, a folder or a .zip; what is already here is skipped"))


def run_chats(args: argparse.Namespace, paths: AppPaths) -> int:
    started = open_at_start(paths)
    if started.notice:
        print("hearth: " + started.notice, file=sys.stderr)
    store = started.store
    try:
        return _HANDLERS[args.chats_command](args, store)
    finally:
        store.close()


def _list(args: argparse.Namespace, store: ConversationStore) -> int:
    summaries = store.list_conversations()
    if not summaries:
        print(_("No conversations yet."))
    for summary in summaries:
        conversation = store.conversation(summary.id)
        if conversation is not None:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.updated_at))
            print(f"{conversation.uuid}  {when}  {summary.title}")
    return 0


def _search(args: argparse.Namespace, store: ConversationStore) -> int:
    """One hit a line: the conversation's id, when, who, and the words around the match
    (matched words in *asterisks*: a terminal shows no bold)."""
    words = " ".join(args.query)
    hits = store.search(words, max(1, args.limit))
    if not hits:
        print(_("No conversation mentions “{words}”.").format(words=words))
        return 1
    for hit in hits:
        conversation = store.conversation(hit.conversation_id)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(hit.created_at))
        who = hit.role.label if hit.role is not None else _("Title")
        snippet = " ".join(hit.snippet.replace(MATCH_START, "*").replace(MATCH_END, "*").split())
        print(f"{conversation.uuid if conversation else hit.conversation_id}  {when}  {who}: {snippet}")
    return 0


def _show(args: argparse.Namespace, store: ConversationStore) -> int:
    print(conversation_markdown(store, _find(store, args.id).id), end="")
    return 0


def _export(args: argparse.Namespace, store: ConversationStore) -> int:
    ids = ([_find(store, args.conversation_id).id] if args.conversation_id
           else [summary.id for summary in reversed(store.list_conversations())])
    if not ids:
        raise HearthError(_("There are no conversations to export."))
    for path in export_to_folder(store, ExportFormat(args.export_format), ids, args.folder):
        print(path)
    return 0


def _import(args: argparse.Namespace, store: ConversationStore) -> int:
    result = import_conversations(store, args.path, _percent_printer())
    print(ngettext("Imported {count} conversation.", "Imported {count} conversations.",
                   result.count.added).format(count=result.count.added), end=" ")
    if result.count.extended:
        print(ngettext("{count} conversation already here gained new messages.",
                       "{count} conversations already here gained new messages.",
                       result.count.extended).format(count=result.count.extended), end=" ")
    print(ngettext("{count} was already here.", "{count} were already here.",
                   result.count.already_there).format(count=result.count.already_there))
    for problem in result.problems:
        print(f"hearth: {problem}", file=sys.stderr)
    return 1 if result.problems else 0


def _find(store: ConversationStore, conversation_uuid: str) -> Conversation:
    conversation = store.conversation_by_uuid(conversation_uuid.strip().lower())
    if conversation is None:
        raise HearthError(_("There is no conversation {id}. Run 'hearth chats list' to see their ids.").format(
            id=conversation_uuid))
    return conversation


def _percent_printer() -> Callable[[int, int], None]:
    """On a terminal, one line rewritten at each new percent; elsewhere nothing."""
    last = [-1]

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if sys.stderr.isatty() and percent != last[0]:
            last[0] = percent
            sys.stderr.write(f"\r{percent:3d}%" + ("\n" if percent == 100 else ""))

    return show


_HANDLERS: dict[str, Callable[[argparse.Namespace, ConversationStore], int]] = {
    "list": _list, "search": _search, "show": _show, "export": _export, "import": _import,
}
