"""The PyInstaller bundle: build it, run its self-test, open its window offscreen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "packaging"))
from llama_dist import BASELINE_LABEL, default_cache

pytestmark = pytest.mark.bundle

# The Linux one-folder bundle, without a model: 244 MB on 2026-11-23, 287 MB with the
# documents readers (2026-12-03: pypdfium2 9 MB, lxml 12 MB, Pillow 22 MB for python-pptx,
# python-docx/pptx, openpyxl and odfpy 10 MB). docs/PERFORMANCE.md says what could go.
SIZE_LIMIT = 300 * 1000 * 1000
# Read at import, before the fixtures point HOME at a temporary folder: the distribution
# llama.cpp compiles once per machine (5 minutes here), not once per test run.
LLAMA_CACHE = default_cache()
QEMU = shutil.which("qemu-x86_64")
# qemu 7.2's models of these CPUs, less the features its emulator lacks (each would warn).
HASWELL = "Haswell,-pcid,-x2apic,-tsc-deadline,-hle,-invpcid,-rtm"  # AVX2, no AVX-512, no AMX
SANDY_BRIDGE = "SandyBridge,-pcid,-x2apic,-tsc-deadline"  # AVX, no AVX2: below the bundle's baseline


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if sys.platform != "linux":
        pytest.skip("only the Linux bundle is built and tested here")
    out = tmp_path_factory.mktemp("bundle")
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--with-starter-model", "--tarball", "--llama-cache", str(LLAMA_CACHE),
         "--dist", str(out / "dist"), "--work", str(out / "build")],
        capture_output=True, text=True, timeout=2700,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "dist" / "hearth"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "HEARTH_DATA_DIR")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"))
    return env


def test_the_bundle_answers_its_self_test(bundle: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(bundle / "hearth"), "--self-test"], capture_output=True, text=True,
                            timeout=300, env=_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bundle" in result.stdout.splitlines()[0], "the build record is read from the bundle"
    assert f"llama.cpp needs: {BASELINE_LABEL}" in result.stdout
    assert "ok: answered in" in result.stdout and result.stdout.strip().endswith("Self-test passed.")
    # The PDF, Office and EPUB readers were frozen with it (pypdfium2, python-docx, python-pptx, openpyxl, odfpy).
    assert "ok: documents read and searched (PDF, DOCX, PPTX, XLSX, ODT, EPUB)" in result.stdout


def emulated(bundle: Path, cpu: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The bundle's self-test on an emulated CPU. PyInstaller's bootloader starts itself
    again; qemu would run that second process natively unless it is told, through these
    variables, that it already is the restarted one (the exact path of the program)."""
    assert QEMU is not None
    program = os.path.realpath(bundle / "hearth")
    variables = {"_PYI_ARCHIVE_FILE": program, "_PYI_PARENT_PROCESS_LEVEL": "-1",
                 "_PYI_LINUX_PROCESS_NAME": "hearth", "LD_LIBRARY_PATH": str(bundle / "_internal")}
    command = [QEMU, "-cpu", cpu, *(f for k, v in variables.items() for f in ("-E", f"{k}={v}")), program, "--self-test"]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=_env(tmp_path))


@pytest.mark.skipif(QEMU is None, reason="qemu-user is not installed (apt-get install qemu-user): no emulated CPU")
def test_the_bundle_runs_on_an_older_cpu_and_explains_one_too_old(bundle: Path, tmp_path: Path) -> None:
    haswell = emulated(bundle, HASWELL, tmp_path)
    assert haswell.returncode == 0, haswell.stdout + haswell.stderr[-3000:]
    assert haswell.stdout.strip().endswith("Self-test passed.")
    # Proof that the emulation held (a native run would pass): below the baseline it is a sentence, not a crash.
    sandy_bridge = emulated(bundle, SANDY_BRIDGE, tmp_path)
    assert sandy_bridge.returncode == 1, sandy_bridge.stdout + sandy_bridge.stderr[-3000:]
    assert "This computer's processor is too old for this copy of Hearth" in sandy_bridge.stdout
    assert "Illegal instruction" not in sandy_bridge.stderr


def test_the_bundle_opens_its_window_offscreen_and_quits(bundle: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(bundle / "hearth"), "--data-dir", str(tmp_path / "data"), "--exit-when-shown"],
                            capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "window shown" in result.stdout
    log = (tmp_path / "data" / "logs" / "hearth.log").read_text(encoding="utf-8")
    assert "window shown" in log


def test_the_bundle_is_small_and_carries_what_it_needs(bundle: Path) -> None:
    files = [f for f in bundle.rglob("*") if f.is_file() and not f.is_symlink()]
    model = sum(f.stat().st_size for f in files if f.suffix == ".gguf")
    assert sum(f.stat().st_size for f in files) - model <= SIZE_LIMIT
    names = {f.name for f in files}
    assert any(n.startswith("libllama.so") for n in names) and any(n.startswith("libggml-cpu.so") for n in names)
    assert (bundle / "_internal" / "resources" / "catalog.json").is_file()
    plugins = {p.name for p in (bundle / "_internal" / "PySide6" / "Qt" / "plugins").iterdir()}
    assert {"platforms", "platforminputcontexts"} <= plugins and not {"sqldrivers", "qmltooling", "tls"} & plugins
    assert "printsupport" in plugins and any(n.startswith("libQt6PrintSupport.so") for n in names), "File → Print…"
    assert list(bundle.parent.glob("hearth-*-linux-*.tar.gz")), "the per-user tarball"


def test_a_policy_beside_the_bundle_is_read_and_errors_are_named(bundle: Path, tmp_path: Path) -> None:
    policy = bundle / "policy.toml"
    policy.write_text('downloads = false\n[settings]\ntemperature = "hot"\n')
    try:
        env = {**_env(tmp_path), "HEARTH_POLICY_FILE": str(tmp_path / "ignored-in-a-bundle.toml")}
        listed = subprocess.run([str(bundle / "hearth"), "--data-dir", str(tmp_path / "d"), "models", "list"],
                                capture_output=True, text=True, timeout=120, env=env)
        pulled = subprocess.run([str(bundle / "hearth"), "--data-dir", str(tmp_path / "d"), "models", "pull",
                                 "qwen2.5-0.5b-instruct"], capture_output=True, text=True, timeout=120, env=env)
    finally:
        policy.unlink()
    assert listed.returncode == 0 and "line 3: temperature must be a float" in listed.stderr
    assert pulled.returncode == 1 and "Downloads are turned off by your administrator" in pulled.stderr
