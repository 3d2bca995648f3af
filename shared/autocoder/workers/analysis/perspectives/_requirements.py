"""The requirements a target declares, each at its file and line.

Declarations come from pyproject.toml ([project] dependencies, optional dependencies and
[dependency-groups]), requirements*.txt and setup.cfg install_requires/extras_require.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field

from autocoder.engine.sources import SourceFiles

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")
_REQ_FILE = re.compile(r"^(requirements/[^/]+|[^/]*requirements[^/]*)\.txt$")
_DEV_WORDS = ("dev", "test", "lint", "doc", "type", "check")

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


@dataclass
class Declarations:
    """Every declared requirement, the files that declare any, and those that do not parse."""

    requirements: list[Requirement] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> why


def declarations(src: SourceFiles) -> Declarations:
    """Read every declaring file of the target."""
    found = Declarations()
    for file in src.files:
        try:
            requirements = _requirements_in(src, file)
        except (ValueError, TypeError, AttributeError, configparser.Error) as exc:
            found.unreadable[file] = str(exc)
            continue
        if requirements is not None:
            found.files.append(file)
            found.requirements += requirements
    return found


def is_dev_group(label: str) -> bool:
    """Whether a group, extra or file name marks development requirements (dev, test, docs...)."""
    return any(word in label.lower() for word in _DEV_WORDS)


def normalise_name(name: str) -> str:
    """A distribution name as PEP 503 compares it: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements_in(src: SourceFiles, file: str) -> list[Requirement] | None:
    """The requirements ``file`` declares, or None when it is no dependency declaration.

    The name decides first: only declaring files are read (a large tree has thousands of others).
    """
    if _REQ_FILE.match(file):
        dev = is_dev_group(file.rpartition("/")[2])
        lines = src.lines(file)
        return [r for n, text in enumerate(lines, 1) if (r := _requirement(text, file, n, dev))]
    read = {"pyproject.toml": _pyproject_specs, "setup.cfg": _setup_cfg_specs}.get(file)
    if read is None:
        return None
    lines = src.lines(file)
    specs = read("\n".join(lines))  # TOMLDecodeError is a ValueError
    return None if specs is None else _locate(file, lines, specs)


def _pyproject_specs(text: str) -> Specs | None:
    data = tomllib.loads(text)
    project, groups = data.get("project", {}), data.get("dependency-groups", {})
    if not ({"dependencies", "optional-dependencies"} & project.keys() or groups):
        return None
    specs = [(s, False) for s in project.get("dependencies", [])]
    for group, items in {**project.get("optional-dependencies", {}), **groups}.items():
        specs += [(s, is_dev_group(group)) for s in items if isinstance(s, str)]
    return specs


def _setup_cfg_specs(text: str) -> Specs | None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    if not cfg.has_option("options", "install_requires"):
        return None
    specs = [(s, False) for s in cfg.get("options", "install_requires").splitlines()]
    extras = (
        cfg.items("options.extras_require") if cfg.has_section("options.extras_require") else []
    )
    return specs + [(s, is_dev_group(group)) for group, value in extras for s in value.splitlines()]


def _locate(file: str, lines: list[str], specs: Specs) -> list[Requirement]:
    """Requirements of a structured file, each at the first unused line that quotes it."""
    used: set[int] = set()
    out = []
    for spec, dev in ((s.strip(), d) for s, d in specs if s.strip()):
        quoted = [n for n, t in enumerate(lines, 1) if f'"{spec}"' in t or f"'{spec}'" in t]
        bare = [n for n, t in enumerate(lines, 1) if spec in t]
        line = next((n for n in [*quoted, *bare] if n not in used), 1)
        used.add(line)
        if req := _requirement(spec, file, line, dev):
            out.append(req)
    return out


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
        bounded="==" in spec or "<" in spec or "~=" in spec or spec.startswith("@"),
    )  # fmt: skip
