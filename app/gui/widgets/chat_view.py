"""The conversation pane: rendered messages, and the reply that is streaming in.

A long conversation is shown a page at a time: its end when it opens, older pages above
as the person scrolls up (app/gui/widgets/older_pages.py). What is shown is rendered once. While a reply streams, only that
reply is touched: text is appended at the end moments after it arrives, and on a timer its
Markdown is rendered. Only the part that is not yet settled (usually the block
being written) is rendered again each time; settled blocks are rendered once,
so a render costs the same at the end of a long reply as at its start.
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QMimeData, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QCursor,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QMenu, QTextBrowser, QWidget

from app.chat.grounding import Source
from app.chat.rendering import COPY_CODE_SCHEME, LINE_END, MarkdownRenderer
from app.chat.summary import covered_count, is_summary
from app.conversations.store import Message, Role, Status
from app.gui.ops import run_in_background
from app.gui.widgets.follow_end import FollowEnd
from app.gui.widgets.older_pages import OlderPages
from app.gui.widgets.sources_html import sources_html

log = logging.getLogger(__name__)

# The links of the page that act in the app. Each carries the view's token after the
# scheme ("hearth-details:TOKEN:ID"): a reply's Markdown can hold any link, and one it
# wrote itself ("[x](hearth-branch:5:1)") must do nothing when clicked (issue 12).
COPY_MESSAGE_SCHEME = "hearth-copy-message"
BRANCH_SCHEME = "hearth-branch"
DETAILS_SCHEME = "hearth-details"
EDIT_SCHEME = "hearth-edit"
REGENERATE_SCHEME = "hearth-regenerate"
MORE_SCHEME = "hearth-more"
OPEN_SOURCE_SCHEME = "hearth-open-source"
OPENABLE_SCHEMES = {"http", "https", "mailto"}
MIN_RENDER_INTERVAL_MS = 250
# A one-off slow render (the first code block loads its highlighter) must not leave
# raw Markdown on screen for long.
MAX_RENDER_INTERVAL_MS = 2000
# Longer messages are shown shortened (Copy still gives all of it): laying out a
# megabyte of text would freeze the window and nobody reads it on screen anyway.
SHOWN_CHARACTERS = 20_000
RENDER_SHARE = 0.02  # aim for re-rendering to take at most this share of the time
# Streamed text arrives just as the inference worker wants Python's GIL back for its
# next token. Laying the text out at once would hold the GIL, and so llama.cpp, for
# the whole layout; a few milliseconds later the worker is inside llama_decode, which
# runs without the GIL, and the two no longer wait for each other (docs/PERFORMANCE.md).
SHOW_DELAY_MS = 3

LINE_SEPARATOR = "\u2028"


class _ReplyStatsWords(QObject):
    """The line's words: lupdate marks a message as plural only in a `tr` call, so that the
    English catalog gives "1 reply token", not "1 reply tokens"."""

    def line(self, stats: dict[str, Any]) -> str:
        # lupdate misses a plural whose count is a call with a string in it: the counts are named first.
        reply_tokens, prompt_tokens = stats.get("reply_tokens", 0), stats.get("prompt_tokens", 0)
        parts = [
            self.tr("{speed:.1f} tokens/s").format(speed=stats.get("tokens_per_second", 0)),
            self.tr("%n reply tokens", "", reply_tokens),
            self.tr("%n prompt tokens", "", prompt_tokens),
            self.tr("first token after {seconds:.2f} s").format(seconds=stats.get("time_to_first_token", 0)),
        ]
        return " · ".join(parts)


def stats_line(stats: dict[str, Any]) -> str:
    """How fast a reply was written and how many tokens it took ('' for a message without stats)."""
    return _ReplyStatsWords().line(stats) if stats else ""


@dataclass(frozen=True)
class Body:
    """A message's body as HTML, and the texts its copy links give (by link id)."""

    source: tuple[str, bool]  # what it was rendered from: the text, and the dark palette or not
    html: str
    copy_texts: dict[str, str]


