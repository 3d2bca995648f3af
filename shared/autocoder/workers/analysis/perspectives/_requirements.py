"""The requirements a target declares, each at its file and line.

Declarations come from every pyproject.toml ([project] dependencies, optional dependencies and
[dependency-groups]), requirements*.txt (or requirements/*.txt), setup.cfg
install_requires/extras_require and setup.py ``setup(install_requires=...)`` (read with ast, never
run) in the tree, sub-projects included. A pip-compile output marks
each pin with ``# via``: a pin only there because another package needs it is *transitive*.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field, replace

from autocoder.engine.sources import SourceFiles
from autocoder.workers.analysis.perspectives._dep_setup_py import setup_py_specs
from autocoder.workers.analysis.perspectives._dep_tools import tool_specs

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")
_REQ_FILE = re.compile(r"^(.*/)?(requirements/[^/]+|[^/]*requirements[^/]*)\.txt$")
_DEV_WORDS = frozenset({
    "dev", "devel", "develop", "development", "test", "tests", "testing", "lint", "linting",
    "doc", "docs", "documentation", "type", "types", "typing", "typecheck", "check", "checks",
    "mypy", "cov", "coverage", "bench", "benchmark", "benchmarks", "style", "qa", "ci", "tox",
    "nox", "format", "precommit", "build", "release",
})  # fmt: skip
LOCK_FILES = frozenset({"uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "pylock.toml"})
_VIA_DIRECT = re.compile(r"(^|\s)-r\s|\((pyproject\.toml|setup\.cfg|setup\.py)\)")

Specs = list[tuple[str, bool]]  # (requirement as written, is a development requirement)


@dataclass(frozen=True)
class Requirement:
    """One declared requirement, where it is declared, and how tightly its version is held."""

    name: str  # normalised (PEP 503)
    spec: str  # as written
    file: str
    line: int
    dev: bool
    exact: str | None  # the version when pinned with ==
    bounded: bool  # pinned with ==, or capped with < / <= / ~=
    transitive: bool = False  # a pip-compile pin "# via" other packages only


@dataclass
class Declarations:
    """Every declared requirement, the files that declare any, and those that do not parse."""

    requirements: list[Requirement] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> why
    packaged: set[str] = field(default_factory=set)  # package metadata: ranges, not pins, belong
    locks: list[str] = field(default_factory=list)  # uv.lock, poetry.lock, Pipfile.lock...
    projects: set[str] = field(default_factory=set)  # the target's own distribution names

    def is_library(self) -> bool:
        """Whether the root declares a distributable package (not an application)."""
        return bool({"pyproject.toml", "setup.cfg", "setup.py"} & self.packaged)

    def locked(self, file: str) -> bool:
        """Whether a lock file in ``file``'s folder or above pins what ``file`` declares."""
        folder = file.rpartition("/")[0] + "/"
        lock_folders = {lock.rpartition("/")[0] for lock in self.locks}
        return any(not lock or folder.startswith(lock + "/") for lock in lock_folders)


def declarations(src: SourceFiles) -> Declarations:
    """Read every declaring file of the target; a project's references to itself are dropped."""
    found = Declarations()
    for file in src.files:
        name = file.rpartition("/")[2]
        if name in LOCK_FILES or re.fullmatch(r"pylock\.[^/]+\.toml", name):
            found.locks.append(file)
        try:
            requirements = _requirements_in(src, file, found)
        except (ValueError, TypeError, AttributeError, configparser.Error) as exc:
            found.unreadable[file] = str(exc)
            continue
        if requirements is not None:
            found.files.append(file)
            found.requirements += requirements
    found.requirements = [r for r in found.requirements if r.name not in found.projects]
    return found


def is_dev_group(label: str) -> bool:
    """Whether a group, extra or file path marks development requirements (dev, tests, docs...)."""
    return bool(_DEV_WORDS & set(re.split(r"[^a-z]+", label.lower())))


