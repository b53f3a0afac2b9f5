"""Ask your documents: extract text from a person's files, chunk it, embed it through a
backend, index it in SQLite (FTS5 and vectors) and retrieve passages with their sources."""
