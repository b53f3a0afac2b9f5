"""FTS5 queries built from what a person typed, so that nothing typed is read as FTS syntax.

Used by conversation search (app/conversations/search.py) and document retrieval
(app/documents/retrieve.py)."""

from __future__ import annotations

import re

# Each word is one more index lookup; a pasted page of text needs no more than these
# to find the message it came from.
MAX_WORDS = 24

# FTS5's unicode61 tokenizer keeps letters, digits and private-use characters and splits on
# everything else; `\w` is the same less the underscore, which unicode61 also splits on.
_WORD = re.compile(r"[^\W_]+")


def match_expression(text: str, *, every_word: bool = True, last_as_prefix: bool = True) -> str | None:
    """An FTS5 query that finds `text`'s words (all of them, or any of them where
    `every_word` is False, ranked by BM25), the last one also as the start of a word
    when `last_as_prefix` (the person may still be typing it); None when `text` has no
    words to look for.

    Each word becomes a quoted string, so nothing typed is read as FTS syntax: quotes,
    `*`, `-`, `^`, `:`, brackets, NEAR, AND, OR and NOT are all just text."""
    words = _WORD.findall(text)[:MAX_WORDS]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    if last_as_prefix:
        quoted[-1] += "*"
    return (" AND " if every_word else " OR ").join(quoted)
