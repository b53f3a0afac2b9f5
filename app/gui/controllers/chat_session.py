"""The chat session: which conversation is shown, and the turn being written.

A controller, not a widget. It owns the request ids and the streaming state, talks to
the store and to the inference worker, and tells the window what to show through
signals. A turn touches the store a constant number of times, however long the
conversation: the new question is appended to what is shown, and at the end only the
reply is read back (bench/gui_turn.py). A conversation is shown from its end, a page at a
time (`PAGE_MESSAGES`; `load_older` reads the page before what is shown), so opening one
costs the same however long it is. The store reader reads each page on its own thread
(with the view's `prepare`, which renders it there); until the first answers, nothing
can be sent.

After `shutdown()` it ignores the worker's signals still queued and refuses new work:
the store closes right after, and a late `finished` used to reach it
(`sqlite3.ProgrammingError: Cannot operate on a closed database`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.assistants.in_force import system_prompt_in_force
from app.assistants.model import Assistant
from app.backends.base import ReplyStats
from app.chat.provenance import ModelFile
from app.chat.reply import settings_in_force
from app.chat.reproduce import Reproduction
from app.conversations.store import BranchedThread, ConversationStore, DeletedMessages, Message, Role, Status, title_from
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.model_loader import ModelLoader
from app.gui.controllers.paced_pages import PacedPages
from app.gui.item_models.conversation_list import ConversationListModel
from app.gui.ops import run_in_background
from app.gui.workers.inference_worker import InferenceWorker, ReplyRequest, ReproduceRequest
from app.gui.workers.store_reader import PageRequest, Prepare, StoreReader
from app.platform.errors import HearthError

# Messages read, rendered and laid out at a time: opening shows the newest page, scrolling
# up adds the one before. Laying a page out on the GUI thread took 0.3 ms a message here
# (bench/gui_turn.py's question and Markdown reply: 50 messages 15-28 ms, 200 62-65 ms,
# shown or inserted above); 50 fill many screens, so a page is read well before the top.
PAGE_MESSAGES = 50
# What was read down to a far search hit is shown this many messages per turn of the event
# loop, from the hit down (app/gui/controllers/paced_pages.py). Every change to the page
# costs Qt a pass over all of it (0.015 ms a message shown here), so a part costs more the
# more is shown: from the first reply of 10,000 messages, 50 at a time took 15 s in all and
# 0.36 s at most per turn; 200 at a time 12 s and 0.97 s; all at once (before) 6.7 s in one.
PACED_MESSAGES = PAGE_MESSAGES


@dataclass(frozen=True)
class ShownThread:
    """A conversation as the view shows it. `streaming_here`: a reply to it is being
    written; it is not among `messages` (its saved copy lags), the view shows it from
    what streamed. `prepared`: what the view's `prepare` made of `messages` off the GUI
    thread, None when nothing was. `unsaved`: a reply the store could not take, shown last.
    `has_older`: `messages` are the end of the thread, older ones can be read (`load_older`).
    An older page (`older_shown`) is one too: its messages go above those shown."""

    conversation_id: int
    messages: list[Message]
    branches: dict[int, tuple[int, int]]  # as BranchedThread.branches: message id -> (position, count)
    streaming_here: bool
    prepared: Any = None
    unsaved: str = ""
    focus_message: int | None = None
    has_older: bool = False


class ChatSession(QObject):
    thread_shown = Signal(object)  # ShownThread
    older_shown = Signal(object)  # ShownThread: the page before the messages shown, to go above them
    newer_shown = Signal(object)  # ShownThread: messages read already, to go below those shown (a far hit's)
    nothing_shown = Signal()  # no conversation chosen: the window shows its empty state
    message_added = Signal(object, object)  # Message appended to the shown thread, its branch or None
    reply_started = Signal()  # a reply begins at the end of the shown thread
    reply_text = Signal(str)  # streamed text of that reply
    reply_saved = Signal(object, object)  # the finished reply (Message) and its branch, for the shown thread
    reply_finished = Signal(object)  # ReplyStats of any reply that ended normally or was stopped
    reply_failed = Signal(str)  # plain message
    documents_read = Signal(int, int)  # going through every document: parts done, parts in all
    prompt_read = Signal(float)  # share of a long prompt the model has read, before its first word
    state_changed = Signal()  # busy, or the shown conversation, changed
    notice = Signal(str)  # a passing remark for the status bar
    error = Signal(str, str)  # title, plain message
    reproduced = Signal(object)  # Reproduction: a Reproduce asked for here ended
    request_generate = Signal(object)  # ReplyRequest, to the worker's thread
    request_reproduce = Signal(object)  # ReproduceRequest, to the worker's thread
    request_thread = Signal(int, object, object)  # request id, PageRequest, Prepare: to the reader's thread

    def __init__(
        self,
        store: ConversationStore,
        reader: StoreReader,
        worker: InferenceWorker,
        loader: ModelLoader,
        settings: AppSettings,
        prepare: Callable[[], Prepare],
        open_store: Callable[[], ConversationStore],
    ) -> None:
        """`prepare()` is called on the GUI thread when a conversation is to be read; what it
        returns is called on the reader's thread with the messages read. `open_store()`
        opens a connection of its own for work that runs off the GUI thread."""
        super().__init__()
        self._store = store
        self._open_store = open_store
        self._branching = False  # a path is being copied into a new chat
        self._prepare = prepare
        self._worker = worker
        self._loader = loader
        self._settings = settings
        self._conversation_id: int | None = None
        self.conversations = ConversationListModel(store, shown=lambda: self._conversation_id)
        self._shown: list[Message] = []  # the end of the thread that has been read, oldest first
        self._has_older = False  # messages come before self._shown
        self._characters_before = 0  # in those messages
        self._reading_older = 0  # the request for the page before self._shown; 0: none
        self._paced = PacedPages(self, PACED_MESSAGES)  # read down to a far hit, still to be shown below it
        self._request_id = 0
        self._active_request: int | None = None
        self._streaming_conversation: int | None = None
        self._streaming_parent: int | None = None
        self._streaming_reply_id: int | None = None
        self._streamed: list[str] = []
        self._unsaved = ""  # the last reply of the shown conversation, when the store could not take it
        self._reading = 0  # the request the reader is answering for the shown conversation; 0: none
        self._at_message: int | None = None  # to show and scroll to once read (a search hit)
        self._branch_shown_for: int | None = None  # the message whose branch was shown to reach it
        self._reproducing = 0  # the Reproduce the worker is running; 0: none
        self._held = False  # other work on the conversation runs on the worker (a summary)
        self._shut_down = False
        self.assistant_for_new_chat: Assistant | None = None  # the picker's choice; None: the default system prompt
        self.documents_for_new_chat: list[str] = []  # collections attached before the chat began
        self.every_document_next = False  # the next question goes through every attached document
        self.request_generate.connect(worker.generate)
        self.request_reproduce.connect(worker.reproduce)
        worker.reproduced.connect(self._on_reproduced)
        self._reader = reader
        self.request_thread.connect(reader.load_thread)
        reader.thread_loaded.connect(self._on_thread_loaded)
        reader.failed.connect(self._on_read_failed)
        worker.reply_started.connect(self._on_reply_started)
        worker.token.connect(self._on_token)
        worker.documents_read.connect(self._on_documents_read)
        worker.prompt_read.connect(self._on_prompt_read)
        worker.finished.connect(self._on_reply_finished)
        worker.failed.connect(self._on_reply_failed)

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    @property
    def busy(self) -> bool:
        """A reply is being written (in whichever conversation)."""
        return self._active_request is not None

    @property
    def busy_elsewhere(self) -> str | None:
        """The title of another conversation a reply is being written in, None when the reply
        (if any) is in the one shown: Stop here must not stop that one by surprise."""
        streaming = self._streaming_conversation
        if not self.busy or streaming is None or streaming == self._conversation_id or self._shut_down:
            return None
        try:
            return self._store.conversation_title(streaming)
        except HearthError:
            return ""

    @property
    def reading(self) -> bool:
        """The shown conversation is being read; it shows once it is."""
        return self._reading != 0

    @property
    def can_reply(self) -> bool:
        return self._loader.ready and self.can_change

    @property
    def can_change(self) -> bool:
        """The shown conversation may be changed now (branched, its branch switched): no
        reply is being written, it is not being read or copied."""
        return (not self.busy and not self.reading and not self._paced.pending and not self.reproducing
                and not self._branching and not self._held and not self._shut_down)

    @property
    def opening(self) -> bool:
        """The shown conversation is still being read, or shown part by part (a far search hit)."""
        return self.reading or self._paced.pending

    def hold(self, held: bool) -> None:
        """Hold the conversation while other work on it runs on the worker (app/gui/controllers/summaries.py):
        nothing can be sent or changed meanwhile, and Stop stops that work."""
        self._held = held
        self.state_changed.emit()

    @property
    def held(self) -> bool:
        return self._held

    @property
    def reproducing(self) -> bool:
        """A reply is being written again (Reproduce) on the worker."""
        return self._reproducing != 0

    @property
    def streamed_text(self) -> str:
        return "".join(self._streamed)

    # Which conversation --------------------------------------------------------

    def open(self, conversation_id: int, at_message: int | None = None) -> None:
        """Show a conversation; with `at_message`, at that message (on its branch)."""
        if conversation_id != self._conversation_id:
            self._unsaved = ""
            self.every_document_next = False  # chosen for the next question of the chat it was chosen in
        self._conversation_id = conversation_id
        self._at_message, self._branch_shown_for = at_message, None
        self._show_thread()

    def new(self) -> None:
        """Nothing shown; the next message sent starts a conversation."""
        self._conversation_id = None
        self._shown = []
        self._reading = self._reading_older = self._reader.wanted = 0  # a read still queued is skipped
        self._has_older, self._characters_before = False, 0
        self._paced.cancel()
        self._unsaved = ""
        self.documents_for_new_chat = []
        self.every_document_next = False
        self.nothing_shown.emit()
        self.state_changed.emit()

    def open_latest(self) -> None:
        first = self.conversations.first_id()
        if first is None:
            self.new()
        else:
            self.open(first)

    def title(self) -> str:
        return self._store.conversation_title(self._conversation_id) if self._conversation_id is not None else ""

    def rename(self, title: str) -> None:
        conversation_id = self._conversation_id
        if conversation_id is None or not title.strip():
            return
        if self._saved(lambda: self._store.rename_conversation(conversation_id, title)):
            self.conversations.refresh()
            self.state_changed.emit()

    def delete(self) -> bool:
        """Move the shown conversation to the Trash (never while a reply is written), then
        show the newest. Whether it was moved."""
        conversation_id = self._conversation_id
        if conversation_id is None or self.busy:
            return False
        if not self._saved(lambda: self._store.delete_conversation(conversation_id)):
            return False
        self.conversations.refresh()
        self.open_latest()
        return True

    def delete_message(self, message_id: int) -> DeletedMessages | None:
        """Delete a shown message and what follows it (never while the conversation is
        changing); `restore_messages` takes it back. None when nothing was deleted."""
        if not self.can_change or self.shown_message(message_id) is None:
            return None
        deleted = self._saved(lambda: self._store.delete_message(message_id))
        if not isinstance(deleted, DeletedMessages):
            return None
        self._show_thread()
        return deleted

    def restore_messages(self, deleted: DeletedMessages) -> None:
        """Put back what `delete_message` took, and show its conversation as it was."""
        if (self.busy and self._streaming_conversation == deleted.conversation_id) or self.reproducing or self._branching:
            self.notice.emit(self.tr("Wait until the reply is written (or stop it), then try again."))
            return
        restored = self._saved(lambda: "restored" if self._store.restore_messages(deleted) else "gone")
        if restored == "restored":
            self.open(deleted.conversation_id)
        elif restored == "gone":  # a failed write was told already
            self.notice.emit(self.tr("The messages cannot come back: their conversation was deleted for good."))

    def show_alternative(self, message_id: int, step: int) -> None:
        """Show the previous (-1) or next (+1) alternative of a reply, and what follows it.
        One clicked above the newest page is read down to and shown where it was."""
        siblings = self._store.siblings(message_id)
        if message_id not in siblings or self.busy or self.reading or self._branching:
            return
        target = siblings[(siblings.index(message_id) + step) % len(siblings)]
        if self._saved(lambda: self._store.show_branch(target)) and all(
                m.id != message_id for m in self._shown[-PAGE_MESSAGES:]):
            self._at_message, self._branch_shown_for = target, target
        self._show_thread()

    def refresh(self) -> None:
        """Show the conversation again (after the look changed)."""
        if self._conversation_id is None:
            self.nothing_shown.emit()
        else:
            self._show_thread()

    def _show_thread(self) -> None:
        """Have the shown conversation read, and show it when it is."""
        conversation_id = self._conversation_id
        if conversation_id is None or self._shut_down:
            return
        self._request_id += 1
        self._reading = self._reader.wanted = self._request_id
        self._reading_older = 0  # its answer would go above another page
        self._paced.cancel()
        page = PageRequest(conversation_id, PAGE_MESSAGES, reach=self._at_message)
        self.request_thread.emit(self._request_id, page, self._prepare())
        self.state_changed.emit()

    @property
    def has_older(self) -> bool:
        """The shown conversation has messages before those read."""
        return self._has_older

    @property
    def characters_before(self) -> int:
        """How many characters the messages before those read hold (the context meter
        estimates their tokens)."""
        return self._characters_before

    @property
    def reading_older(self) -> bool:
        """The page before the messages shown is being read."""
        return self._reading_older != 0

    def load_older(self) -> None:
        """Have the page before the messages shown read; `older_shown` shows it. Nothing
        while one is read already, the conversation is being read, or all of it is shown."""
        conversation_id = self._conversation_id
        if (conversation_id is None or not self._has_older or not self._shown or self.reading or self._reading_older
                or self._paced.pending or self._shut_down):
            return
        self._request_id += 1
        self._reading_older = self._reader.wanted = self._request_id
        page = PageRequest(conversation_id, PAGE_MESSAGES, before=self._shown[0].id)
        self.request_thread.emit(self._request_id, page, self._prepare())

    def _on_older_loaded(self, thread: BranchedThread, prepared: Any) -> None:
        conversation_id = self._conversation_id
        self._reading_older = 0
        if conversation_id is None:
            return
        self._shown[:0] = thread.messages
        self._has_older, self._characters_before = thread.has_older, thread.characters_before
        self.older_shown.emit(ShownThread(conversation_id, thread.messages, thread.branches, False, prepared,
                                          has_older=thread.has_older))
        self.state_changed.emit()

    def _pace(self, conversation_id: int, thread: BranchedThread, prepared: Any) -> list[Message]:
        """Of a thread read down to a far hit (its first message), the messages to show now;
        the rest follows below them, PACED_MESSAGES per turn of the event loop. Nothing can
        be sent until it is all shown: a question goes below the last message."""
        rest = thread.messages[PACED_MESSAGES:]

        def show(page: list[Message]) -> None:
            self._shown.extend(page)
            self.newer_shown.emit(ShownThread(conversation_id, page, thread.branches, False, prepared))
            if not self._paced.pending:
                self.state_changed.emit()

        self._paced.start(rest, show)
        return thread.messages[:PACED_MESSAGES]

    def _on_thread_loaded(self, request_id: int, thread: BranchedThread, prepared: Any) -> None:
        conversation_id = self._conversation_id
        if request_id == self._reading_older and not self._shut_down:
            self._on_older_loaded(thread, prepared)
            return
        if request_id != self._reading or conversation_id is None or self._shut_down:
            return  # another conversation (or none) was chosen since
        self._reading = 0
        messages = thread.messages
        streaming_here = self.busy and self._streaming_conversation == conversation_id
        at_message, self._at_message = self._at_message, None
        if (at_message is not None and all(m.id != at_message for m in messages) and not streaming_here
                and self._branch_shown_for != at_message):  # once: the message may have been deleted since
            # On a branch not shown: show that one (as its arrows would), then read again.
            self._branch_shown_for = at_message
            if self._saved(lambda: self._store.show_branch(at_message)):
                self._at_message = at_message
                self._show_thread()
                return
        if streaming_here:
            messages = [m for m in messages if m.id != self._streaming_reply_id and m.status != Status.STREAMING]
        focus = at_message if any(m.id == at_message for m in messages) else None
        if focus is not None and len(messages) > PACED_MESSAGES and not streaming_here and not self._unsaved:
            messages = self._pace(conversation_id, thread, prepared)
        self._shown, self._has_older, self._characters_before = messages, thread.has_older, thread.characters_before
        self.thread_shown.emit(
            ShownThread(conversation_id, messages, thread.branches, streaming_here, prepared, self._unsaved, focus,
                        thread.has_older)
        )
        self.state_changed.emit()

    def _on_read_failed(self, request_id: int, message: str) -> None:
        """Told, then nothing is shown: what is on the page belongs to the conversation shown
        before, and a message sent now must not be added to the other one below it."""
        if request_id == self._reading_older and not self._shut_down:  # what is shown stays; scrolling up tries again
            self._reading_older = 0
            self.notice.emit(self.tr("The older messages could not be read: {reason}").format(reason=message))
        elif request_id == self._reading and not self._shut_down:
            self.error.emit(self.tr("The conversation could not be opened"), message)
            self.new()

    def shown_message(self, message_id: int) -> Message | None:
        """A message of the thread shown, None when it is not on it (or not read yet)."""
        return next((m for m in self._shown if m.id == message_id), None)

    def shown_messages(self) -> Sequence[Message]:
        """The thread shown, oldest first, from the oldest message read (not a copy: read it,
        never change it)."""
        return self._shown

    def last_message(self, role: Role) -> Message | None:
        """The last message `role` wrote on the thread shown."""
        return next((m for m in reversed(self._shown) if m.role == role), None)

    def _branch_of(self, message_id: int) -> tuple[int, int]:
        siblings = self._store.siblings(message_id)
        return siblings.index(message_id) + 1, len(siblings)

    def restore(self, conversation_id: int) -> None:
        """Take a conversation out of the Trash and show it."""
        if self._saved(lambda: self._store.restore_conversation(conversation_id)):
            self.conversations.refresh()
            self.open(conversation_id)

    def set_pinned(self, pinned: bool) -> None:
        """Pin the shown conversation to the top of the list, or unpin it."""
        conversation_id = self._conversation_id
        if conversation_id is not None and self._saved(lambda: self._store.set_pinned(conversation_id, pinned)):
            self.conversations.refresh()
            self.state_changed.emit()

    # A turn --------------------------------------------------------------------

    def send(self, text: str) -> bool:
        """Save `text` as the next message and start its reply. False when nothing was
        saved (no model, busy, a store error): the caller keeps the text."""
        if not text.strip() or not self.can_reply:
            return False
        conversation_id = self._conversation_id
        parent = self._shown[-1].id if self._shown and conversation_id is not None else None

        def add() -> tuple[int, int]:
            target, first_parent = conversation_id, parent
            if target is None:
                target, first_parent = self._begin_conversation(title_from(text))
            return target, self._store.add_message(target, first_parent, Role.USER, text)

        added = self._saved(add)
        if not added:
            return False
        self._unsaved = ""
        self._conversation_id, message_id = added
        message = self._store.message(message_id)
        assert message is not None  # just written on this connection
        self.conversations.refresh()
        if conversation_id is None:
            self._shown = self._store.path_to(message_id)  # the assistant's greeting, if any, and the question
            self._has_older, self._characters_before = False, 0
            self.thread_shown.emit(ShownThread(message.conversation_id, list(self._shown), {}, streaming_here=False))
        else:
            self._shown.append(message)
            self.message_added.emit(message, None)
        self._start_reply(message_id)
        return True

    def _begin_conversation(self, title: str) -> tuple[int, int | None]:
        """A new conversation that records its assistant, the system prompt in force, the
        model and the documents attached; the assistant's greeting is its first message. Its id, and the greeting's."""
        assistant, settings = self.assistant_for_new_chat, self._settings.current()
        system_prompt = system_prompt_in_force(settings_in_force(None, settings, self._settings.locked, assistant))
        conversation_id = self._store.create_conversation(
            title, system_prompt=system_prompt, model_id=self._loader.model_id,
            assistant_id=assistant.id if assistant is not None else None,
        )
        if self.documents_for_new_chat:
            self._store.set_attached_documents(conversation_id, self.documents_for_new_chat)
            self.documents_for_new_chat = []
        greeting = assistant.greeting_text if assistant is not None else ""
        return conversation_id, self._store.add_message(conversation_id, None, Role.ASSISTANT, greeting) if greeting else None

    def regenerate(self, message_id: int | None = None) -> None:
        """Write a reply again: the last one, or the reply `message_id` on the thread shown.
        The new reply is a sibling of it under the same question, and its branch is shown;
        the earlier one, and what followed it, stay as an alternative."""
        conversation_id = self._conversation_id
        if conversation_id is None or not self._shown or not self._may_reply():
            return
        # A summary after the last reply is not written by a question: the reply before it is
        # written again (the summary stays on the earlier branch).
        last = (next((m for m in reversed(self._shown) if m.role != Role.SYSTEM), None) if message_id is None
                else self.shown_message(message_id))
        if last is None or last.role == Role.SYSTEM:
            return
        parent_id = last.parent_id if last.role == Role.ASSISTANT else last.id
        if parent_id is None or not self._saved(lambda: self._store.set_current_leaf(conversation_id, parent_id)):
            return
        self._show_thread()
        self._start_reply(parent_id)

    def edit(self, message_id: int, text: str) -> bool:
        """Save `text` as a new version of the question `message_id` (a sibling: same
        parent) and start its reply; the old version and what followed it stay as a branch.
        False when nothing was saved (no model, busy, not in the conversation shown, a store error)."""
        conversation_id = self._conversation_id
        if not text.strip() or conversation_id is None or not self._may_reply():
            return False
        # One row: the arrows may have shown another branch since the edit began.
        edited = self.shown_message(message_id) or self._store.message(message_id)
        if edited is None or edited.conversation_id != conversation_id or edited.role != Role.USER:
            return False
        added = self._saved(lambda: self._store.add_message(conversation_id, edited.parent_id, Role.USER, text))
        if not added:
            return False
        self._unsaved = ""
        self.conversations.refresh()
        self._show_thread()
        self._start_reply(added)
        return True

    def branch_to_new_chat(self, message_id: int) -> None:
        """Copy the path down to `message_id` into a new conversation and show it. The copy
        grows with the conversation: it runs off the GUI thread on a connection of its own."""
        message = self.shown_message(message_id)
        if message is None or not self.can_change:
            if message is not None:
                self.notice.emit(self.tr("Wait until the reply is written, then branch."))
            return
        title = self.tr("{title} (branch)").format(title=self.title())
        open_store = self._open_store

        def copy() -> int:
            store = open_store()
            try:
                return store.branch_to_new_conversation(message_id, title)
            finally:
                store.close()

        self._branching = True
        self.state_changed.emit()
        run_in_background(self, copy, on_success=self._on_branched, on_failure=self._on_branch_failed)

    def _on_branched(self, conversation_id: int) -> None:
        self._branching = False
        if self._shut_down:
            return
        self.conversations.refresh()
        self.open(conversation_id)
        self.notice.emit(self.tr("Branched into a new chat: “{title}”.").format(title=self.title()))

    def _on_branch_failed(self, error: Exception) -> None:
        self._branching = False
        self.state_changed.emit()
        if not self._shut_down:
            self.error.emit(self.tr("The new chat could not be made"), str(error) if isinstance(error, HearthError) else
                            self.tr("Hearth could not copy the conversation. The details are in its log."))

    def _may_reply(self) -> bool:
        """Whether a reply can start now; if only the turn under way is in the way, say so."""
        if not self.can_reply and self._loader.ready and self.busy:
            self.notice.emit(self.tr("Wait until the reply is written (or stop it), then try again."))
        return self.can_reply

    def stop(self) -> None:
        """Stop the reply being written in the conversation shown (or a Reproduce)."""
        if (self.busy and self.busy_elsewhere is None) or self.reproducing or self._held:
            self._worker.cancel.set()

    def reproduce(self, message_id: int) -> bool:
        """Write the reply `message_id` again with the model, seed and settings it records
        and say (`reproduced`) whether it came out the same. False when it cannot start now."""
        if not self.can_reply:
            return False
        self._request_id += 1
        self._reproducing = self._request_id
        settings = self._settings.current()
        self.state_changed.emit()
        self._worker.before_chat_request()
        self.request_reproduce.emit(ReproduceRequest(
            self._request_id, message_id, copy.deepcopy(settings),
            settings.preferences_of(self._loader.model_id).prompt_format, self._settings.locked, self._model_file(),
        ))
        return True

    def _on_reproduced(self, request_id: int, outcome: Reproduction) -> None:
        if request_id != self._reproducing or self._shut_down:
            return
        self._reproducing = 0
        self.reproduced.emit(outcome)
        self.state_changed.emit()

    def _model_file(self) -> ModelFile | None:
        entry = self._loader.entry()
        return ModelFile.from_entry(entry) if entry is not None else None

    def _start_reply(self, parent_id: int) -> None:
        self._request_id += 1
        self._active_request = self._request_id
        self._streaming_conversation = self._conversation_id
        self._streaming_parent = parent_id
        self._streaming_reply_id = None
        self._streamed = []
        self.reply_started.emit()
        self.state_changed.emit()
        settings = self._settings.current()
        preference = settings.preferences_of(self._loader.model_id).prompt_format
        self._worker.before_chat_request()
        every_document, self.every_document_next = self.every_document_next, False
        self.request_generate.emit(
            ReplyRequest(
                self._request_id, parent_id, copy.deepcopy(settings), preference, self._settings.locked, self._model_file(),
                every_document=every_document,
            )
        )

    def _current(self, request_id: int) -> bool:
        return request_id == self._active_request and not self._shut_down

    def _on_reply_started(self, request_id: int, message_id: int, omitted: int) -> None:
        if not self._current(request_id):
            return
        self._streaming_reply_id = message_id
        if omitted:
            self.notice.emit(self.tr(
                "This conversation is longer than the model can read at once: the oldest "
                "%n messages were left out of this reply. They are still saved.", "", omitted
            ))

    def _on_prompt_read(self, request_id: int, fraction: float) -> None:
        if self._current(request_id):
            self.prompt_read.emit(fraction)

    def _on_documents_read(self, request_id: int, done: int, total: int) -> None:
        if self._current(request_id):
            self.documents_read.emit(done, total)

    def _on_token(self, request_id: int, text: str) -> None:
        if self._current(request_id):
            self._streamed.append(text)
            self.reply_text.emit(text)  # the view keeps it while another chat is shown

    def _on_reply_finished(self, request_id: int, stats: ReplyStats) -> None:
        if not self._current(request_id):
            return
        shown_here = self._streaming_conversation == self._conversation_id
        reply_id = self._streaming_reply_id
        self._end_reply()
        if shown_here and self.reading:  # the read under way may have the reply half written
            self._show_thread()
            shown_here = False
        reply = self._store.message(reply_id) if shown_here and reply_id is not None else None
        if reply is not None:
            self._shown.append(reply)
            self.reply_saved.emit(reply, self._branch_of(reply.id))
        self.reply_finished.emit(stats)
        self.state_changed.emit()

    def _on_reply_failed(self, request_id: int, message: str) -> None:
        if not self._current(request_id):
            return
        partial = self.streamed_text
        reply_id, shown_here = self._streaming_reply_id, self._streaming_conversation == self._conversation_id
        if reply_id is None and self._streaming_parent is not None:
            # No reply was started: show the question's earlier answers again, if any.
            parent = self._streaming_parent
            self._saved(lambda: self._store.show_branch(parent))
        self._end_reply()
        saved = self._store.message(reply_id) if reply_id is not None else None
        if partial and shown_here and (saved is None or saved.content != partial):
            self._unsaved = partial
        self.reply_failed.emit(message)
        if shown_here:
            self._show_thread()
        self.state_changed.emit()

    def _end_reply(self) -> None:
        self._active_request = None
        self._streaming_conversation = None
        self.conversations.refresh()

    # The end -------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the reply being written and ignore everything the worker still sends."""
        self._shut_down = True
        self._paced.cancel()
        self._worker.cancel.set()

    @property
    def shut_down(self) -> bool:
        """The window is closing: the store closes next, and nothing may touch it."""
        return self._shut_down

    def _saved(self, work: Callable[[], Any]) -> Any:
        """Run a store write; a failure is told (as 'Not saved'), not raised. The work's
        result, True when it returns nothing, or False when it failed."""
        try:
            result = work()
        except HearthError as exc:
            self.error.emit(self.tr("Not saved"), str(exc))
            return False
        return True if result is None else result
