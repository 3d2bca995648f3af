"""Stage a Space folder: exactly the files ``autocoder deploy`` uploads, nothing else.

The library is copied from the INSTALLED package (``Path(autocoder.__file__).parent``), so a
wheel deploys as well as a checkout, and a Space runs the very code that was tested.
"""

from __future__ import annotations

from pathlib import Path

import autocoder
from autocoder.deploy.spaces import render, separate_apps

LIBRARY = "autocoder"
SKIPPED_DIRS = frozenset({"__pycache__"})


def library_root() -> Path:
    return Path(autocoder.__file__).resolve().parent


def library_files() -> dict[str, Path]:
    """Repo-relative path (``autocoder/...``) -> installed file, bytecode and caches left out."""
    root = library_root()
    files: dict[str, Path] = {}
    # Python sources only (the package has no data files): a stray .env, swap file or scratch
    # note in an editable checkout's folder never reaches a Space that may be public.
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if not path.is_file() or SKIPPED_DIRS.intersection(relative.parts):
            continue
        files[f"{LIBRARY}/{relative.as_posix()}"] = path
    return files


def space_files(app: str) -> dict[str, bytes]:
    """Every file of ``app``'s Space, by repo-relative path: the rendered three and the library."""
    files = render(app)
    for name, path in library_files().items():
        files[name] = path.read_bytes()
    return dict(sorted(files.items()))


def stage(app: str, dest: Path) -> list[str]:
    """Write into ``dest`` exactly the files ``deploy`` uploads for ``app`` (``analysis``,
    ``test-planning``, ``implementation``, ``dashboard`` or ``combined``); their repo-relative
    paths, sorted."""
    files = space_files(app)
    for name, content in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return list(files)


def write_repo_folders(root: Path) -> list[Path]:
    """Re-render the Space folders of a checkout (``1_analysis_worker/`` ...) from the catalog:
    the three rendered files each, never the library (the checkout has it in ``shared/``)."""
    written = []
    for app in separate_apps():
        for name, content in render(app.name).items():
            path = root / str(app.folder) / name
            path.write_bytes(content)
            written.append(path)
    return written
