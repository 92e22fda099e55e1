"""Lock files for the install profiles: `lock` writes them from pyproject.toml, `check` fails
when pyproject.toml's dependencies changed since they were written.

Two profiles: `app.txt` (what `cowrite serve` needs) and `dev.txt` (that plus the `dev` extra:
test and lint tools). Both pin every package with hashes for every platform, and start with a
stamp line: the digest of the dependency lists they were compiled from. Runs on the standard
library alone (it is used before any virtual environment exists), with `uv` for `lock`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYPROJECT = ROOT / "pyproject.toml"
PROFILES = {"app": [], "dev": ["--extra", "dev"]}
STAMP = "# dependencies-sha256: "
PYTHON_FLOOR = "3.11"


def dependency_digest(pyproject: Path = PYPROJECT) -> str:
    """What the locks depend on: the runtime list and every extra, order-insensitive."""
    project = tomllib.loads(pyproject.read_text())["project"]
    spec = {
        "dependencies": sorted(project.get("dependencies", [])),
        "optional": {
            name: sorted(deps) for name, deps in project.get("optional-dependencies", {}).items()
        },
        "requires-python": project.get("requires-python", ""),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def lock_path(profile: str) -> Path:
    return HERE / f"{profile}.txt"


def stale_profiles(pyproject: Path = PYPROJECT) -> list[str]:
    """The profiles whose lock file is missing or was compiled from other dependencies."""
    digest = dependency_digest(pyproject)
    stale = []
    for profile in PROFILES:
        path = lock_path(profile)
        first = path.read_text().splitlines()[:1] if path.exists() else []
        if first != [STAMP + digest]:
            stale.append(profile)
    return stale


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        sys.exit("lock: `uv` not found (make lock installs it; or set UV=/path/to/uv)")
    return found


def lock(upgrade: bool) -> int:
    digest = dependency_digest()
    uv = _uv()
    for profile, extra in PROFILES.items():
        path = lock_path(profile)
        command = [
            uv,
            "pip",
            "compile",
            str(PYPROJECT.relative_to(ROOT)),
            *extra,
            "--universal",
            "--python-version",
            PYTHON_FLOOR,
            "--generate-hashes",
            "--no-header",
            "--quiet",
            "--output-file",
            str(path.relative_to(ROOT)),
        ]
        # uv keeps the versions already pinned in the output file unless pyproject.toml asks
        # for others (or --upgrade moves them all).
        if upgrade:
            command.append("--upgrade")
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            print(f"lock: could not resolve the {profile} profile", file=sys.stderr)
            return 1
        body = "".join(
            line for line in path.read_text().splitlines(keepends=True) if not line.startswith("#")
        )
        header = (
            f"{STAMP}{digest}\n"
            f"# The {profile} profile of cowrite, pinned with hashes. Written by `make lock`"
            " from pyproject.toml; do not edit.\n"
        )
        path.write_text(header + body)
        print(f"lock: wrote {path.relative_to(ROOT)}")
    return 0


def check() -> int:
    stale = stale_profiles()
    if not stale:
        return 0
    names = ", ".join(f"requirements/{name}.txt" for name in stale)
    print(
        f"error: {names} no longer match the dependencies in pyproject.toml;"
        " run `make lock` and commit the result",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="requirements/lock.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("lock", help="compile the lock files from pyproject.toml")
    write.add_argument("--upgrade", action="store_true", help="move every pin to its newest")
    commands.add_parser("check", help="exit 1 when a lock file is out of date")
    args = parser.parse_args(argv)
    return lock(args.upgrade) if args.command == "lock" else check()


if __name__ == "__main__":
    raise SystemExit(main())
