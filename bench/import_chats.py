"""Importing a large ChatGPT export, against the raw ijson parse of the same file in the
same run.

    .venv/bin/python bench/import_chats.py [--messages 200000] [--sizes 50000]

Writes a conversations.json of `--messages` shown messages (ChatGPT's documented layout:
a mapping tree per conversation with a null root, a hidden system node, a regenerated
reply every fifth turn, ~300 characters a message), then, each in a fresh process so its
peak memory is its own:
- baseline: ijson (C backend) reading every conversation of the file, nothing else;
- Hearth: `import_conversations` into an empty store (check pass + write pass).
Prints messages/s, the ratio of the baseline's time to Hearth's, and each one's peak
resident memory; `--sizes` adds smaller exports, to show that memory does not grow with
the file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.chatgpt_export import message, node  # noqa: E402

TURNS = 10  # question + answer pairs a conversation
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "the", "model", "explains", "how", "llamas", "dream"]


def text(seed: int) -> str:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(55)]
    return " ".join(words)  # ~300 characters


def conversation(number: int) -> tuple[dict[str, Any], int]:
    """One conversation and how many shown messages it holds."""
    t = 1_700_000_000.0 + number
    mapping = {"root": node("root", None, ["sys"], None),
               "sys": node("sys", "root", [], message("sys", "system", [""], created=t, hidden=True))}
    parent, count = "sys", 0
    for turn in range(TURNS):
        question, answer = f"q{turn}", f"a{turn}"
        mapping[parent]["children"].append(question)
        mapping[question] = node(question, parent, [answer], message(question, "user", [text(number + turn)], created=t))
        mapping[answer] = node(answer, question, [], message(answer, "assistant", [text(number - turn)], created=t))
        count += 2
        if turn % 5 == 4:  # a regenerated reply: a second branch
            mapping[question]["children"].append(f"{answer}b")
            mapping[f"{answer}b"] = node(f"{answer}b", question, [], message(f"{answer}b", "assistant", [text(turn)], created=t))
            count += 1
        parent = answer
    conversation_id = f"bench-{number:08d}"
    return ({"title": f"Conversation {number}", "create_time": t, "update_time": t, "mapping": mapping,
             "current_node": parent, "conversation_id": conversation_id, "id": conversation_id}, count)


def write_export(path: Path, messages: int) -> int:
    written, number = 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < messages:
            entry, count = conversation(number)
            out.write(("," if number else "") + json.dumps(entry))
            written, number = written + count, number + 1
        out.write("]")
    return written


def child(kind: str, file: Path, store_path: Path) -> None:
    """In its own process: one measurement, printed as JSON."""
    import ijson

    from app.conversations.store import SqliteConversationStore
    from app.conversations.transfer.importer import import_conversations

    start = time.perf_counter()
    if kind == "baseline":
        with file.open("rb") as handle:
            for _entry in ijson.items(handle, "item", use_float=True, buf_size=65536):
                pass
    else:
        store = SqliteConversationStore(store_path)
        result = import_conversations(store, file)
        store.close()
        assert not result.problems, result.problems
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def measure(kind: str, file: Path, folder: Path) -> dict[str, float]:
    store_path = folder / f"{kind}-{file.stem}.sqlite3"
    output = subprocess.run([sys.executable, __file__, "--child", kind, str(file), str(store_path)],
                            check=True, capture_output=True, text=True).stdout
    measured: dict[str, float] = json.loads(output)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[50_000])
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "STORE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as temporary:
        folder = Path(temporary)
        for size in sorted({*args.sizes, args.messages}):
            file = folder / f"conversations-{size}.json"
            shown = write_export(file, size)
            baseline, hearth = measure("baseline", file, folder), measure("import", file, folder)
            print(f"{shown:,} messages, {file.stat().st_size / 1e6:,.0f} MB: "
                  f"Hearth {shown / hearth['seconds']:,.0f} messages/s ({hearth['seconds']:.1f} s), "
                  f"peak {hearth['peak_mb']:.0f} MB; raw ijson parse {baseline['seconds']:.1f} s, "
                  f"peak {baseline['peak_mb']:.0f} MB; ratio (parse time / import time) "
                  f"{baseline['seconds'] / hearth['seconds']:.2f}")


if __name__ == "__main__":
    main()
