"""ChatGPT data exports written from the documented format, for the import tests and
bench/import_chats.py.

A conversation is {"title", "create_time", "update_time", "mapping", "current_node",
"conversation_id", "id", ...}; `mapping` maps each node id to {"id", "message",
"parent", "children"}; a message is {"id", "author": {"role"}, "create_time",
"content": {"content_type", "parts"}, "status", "metadata", "recipient"}.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

LISBON_ID = "6740a1c2-90b4-8002-a1b2-0c1d2e3f4a5b"
PHOTO_ID = "6740a1c2-90b4-8002-a1b2-9f8e7d6c5b4a"


def node(node_id: str, parent: str | None, children: list[str], message: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def message(node_id: str, role: str, parts: list[Any] | None = None, *, created: float = 1_700_000_000.0,
            content_type: str = "text", hidden: bool = False, recipient: str = "all",
            status: str = "finished_successfully", **content: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"model_slug": "gpt-4o"} if role == "assistant" else {}
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    return {
        "id": node_id, "author": {"role": role, "name": None, "metadata": {}}, "create_time": created,
        "update_time": None, "content": {"content_type": content_type, **({"parts": parts} if parts is not None else {}),
                                         **content},
        "status": status, "end_turn": role == "assistant", "weight": 1.0, "metadata": metadata,
        "recipient": recipient, "channel": None,
    }


def lisbon_conversation() -> dict[str, Any]:
    """System, custom-instruction (hidden), tool and null nodes; the first reply
    regenerated (two branches), the second branch shown."""
    t = 1_700_000_000.0
    mapping = {
        "root": node("root", None, ["sys"], None),
        "sys": node("sys", "root", ["ctx"], message("sys", "system", [""], created=t, hidden=True)),
        "ctx": node("ctx", "sys", ["u1"], message("ctx", "user", created=t, content_type="user_editable_context",
                                                   hidden=True, user_profile="I like food", user_instructions="")),
        "u1": node("u1", "ctx", ["a1", "a2"], message("u1", "user", ["Plan three days in Lisbon."], created=t + 1)),
        "a1": node("a1", "u1", [], message("a1", "assistant", ["Day 1: Alfama."], created=t + 2)),
        "a2": node("a2", "u1", ["u2"], message("a2", "assistant", ["Day 1: Belém."], created=t + 3)),
        "u2": node("u2", "a2", ["call"], message("u2", "user", ["What should I eat?"], created=t + 4)),
        "call": node("call", "u2", ["tool"], message("call", "assistant", created=t + 5, content_type="code",
                                                      recipient="browser", language="unknown", text="search('nata')")),
        "tool": node("tool", "call", ["a3"], message("tool", "tool", created=t + 6,
                                                      content_type="tether_browsing_display", result="…")),
        "a3": node("a3", "tool", [], message("a3", "assistant", ["Try **pastéis de nata**."], created=t + 7)),
    }
    return {"title": "Lisbon trip", "create_time": t, "update_time": t + 7, "mapping": mapping,
            "moderation_results": [], "current_node": "a3", "plugin_ids": None,
            "conversation_id": LISBON_ID, "id": LISBON_ID, "default_model_slug": "gpt-4o"}


def photo_conversation() -> dict[str, Any]:
    """A picture and text in one message (multimodal_text), no title, an old export
    (only "id"), a reply stopped part way."""
    t = 1_690_000_000.0
    image = {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-abc", "width": 640}
    mapping = {
        "r": node("r", None, ["q"], None),
        "q": node("q", "r", ["a"], message("q", "user", [image, "What is in this photo?"], created=t + 1,
                                           content_type="multimodal_text")),
        "a": node("a", "q", [], message("a", "assistant", ["A cat on a"], created=t + 2,
                                        status="finished_partial_completion")),
    }
    return {"title": None, "create_time": t, "update_time": t + 2, "mapping": mapping, "current_node": "a",
            "id": PHOTO_ID}


def write_export(folder: Path, conversations: list[dict[str, Any]], per_file: int | None = None) -> list[Path]:
    """conversations.json (per_file None: an older export) or conversations-000.json,
    -001, ... of `per_file` conversations each (a current one), with the export's other files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "user.json").write_text(json.dumps({"id": "user-1", "email": "a@example.org"}))
    (folder / "chat.html").write_text("<html></html>")
    if per_file is None:
        files = [folder / "conversations.json"]
        files[0].write_text(json.dumps(conversations, indent=2))
        return files
    files = []
    for number, start in enumerate(range(0, len(conversations), per_file)):
        path = folder / f"conversations-{number:03d}.json"
        path.write_text(json.dumps(conversations[start:start + per_file], indent=2))
        files.append(path)
    return files


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.iterdir()):
            out.write(path, path.name)
    return archive