def normalise_name(name: str) -> str:
    """A distribution name as PEP 503 compares it: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements_in(src: SourceFiles, file: str, found: Declarations) -> list[Requirement] | None:
    """The requirements ``file`` declares, or None when it is no dependency declaration.

    The name decides first: only declaring files are read (a large tree has thousands of others).
    """
    if _REQ_FILE.match(file):
        return _requirements_file(file, src.lines(file), is_dev_group(file))
    name = file.rpartition("/")[2]
    read = {"pyproject.toml": _pyproject_specs, "setup.cfg": _setup_cfg_specs,
            "setup.py": _setup_py_specs}.get(name)  # fmt: skip
    if read is None:
        return None
    lines = src.lines(file)
    specs = read("\n".join(lines), file, found)  # TOMLDecodeError is a ValueError
    return None if specs is None else _locate(file, lines, specs)


def _requirements_file(file: str, lines: list[str], dev: bool) -> list[Requirement]:
    """A requirements file's requirements; pins that pip-compile says are only "# via" other
    packages (not via ``-r file`` or ``name (pyproject.toml)``) are transitive."""
    out: list[Requirement] = []
    via: dict[int, list[str]] = {}  # index in out -> the sources its via comments name
    open_via = False  # pip-compile continues a via list on indented comment lines
    for n, text in enumerate(lines, 1):
        comment = text.partition("#")[2].strip()
        if req := _requirement(text, file, n, dev):
            out.append(req)
            open_via = False
        if out and comment.startswith("via"):
            open_via = True
            via.setdefault(len(out) - 1, []).append(comment.removeprefix("via").strip())
        elif out and open_via and text[:1].isspace() and text.lstrip().startswith("#"):
            via[len(out) - 1].append(comment)
    for index, sources in via.items():
        if not any(_VIA_DIRECT.search(f" {s}") for s in sources):
            out[index] = replace(out[index], transitive=True)
    return out


def _pyproject_specs(text: str, file: str, found: Declarations) -> Specs | None:
    data = tomllib.loads(text)
    project, groups = data.get("project", {}), data.get("dependency-groups", {})
    if isinstance(project.get("name"), str):
        found.projects.add(normalise_name(project["name"]))
    tools = tool_specs(data)
    if not ({"dependencies", "optional-dependencies"} & project.keys() or groups or tools):
        return None
    if "build-system" in data:
        found.packaged.add(file)
    specs = [(s, False) for s in project.get("dependencies", [])] + tools
    for group, items in project.get("optional-dependencies", {}).items():
        specs += [(s, is_dev_group(group)) for s in items if isinstance(s, str)]
    for items in groups.values():  # PEP 735 groups are never installed with the package
        specs += [(s, True) for s in items if isinstance(s, str)]
    return specs


def _setup_cfg_specs(text: str, file: str, found: Declarations) -> Specs | None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    if cfg.has_option("metadata", "name"):
        found.projects.add(normalise_name(cfg.get("metadata", "name")))
    if not cfg.has_option("options", "install_requires"):
        return None
    found.packaged.add(file)
    specs = [(s, False) for s in cfg.get("options", "install_requires").splitlines()]
    extras = (
        cfg.items("options.extras_require") if cfg.has_section("options.extras_require") else []
    )
    return specs + [(s, is_dev_group(group)) for group, value in extras for s in value.splitlines()]


def _setup_py_specs(text: str, file: str, found: Declarations) -> Specs | None:
    """``setup(install_requires=...)`` read with ast (setup.py is never run)."""
    try:
        read = setup_py_specs(text, is_dev_group)
    except SyntaxError as exc:
        raise ValueError(f"setup.py does not parse: {exc.msg} at line {exc.lineno}") from exc
    except (RecursionError, MemoryError, ValueError) as exc:  # nested too deep, or a NUL byte
        raise ValueError(f"setup.py cannot be read: {type(exc).__name__}") from None
    if read is None:
        return None
    name, specs = read
    if name:
        found.projects.add(normalise_name(name))
    if any(not dev for _, dev in specs):
        found.packaged.add(file)
    return specs or None


def _locate(file: str, lines: list[str], specs: Specs) -> list[Requirement]:
    """Requirements of a structured file, each at the first unused line that quotes it."""
    used: set[int] = set()
    out = []
    for spec, dev in ((s.strip(), d) for s, d in specs if s.strip()):
        quoted = [n for n, t in enumerate(lines, 1) if f'"{spec}"' in t or f"'{spec}'" in t]
        bare = [n for n, t in enumerate(lines, 1) if spec in t]
        keyed = [n for n, t in enumerate(lines, 1) if _keyed(spec, t)]  # Poetry: name = "^1"
        line = next((n for n in [*quoted, *bare, *keyed] if n not in used), 1)
        used.add(line)
        if req := _requirement(spec, file, line, dev):
            out.append(req)
    return out


def _keyed(spec: str, line: str) -> bool:
    """Whether ``line`` is a TOML key naming the requirement ``spec``."""
    match = _REQ.match(spec)
    name = re.escape(match.group(1)) if match else None
    return bool(name and re.match(rf"""\s*["']?{name}["']?\s*=""", line, re.IGNORECASE))


def _requirement(text: str, file: str, line: int, dev: bool) -> Requirement | None:
    """The requirement a line declares, or None for comments, options and URLs."""
    text = text.split(" #", maxsplit=1)[0].strip().removesuffix("\\").strip()
    match = _REQ.match(text)
    if not text or text.startswith(("-", "#")) or match is None or "://" in text.split("@")[0]:
        return None
    spec = match.group(3).strip()
    exact = re.match(r"===?\s*([^\s,*]+)\s*$", spec)
    return Requirement(
        name=normalise_name(match.group(1)), spec=text, file=file, line=line, dev=dev,
        exact=exact.group(1) if exact else None,
        bounded="==" in spec or "<" in spec or "~" in spec or spec.startswith(("@", "^")),
    )  # fmt: skip
