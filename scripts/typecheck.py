#!/usr/bin/env python3
"""Type-check the gongkai package with mypy (README, "Development"; a step of .ci/run).

    .venv/bin/python scripts/typecheck.py            # exit status is mypy's
    .venv/bin/python scripts/typecheck.py --strict   # extra mypy options pass through

pyproject.toml maps each subpackage to a top-level folder (`gongkai.models` lives in models/),
which mypy cannot follow: it only knows a package by its folder. This script lays the package
out as it is installed (a temporary tree of links to the source files, built from the
package-dir table itself, so a new subpackage needs no change here), runs mypy over it with the
[tool.mypy] settings, and writes the findings with the repository's own paths so they can be
clicked and fixed in place.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_dirs() -> dict[str, Path]:
    """Each package's source folder, from pyproject.toml's [tool.setuptools] package-dir."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return {package: ROOT / folder for package, folder in setuptools["package-dir"].items()}


def link_installed_layout(tree: Path, packages: dict[str, Path]) -> dict[str, str]:
    """Link every module into `tree` at its installed path; returns installed prefix -> source prefix."""
    prefixes: dict[str, str] = {}
    for package, source in packages.items():
        target = tree.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for module in source.glob("*.py"):
            (target / module.name).symlink_to(module)
        installed = str(target.relative_to(tree)) + os.sep
        prefixes[installed] = str(source.relative_to(ROOT)) + os.sep
    return prefixes


def source_path(line: str, tree: Path, prefixes: dict[str, str]) -> str:
    """A mypy output line with the linked path replaced by the file's path in the repository."""
    line = line.replace(str(tree) + os.sep, "")
    # The longest prefix first: gongkai/extractors/scan/ before gongkai/extractors/.
    for installed in sorted(prefixes, key=len, reverse=True):
        if line.startswith(installed):
            return prefixes[installed] + line[len(installed) :]
    return line


def main(extra_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="gongkai-typecheck-") as folder:
        tree = Path(folder)
        prefixes = link_installed_layout(tree, package_dirs())
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
        command += ["--python-executable", sys.executable, *extra_args, "-p", "gongkai"]
        # Run from the tree so mypy finds the linked package first, not the editable install.
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True, env={**os.environ, "MYPYPATH": folder})
        for line in done.stdout.splitlines():
            print(source_path(line, tree, prefixes))
        sys.stderr.write(done.stderr)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
