"""FTS5 queries built from what a person typed, so that nothing typed is read as FTS syntax.

Used by conversation search (app/conversations/search.py) and document retrieval
(app/documents/retrieve.py)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

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
    return words_expression(search_words(text), every_word=every_word, last_as_prefix=last_as_prefix)


def search_words(text: str) -> list[str]:
    """The words of `text` FTS5 would index (at most MAX_WORDS)."""
    return list(_WORD.findall(text)[:MAX_WORDS])


def index_term(word: str) -> str:
    """`word` as the unicode61 tokenizer with remove_diacritics stores it: lowercase, no accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def words_expression(words: Sequence[str], *, every_word: bool = True, last_as_prefix: bool = True) -> str | None:
    """match_expression for words already found (search_words)."""
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    if last_as_prefix:
        quoted[-1] += "*"
    return (" AND " if every_word else " OR ").join(quoted)
