"""`/usr/bin/python3 atspi_walk.py PID WINDOWS`: what a screen reader finds of the
application with process id PID, read through the real AT-SPI bus, as JSON on stdout.

Runs on the system's Python, which has Debian's pyatspi (python3-pyatspi); it imports
nothing of Hearth. It waits until the application shows WINDOWS top-level windows, then
writes one entry per accessible object: its path from the window (role and name of each
ancestor), role, name, description, the text of its text interface, and for tables and
lists the number of rows and the names of the first cells.
"""

import json
import sys
import time

import pyatspi
from gi.repository import GLib

# Rows and cells are read only this far: a table's own row count says how many it has,
# and each object read is a D-Bus round trip (about 0.3 ms here).
CELLS_READ = 60
LIST_ROLES = {"table", "tree table", "list", "list box", "tree"}


def _find_application(pid, windows, deadline):
    while True:
        desktop = pyatspi.Registry.getDesktop(0)
        for index in range(desktop.childCount):
            application = desktop.getChildAtIndex(index)
            try:
                if application is not None and application.get_process_id() == pid and application.childCount >= windows:
                    return application
            except GLib.GError:  # an application leaving the bus while it is read
                continue
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _text(node):
    try:
        text = node.queryText()
    except NotImplementedError:
        return None
    return text.getText(0, text.characterCount)


def _table(node):
    try:
        table = node.queryTable()
    except NotImplementedError:
        return None
    return {"rows": table.nRows, "columns": table.nColumns}


def _entry(node, path):
    return {
        "path": path,
        "role": node.getRoleName(),
        "name": node.name or "",
        "description": node.description or "",
        "showing": node.getState().contains(pyatspi.STATE_SHOWING),
        "text": _text(node),
        "table": _table(node),
        "children": node.childCount,
    }


def walk(node, path, found):
    entry = _entry(node, path)
    found.append(entry)
    here = [*path, f"{entry['role']} {entry['name']!r}"]
    limit = CELLS_READ if entry["role"] in LIST_ROLES else node.childCount
    for index in range(min(node.childCount, limit)):
        child = node.getChildAtIndex(index)
        if child is not None:
            walk(child, here, found)


def main():
    pid, windows = int(sys.argv[1]), int(sys.argv[2])
    application = _find_application(pid, windows, time.monotonic() + 30)
    if application is None:
        print(json.dumps({"error": f"no application with process id {pid} and {windows} windows on the accessibility bus"}))
        return 1
    found = []
    for index in range(application.childCount):
        walk(application.getChildAtIndex(index), [], found)
    print(json.dumps({"objects": found}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