def _render_body(renderer: MarkdownRenderer, message: Message, token: str) -> Body:
    """`token`: the view's, in each copy-code link (`{token}-{message id}-{block}`), so a
    link the reply wrote cannot name a block."""
    copy_texts: dict[str, str] = {str(message.id): message.content}
    shown = message.content[:SHOWN_CHARACTERS]
    source = (message.content, renderer.dark)
    if message.role == "user":
        return Body(source, "<p>" + html.escape(shown).replace("\n", "<br>") + "</p>", copy_texts)
    rendered = renderer.render(shown, block_prefix=f"{token}-{message.id}-")
    for number, code in enumerate(rendered.code_blocks):
        copy_texts[f"{token}-{message.id}-{number}"] = code
    return Body(source, rendered.html, copy_texts)


def plain_text(body_html: str) -> str:
    """What a rendered body reads as, without its Markdown (to be read aloud)."""
    return QTextDocumentFragment.fromHtml(body_html).toPlainText().strip()


def chat_keys() -> list[tuple[str, str]]:
    """The keys the chat itself answers (what they do, the keys), for the shortcuts sheet;
    ChatView.keyPressEvent is where they are handled."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("ChatView", text)

    def keys(standard: QKeySequence.StandardKey) -> str:
        return ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in QKeySequence.keyBindings(standard))

    return [
        (tr("Go to the first message (older ones are read as you reach them)"), keys(QKeySequence.StandardKey.MoveToStartOfDocument)),
        (tr("Go to the newest message, and follow the reply"), keys(QKeySequence.StandardKey.MoveToEndOfDocument)),
    ]


def is_shown(message: Message) -> bool:
    """Whether the page shows `message`: every one but a system message that is not a summary."""
    return message.role != Role.SYSTEM or is_summary(message)


class ChatView(QTextBrowser):
    link_used = Signal()  # a link of the page was clicked: the window gives the focus back
    branch_requested = Signal(int, int)  # message id, step (-1 previous, +1 next alternative)
    details_requested = Signal(int)  # message id: what produced this reply
    edit_requested = Signal(int)  # message id: a question to write again
    regenerate_requested = Signal(int)  # message id: a reply to write again beside this one
    branch_to_new_requested = Signal(int)  # message id: its path copied into a new chat
    delete_requested = Signal(int)  # message id: it and what follows it to go (with an undo)
    quote_requested = Signal(str)  # text to quote in the message box
    read_aloud_requested = Signal(str)  # plain text to speak
    open_file_requested = Signal(str)  # the path of a source's file
    older_wanted = Signal()  # scrolled near the top while older messages are not shown

    def __init__(self, renderer: MarkdownRenderer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._renderer = renderer
        # In every link that acts in the app; never in a message's text (secrets: a model
        # cannot guess it, and it changes with each window).
        self._token = secrets.token_hex(16)
        self.can_read_aloud = False  # the window sets it where the system can speak
        self.show_reply_speed = False  # the window sets it from the settings; a page shown after uses it
        self.more_menu: QMenu | None = None  # the last "More…" menu opened (kept from the garbage collector)
        self.setAccessibleName(self.tr("Conversation"))
        self.setAccessibleDescription(self.tr("The messages of this conversation, the newest at the end."))
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self._copy_texts: dict[str, str] = {}
        self._bodies: dict[int, Body] = {}  # by message id
        self._source_files: dict[tuple[int, int], str] = {}  # (message id, source number) -> its file
        self._header_position = -1  # where the streaming reply's header begins on the page
        self._page = 0  # counts the pages shown: a finished reply's render is for one of them
        self._finishing = 0  # finished replies whose Markdown is being rendered
        self._stream_parts: list[str] = []
        self._stream_length = 0
        self._stream_start = -1  # where the unsettled part of the reply begins on the page
        self._settled_length = 0  # characters of the reply rendered for good
        self._settled_mid_paragraph = False
        self._settled_pieces = 0
        self._render_interval_ms = MIN_RENDER_INTERVAL_MS
        self.render_seconds = 0.0  # total time spent rendering the streaming reply
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render_stream)
        self._unshown: list[str] = []  # streamed text waiting for the show timer
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._show_timer.setInterval(SHOW_DELAY_MS)
        self._show_timer.timeout.connect(self._show_unshown)
        self.follow_end = FollowEnd(self)
        self.older = OlderPages(self)  # after follow_end: a range change brings the view to the end first
        self.older.wanted.connect(self.older_wanted)

    # Whole conversations ---------------------------------------------------

    def show_placeholder(self, title: str, body: str) -> None:
        self._stream_start = -1
        self._page += 1
        self.older.available = False
        self._drop_unshown()
        self.setHtml(
            f"<div style='margin:48px'><h2>{html.escape(title)}</h2>"
            f"<p>{html.escape(body)}</p></div>"
        )

    def show_welcome(self, has_models: bool) -> None:
        """The page before a conversation: what to do first."""
        if not has_models:
            self.show_placeholder(
                self.tr("Welcome to Hearth"),
                self.tr(
                    "Hearth needs a model to chat with. Open the Library (Ctrl+L) to download a "
                    "recommended one, use a model you already have in another app, or drop a .gguf "
                    "file on this window. Your conversations stay on this computer."
                ),
            )
        else:
            self.show_placeholder(
                self.tr("Start a conversation"),
                self.tr("Type a message below and press Enter. Shift+Enter adds a new line. Nothing you type leaves this computer."),
            )

    def prepare(self) -> Callable[[list[Message]], dict[int, Body]]:
        """What renders the bodies of a conversation's messages that this view has not
        rendered yet, to be called off the GUI thread (by the store reader, as it reads
        them); `show_messages` takes its result. Markdown and Pygments are most of the cost
        of showing a conversation: 0.2 s of a 50-turn page's."""
        dark, token = self._renderer.dark, self._token
        known = {message_id: body.source for message_id, body in self._bodies.items()}

        def render(messages: list[Message]) -> dict[int, Body]:
            renderer = MarkdownRenderer(dark)
            return {
                m.id: _render_body(renderer, m, token)
                for m in messages if is_shown(m) and known.get(m.id) != (m.content, dark)
            }

        return render

    def show_messages(
        self, messages: Sequence[Message], branches: dict[int, tuple[int, int]], prepared: Mapping[int, Body] | None = None,
        has_older: bool = False,
    ) -> None:
        """Show a thread, or its end. `branches[id]` = (position, count) among its alternatives;
        `prepared`: bodies `prepare` rendered. A body rendered before, unchanged, is kept.
        `has_older`: messages come before these (`prepend_messages` shows them)."""
        self._stream_start = -1
        self._page += 1
        self._drop_unshown()  # resume_stream shows all of the reply again
        self._copy_texts.clear()
        self._source_files.clear()
        self._bodies.update(prepared or {})
        shown = [m for m in messages if is_shown(m)]
        blocks = [self._message_html(m, branches.get(m.id)) for m in shown]
        kept = {m.id for m in shown}
        self._bodies = {key: value for key, value in self._bodies.items() if key in kept}
        self.older.available = False  # until the page is in: clearing the page scrolls to its top
        self.setHtml("".join(blocks))
        self.follow_end.follow()  # a conversation opens at its end
        self.older.available = has_older
        self.older.check()  # a short page may leave the top in view

    def prepend_messages(
        self, messages: Sequence[Message], branches: dict[int, tuple[int, int]], prepared: Mapping[int, Body] | None,
        has_older: bool,
    ) -> None:
        """Show older messages above those shown, keeping in place what is on screen (or the
        end, while it is followed) and the text cursor on its text; a reply streaming below
        goes on."""
        self._bodies.update(prepared or {})
        page_html = "".join(self._message_html(m, branches.get(m.id)) for m in messages if is_shown(m))
        characters = self.document().characterCount()
        self.older.available = False  # the view is at the top until the page is in and the place kept
        if page_html:
            with self.older.kept_in_place(keep=not self.follow_end.following):
                cursor = QTextCursor(self.document())
                # One edit: each change at the top lays out again everything below it (27 ms for
                # the empty block alone above 3,000 messages here); one instead of two took a
                # page's insertion there from 90 to 53 ms.
                cursor.beginEditBlock()
                cursor.insertBlock()  # the first header moves down with its format; this empty block takes the page
                cursor.setPosition(0)
                self._put_html(cursor, page_html)
                cursor.endEditBlock()
        shift = self.document().characterCount() - characters
        self._header_position += shift if self._header_position >= 0 else 0
        self._stream_start += shift if self._stream_start >= 0 else 0
        self.older.available = has_older
        self.older.check()  # a short page may leave the top in view still

    def append_messages(
        self, messages: Sequence[Message], branches: dict[int, tuple[int, int]], prepared: Mapping[int, Body] | None
    ) -> None:
        """Add messages read already at the end of the page (below a search hit shown
        first), leaving the rest, and where the view is, as they are."""
        self._bodies.update(prepared or {})
        page_html = "".join(self._message_html(m, branches.get(m.id)) for m in messages if is_shown(m))
        if page_html:
            cursor = self._fresh_block_at_end()
            cursor.beginEditBlock()
            self._put_html(cursor, page_html)
            cursor.endEditBlock()
        self.older.check()

    def append_message(self, message: Message, branch: tuple[int, int] | None) -> None:
        """Add one message at the end of the page, leaving the rest as it is."""
        self._drop_unshown()
        self._put_message(self._fresh_block_at_end(), message, branch)
        self.follow_end.follow()  # a question sent: its answer is what the person waits for

    @staticmethod
    def _insert_blocks(cursor: QTextCursor, page_html: str) -> None:
        """Insert HTML as blocks of their own after the cursor's (non-empty) block: an
        inserted fragment's first block merges into the block at the cursor and loses its
        own format (a paragraph's margins), so it is given an empty one to merge."""
        piece = QTextDocument()
        piece.setHtml(page_html.rstrip())
        if piece.begin().length() > 1:
            QTextCursor(piece).insertBlock()
        cursor.insertFragment(QTextDocumentFragment(piece))

    def _put_message(self, cursor: QTextCursor, message: Message, branch: tuple[int, int] | None) -> None:
        self._put_html(cursor, self._message_html(message, branch))

    def _put_html(self, cursor: QTextCursor, messages_html: str) -> None:
        """Lay out messages from an empty block on (the page's last, or one before the
        next message), exactly as a whole page shows them. An inserted fragment's first and last blocks merge into the
        block at the cursor and take its format: the header's margins and the closing rule
        are given back."""
        piece = QTextDocument()
        piece.setHtml(messages_html)
        header, rule = piece.begin().blockFormat(), piece.lastBlock().blockFormat()
        start = cursor.position()
        cursor.insertFragment(QTextDocumentFragment(piece))
        cursor.setBlockFormat(rule)
        first = QTextCursor(self.document())
        first.setPosition(start)
        first.setBlockFormat(header)

    def _fresh_block_at_end(self) -> QTextCursor:
        """A cursor in a new, unformatted block at the end: inserted HTML's first block
        merges into the cursor's block, which must not pass on the rule or the bold above."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        return cursor

    def _message_html(self, message: Message, branch: tuple[int, int] | None) -> str:
        body = self._bodies.get(message.id)
        if body is None or body.source != (message.content, self._renderer.dark):
            body = self._bodies[message.id] = _render_body(self._renderer, message, self._token)
        self._copy_texts.update(body.copy_texts)
        return self._header_html(message, branch) + body.html + self._footer_html(message)

    def _link(self, scheme: str, *arguments: object) -> str:
        """The href of an app action: the scheme, the view's token, then the arguments."""
        return ":".join([scheme, self._token, *map(str, arguments)])

    def _header_html(self, message: Message, branch: tuple[int, int] | None) -> str:
        """Who wrote the message and its everyday actions; the rest is under "More…"."""
        speaker = html.escape(Role(message.role).label)
        links = [(self._link(COPY_MESSAGE_SCHEME, message.id), self.tr("Copy"))]
        if is_summary(message):
            speaker = html.escape(self.tr("Summary of the oldest %n messages (the model reads it instead of them)", "",
                                          covered_count(message)))
        if message.role == Role.USER or is_summary(message):
            links.append((self._link(EDIT_SCHEME, message.id), self.tr("Edit")))
        if message.role == Role.ASSISTANT:
            links.append((self._link(REGENERATE_SCHEME, message.id), self.tr("Regenerate")))
            links.append((self._link(DETAILS_SCHEME, message.id), self.tr("Details")))
        links.append((self._link(MORE_SCHEME, message.id), self.tr("More…")))
        controls = [f'<a href="{href}">{html.escape(text)}</a>' for href, text in links]
        if branch and branch[1] > 1:
            position, count = branch
            controls.append(
                f'<a href="{self._link(BRANCH_SCHEME, message.id, -1)}">&lsaquo;</a> {position}/{count} '
                f'<a href="{self._link(BRANCH_SCHEME, message.id, 1)}">&rsaquo;</a>'
            )
        # The anchor is where scroll_to_message brings the view.
        return f"<p><a name='message-{message.id}'></a><b>{speaker}</b> &nbsp; <small>{' &nbsp; '.join(controls)}</small></p>"

    def _footer_html(self, message: Message) -> str:
        note = Status(message.status).note
        notes = [note] if note else []
        if len(message.content) > SHOWN_CHARACTERS:
            notes.append(
                self.tr("Shortened on screen: {count:,} characters in all (Copy gives all of it)").format(count=len(message.content))
            )
        if message.stats:
            if self.show_reply_speed:
                notes.append(stats_line(message.stats))
            if message.stats.get("omitted_turns"):
                notes.append(self.tr("%n older messages were left out to fit", "", message.stats["omitted_turns"]))
        footer = f"<p style='color:gray'><small>{html.escape(' · '.join(notes))}</small></p>" if notes else ""
        return f"{self._sources_html(message)}{footer}<hr>"

    def _sources_html(self, message: Message) -> str:
        def open_link(source: Source) -> str:
            self._source_files[(message.id, source.number)] = source.path
            return self._link(OPEN_SOURCE_SCHEME, message.id, source.number)

        return sources_html(message.provenance, open_link, self._renderer.dark) if message.role == Role.ASSISTANT else ""

    def append_unsaved_reply(self, text: str) -> None:
        """Show a reply the store could not take, so the user still has it on screen."""
        rendered = self._renderer.render(text, block_prefix=f"{self._token}-unsaved-")
        for number, code in enumerate(rendered.code_blocks):
            self._copy_texts[f"{self._token}-unsaved-{number}"] = code
        self._copy_texts["unsaved"] = text
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        speaker, copy, not_saved = Role.ASSISTANT.label, self.tr("Copy"), self.tr("Not saved: copy it if you need it")
        href = self._link(COPY_MESSAGE_SCHEME, "unsaved")
        cursor.insertHtml(
            f'<p><b>{html.escape(speaker)}</b> &nbsp; <small><a href="{href}">{html.escape(copy)}</a></small></p>'
            f"{rendered.html}<p style='color:gray'><small>{html.escape(not_saved)}</small></p>"
        )

    # Streaming -------------------------------------------------------------

    def begin_stream(self) -> None:
        """Start showing a new reply at the end of the page."""
        self._stream_parts = []
        self._stream_length = 0
        self.render_seconds = 0.0
        self._render_interval_ms = MIN_RENDER_INTERVAL_MS
        self._show_stream_block()

    def resume_stream(self) -> None:
        """Show the reply being written again after the page was rebuilt."""
        self._show_stream_block()
        self._render_stream()

    def _show_stream_block(self) -> None:
        self._drop_unshown()
        cursor = self._fresh_block_at_end()
        self._header_position = cursor.position()
        speaker = html.escape(Role.ASSISTANT.label)
        cursor.insertHtml(f"<b>{speaker}</b>")
        self._stream_start = cursor.position()  # rendered pieces begin with a block of their own
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())  # plain text goes here until then
        self._settled_length = 0
        self._settled_mid_paragraph = False
        self._settled_pieces = 0

    def append_stream(self, text: str) -> None:
        """Collect streamed text and, while the reply is on the page, append it as plain
        text SHOW_DELAY_MS later; Markdown follows on the render timer."""
        self._stream_parts.append(text)
        self._stream_length += len(text)
        if self._stream_start < 0:
            return
        self._unshown.append(text)
        if not self._show_timer.isActive():
            self._show_timer.start()

    def _show_unshown(self) -> None:
        """Append the text collected over the last SHOW_DELAY_MS as plain text, unless the
        reply is already longer than is shown. Line breaks stay inside one block, as they
        will in the rendered paragraph, so lines do not jump closer when the Markdown comes."""
        text = "".join(self._unshown)
        self._unshown.clear()
        if self._stream_start < 0 or self._stream_length - len(text) > SHOWN_CHARACTERS:
            return
        cursor = QTextCursor(self.document())
        # In an edit block the cursor does not lay the block out again at once just to
        # know its own x position; the layout happens once, when the page is painted.
        cursor.beginEditBlock()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(LINE_END.sub(LINE_SEPARATOR, text), QTextCharFormat())
        cursor.endEditBlock()
        if not self._render_timer.isActive():
            self._render_timer.start(self._render_interval_ms)

    @property
    def streamed_text(self) -> str:
        return "".join(self._stream_parts)

    def _render_stream(self) -> None:
        """Replace the unsettled end of the reply with its Markdown: first the part
        that has just settled (for good), then the rest (until the next render)."""
        self._drop_unshown()  # a render shows all of the text so far
        if self._stream_start < 0:
            return
        started = time.perf_counter()
        unsettled = self.streamed_text[self._settled_length : SHOWN_CHARACTERS]
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        settled = self._renderer.settled(unsettled)
        if settled.length:
            self._insert_markdown(cursor, unsettled[: settled.length], joins_next=settled.mid_paragraph)
            self._stream_start = cursor.position()
            self._settled_length += settled.length
            self._settled_mid_paragraph = settled.mid_paragraph
            self._settled_pieces += 1
            unsettled = unsettled[settled.length :]
        unsettled_started = time.perf_counter()
        self._insert_markdown(cursor, unsettled, joins_next=False)
        finished = time.perf_counter()
        self.render_seconds += finished - started
        # Paced by what is rendered again each time; a settled piece is rendered once.
        wanted = int((finished - unsettled_started) / RENDER_SHARE * 1000)
        self._render_interval_ms = min(MAX_RENDER_INTERVAL_MS, max(MIN_RENDER_INTERVAL_MS, wanted))

    def _insert_markdown(self, cursor: QTextCursor, text: str, joins_next: bool) -> None:
        prefix = f"{self._token}-streaming-{self._settled_pieces}-"
        rendered = self._renderer.render(
            text, block_prefix=prefix, joins_previous=self._settled_mid_paragraph, joins_next=joins_next
        )
        # The cursor sits at the end of a block (the header, or the previous piece).
        self._insert_blocks(cursor, rendered.html)
        for number, code in enumerate(rendered.code_blocks):
            self._copy_texts[f"{prefix}{number}"] = code

    def end_stream(self) -> None:
        self._render_timer.stop()
        self._drop_unshown()
        self._stream_start = -1

    @property
    def finishing(self) -> bool:
        """A finished reply is still shown as it streamed: its final form is being rendered."""
        return self._finishing > 0

    def finish_stream(self, message: Message, branch: tuple[int, int] | None) -> None:
        """The reply that streamed is saved as `message`: replace what streamed with the
        message as a whole page shows it (header, copy links, footer), touching nothing above
        or below. Its Markdown is rendered again off the GUI thread first: for a 10,000-character
        reply that took 15-80 ms of the 20-95 ms the whole replacement took here."""
        if self._stream_start < 0:  # not on the page (it streamed while another chat was shown)
            return
        self._show_unshown()  # all of it stays on the page as it streamed until then
        self.end_stream()
        # The cursor follows the page's changes above the reply (an earlier reply finished);
        # nothing within the reply changes until it is replaced.
        start = QTextCursor(self.document())
        start.setPosition(self._header_position)
        page, length, dark = self._page, self.document().characterCount() - 1 - self._header_position, self._renderer.dark
        token = self._token
        self._finishing += 1

        def show(body: Body) -> None:
            self._finishing -= 1
            if body.source == (message.content, self._renderer.dark):
                self._bodies[message.id] = body
            if page == self._page:
                self._replace(start, length, message, branch)

        def give_up(error: Exception) -> None:  # the reply stays as it streamed
            self._finishing -= 1
            log.warning("the finished reply %s could not be rendered again: %r", message.id, error)

        run_in_background(self, lambda: _render_body(MarkdownRenderer(dark), message, token), on_success=show, on_failure=give_up)

    def _replace(self, start: QTextCursor, length: int, message: Message, branch: tuple[int, int] | None) -> None:
        """Lay `message` out in place of the `length` characters from `start` on (the
        beginning of the block it began in)."""
        position, characters = start.position(), self.document().characterCount()
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._put_message(cursor, message, branch)
        if self._header_position > position:  # a reply streams below: it moved
            shift = self.document().characterCount() - characters
            self._header_position += shift
            self._stream_start += shift if self._stream_start >= 0 else 0

    def _drop_unshown(self) -> None:
        self._show_timer.stop()
        self._unshown.clear()

    # Links -----------------------------------------------------------------

    def loadResource(self, resource_type: int, url: QUrl | str) -> Any:
        """Never fetch anything a message points at (remote images, files)."""
        return None

    def _on_anchor(self, url: QUrl) -> None:
        scheme, _, rest = url.toString().partition(":")
        if scheme == COPY_CODE_SCHEME:
            text = self._copy_texts.get(rest)  # a block's key begins with the token: a forged link names none
            if text is not None and rest.startswith(f"{self._token}-"):
                QGuiApplication.clipboard().setMimeData(self._copied(None, text))
        elif scheme in (COPY_MESSAGE_SCHEME, DETAILS_SCHEME, EDIT_SCHEME, REGENERATE_SCHEME, MORE_SCHEME, BRANCH_SCHEME,
                        OPEN_SOURCE_SCHEME):
            token, _, arguments = rest.partition(":")
            if secrets.compare_digest(token, self._token):
                self._act(scheme, arguments.split(":"))
        elif url.scheme() in OPENABLE_SCHEMES:
            QDesktopServices.openUrl(url)
        self.link_used.emit()

    def _act(self, scheme: str, arguments: list[str]) -> None:
        """Do what an app link of this view says; a malformed one does nothing."""
        if scheme == COPY_MESSAGE_SCHEME and arguments == ["unsaved"]:
            self.copy_message("unsaved")
            return
        try:
            numbers = [int(argument) for argument in arguments]
        except ValueError:
            return
        if scheme == BRANCH_SCHEME and len(numbers) == 2 and numbers[1] in (-1, 1):
            self.branch_requested.emit(numbers[0], numbers[1])
        elif scheme == OPEN_SOURCE_SCHEME and len(numbers) == 2 and (path := self._source_files.get((numbers[0], numbers[1]))):
            self.open_file_requested.emit(path)
        elif len(numbers) != 1:
            return
        elif scheme == COPY_MESSAGE_SCHEME:
            self.copy_message(str(numbers[0]))
        elif scheme == DETAILS_SCHEME:
            self.details_requested.emit(numbers[0])
        elif scheme == EDIT_SCHEME:
            self.edit_requested.emit(numbers[0])
        elif scheme == REGENERATE_SCHEME:
            self.regenerate_requested.emit(numbers[0])
        elif scheme == MORE_SCHEME:
            self.show_more_menu(numbers[0], QCursor.pos())

    def message_text(self, message_id: int) -> str | None:
        """A shown message's whole text (its Markdown source), None when it is not shown."""
        return self._copy_texts.get(str(message_id))

    def copy_message(self, key: str, as_markdown: bool = False) -> None:
        """Put a shown message on the clipboard: as rich text and plain text together
        (Copy), or as the Markdown it was written in (Copy as Markdown)."""
        text = self._copy_texts.get(key)
        if text is not None:
            body = None if as_markdown or not key.isdigit() else self._bodies.get(int(key))
            QGuiApplication.clipboard().setMimeData(self._copied(body, text))

    def _copied(self, body: Body | None, text: str) -> QMimeData:
        """A message as plain text and as rich text together, so that pasting into a word
        processor or an e-mail keeps its bold, lists and code; code as plain text only."""
        data = QMimeData()
        data.setText(text)
        if body is not None:
            data.setHtml(body.html)
        return data

    def spoken_text(self, message_id: int) -> str | None:
        """A shown message as it reads, without Markdown's marks; None when it is not shown."""
        body = self._bodies.get(message_id)
        return plain_text(body.html) if body is not None else None

    def quoted_selection(self) -> str:
        """The text selected on the page, '' when none."""
        return self.textCursor().selection().toPlainText() if self.textCursor().hasSelection() else ""

    def show_more_menu(self, message_id: int, at: QPoint) -> QMenu | None:
        """The rarer actions on a message, in a menu at `at` (the link clicked)."""
        text = self.message_text(message_id)
        if text is None:
            return None
        menu = QMenu(self)
        menu.addAction(self.tr("Copy as Markdown"), lambda: self.copy_message(str(message_id), as_markdown=True))
        menu.addAction(self.tr("Quote in a reply"), lambda: self.quote_requested.emit(self.quoted_selection() or text))
        menu.addAction(self.tr("Branch into a new chat"), lambda: self.branch_to_new_requested.emit(message_id))
        if self.can_read_aloud:
            menu.addAction(self.tr("Read aloud"), lambda: self.read_aloud_requested.emit(self.spoken_text(message_id) or text))
        menu.addSeparator()
        menu.addAction(self.tr("Delete this message and what follows it"), lambda: self.delete_requested.emit(message_id))
        if self.more_menu is not None:
            self.more_menu.deleteLater()
        self.more_menu = menu
        menu.popup(at)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The usual menu (copy, select all), and quoting what is selected."""
        menu = self.createStandardContextMenu(event.pos())
        selected = self.quoted_selection()
        if selected:
            menu.addSeparator()
            menu.addAction(self.tr("Quote in a reply"), lambda: self.quote_requested.emit(selected))
        menu.exec(event.globalPos())
        menu.deleteLater()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Home and Ctrl+End go to the top and to the end of the page (a read-only page
        has no caret for them to move); at the top (there, or by PageUp), older messages are
        asked for."""
        bar = self.verticalScrollBar()
        if event.matches(QKeySequence.StandardKey.MoveToStartOfDocument):
            bar.setValue(bar.minimum())
        elif event.matches(QKeySequence.StandardKey.MoveToEndOfDocument):
            self.follow_end.follow()
        else:
            super().keyPressEvent(event)
        self.older.check()

    def scroll_to_message(self, message_id: int) -> None:
        """Bring a message's header to the top of the view (a search hit being opened),
        and stay there as the page grows."""
        self.follow_end.stop()
        self.scrollToAnchor(f"message-{message_id}")
