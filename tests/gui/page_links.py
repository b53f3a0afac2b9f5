"""The links of a chat page, found and clicked as a person would click them."""

from __future__ import annotations

from PySide6.QtCore import QUrl

from app.gui.widgets.chat_view import ChatView


def page_links(view: ChatView, scheme: str) -> list[str]:
    """The hrefs on the page that begin with `scheme:`, in page order, each once."""
    links: list[str] = []
    block = view.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            href = fragments.fragment().charFormat().anchorHref()
            if href.startswith(f"{scheme}:") and href not in links:
                links.append(href)
            fragments += 1
        block = block.next()
    return links


def message_link(view: ChatView, scheme: str, message_id: int | str, *arguments: object) -> str:
    """The link `scheme` in the header of the message `message_id`: the view's own (with
    its token), not one a reply wrote."""
    wanted = ":".join(map(str, (scheme, view._token, message_id, *arguments)))
    (link,) = [href for href in page_links(view, scheme) if href == wanted]
    return link


def click(view: ChatView, href: str) -> None:
    view.anchorClicked.emit(QUrl(href))
