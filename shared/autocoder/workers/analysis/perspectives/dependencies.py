"""Dependency Analysis: declared requirements against imports (deptry), pins, known vulnerabilities.

Declarations come from pyproject.toml ([project] dependencies, optional dependencies and
[dependency-groups]), requirements*.txt and setup.cfg install_requires/extras_require.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped, ToolError, ToolMissing
from autocoder.schema import Finding, Severity

SPEC_TOOL = "requirements"
PIP_AUDIT_TIMEOUT_S = 60.0
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")
_REQ_FILE = re.compile(r"^(requirements/[^/]+|[^/]*requirements[^/]*)\.txt$")
_DEV_WORDS = ("dev", "test", "lint", "doc", "type", "check")
_DEPTRY: dict[str, tuple[Severity, str]] = {
    "DEP001": ("medium", "imported but not declared"),
    "DEP002": ("low", "declared but never imported"),
    "DEP003": ("medium", "imported but only a transitive dependency"),
    "DEP004": ("medium", "development dependency imported by non-development code"),
}


@dataclass(frozen=True)
class Requirement:
    name: str  # normalised (PEP 503)
    spec: str  # as written
    file: str
    line: int
    dev: bool
    exact: str | None  # the version when pinned with ==
    bounded: bool  # pinned with ==, or capped with < / <= / ~=


class DependencyAnalysis:
    """Declared versus imported dependencies, unpinned requirements and known vulnerabilities."""

    id: ClassVar[str] = "dependencies"
    name: ClassVar[str] = "Dependency Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        src = ctx.sources
        if not src.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
        reqs, files, findings = declared(src)
        result = PerspectiveResult(summary="")
        findings += [_unpinned(src, r) for r in reqs if not r.bounded]
        if not files:
            findings.append(toolkit.finding(
                src, tool=SPEC_TOOL, rule="no-dependency-declaration", severity="medium",
                file="pyproject.toml", line=0, message="no dependency declaration (pyproject.toml "
                "[project], requirements*.txt, setup.cfg): every third-party import is undeclared",
            ))  # fmt: skip
        findings += _deptry_findings(ctx, reqs, files, result)
        findings += _audit_findings(ctx, reqs, result)
        result.findings = toolkit.stable_fingerprints(findings)
        result.metrics = _metrics(src, reqs, files, result.findings)
        result.summary = _summary(result)
        return result


def declared(src: SourceFiles) -> tuple[list[Requirement], list[str], list[Finding]]:
    """Every declared requirement at its file and line, the declaring files, parse problems."""
    reqs: list[Requirement] = []
    files: list[str] = []
    problems: list[Finding] = []
    for file in src.files:
        try:
            found = _read(src, file)
        except (ValueError, TypeError, AttributeError, configparser.Error) as exc:
            found = None
            problems.append(toolkit.finding(
                src, tool=SPEC_TOOL, rule="unreadable-declaration", severity="medium", file=file,
                line=1, message=f"{file} could not be read: {str(exc)[:160]}",
            ))  # fmt: skip
        if found is not None:
            files.append(file)
            reqs += found
    return reqs, files, problems


def _read(src: SourceFiles, file: str) -> list[Requirement] | None:
    """The requirements ``file`` declares, or None when it is no dependency declaration."""
    lines = src.lines(file)
    if _REQ_FILE.match(file):
        dev = _is_dev(file.rpartition("/")[2])
        return [r for n, text in enumerate(lines, 1) if (r := _parse(text, file, n, dev))]
    read = {"pyproject.toml": _pyproject, "setup.cfg": _setup_cfg}.get(file)
    specs = read("\n".join(lines)) if read else None  # TOMLDecodeError is a ValueError
    return None if specs is None else _locate(file, lines, specs)


def _pyproject(text: str) -> list[tuple[str, bool]] | None:
    data = tomllib.loads(text)
    project, groups = data.get("project", {}), data.get("dependency-groups", {})
    if not ({"dependencies", "optional-dependencies"} & project.keys() or groups):
        return None
    specs = [(s, False) for s in project.get("dependencies", [])]
    for group, items in {**project.get("optional-dependencies", {}), **groups}.items():
        specs += [(s, _is_dev(group)) for s in items if isinstance(s, str)]
    return specs


def _setup_cfg(text: str) -> list[tuple[str, bool]] | None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    if not cfg.has_option("options", "install_requires"):
        return None
    specs = [(s, False) for s in cfg.get("options", "install_requires").splitlines()]
    extras = (
        cfg.items("options.extras_require") if cfg.has_section("options.extras_require") else []
    )
    return specs + [(s, _is_dev(group)) for group, value in extras for s in value.splitlines()]


def _is_dev(label: str) -> bool:
    return any(word in label.lower() for word in _DEV_WORDS)


def _locate(file: str, lines: list[str], specs: list[tuple[str, bool]]) -> list[Requirement]:
    """Requirements of a structured file, each at the first unused line that quotes it."""
    used: set[int] = set()
    out = []
    for spec, dev in ((s.strip(), d) for s, d in specs if s.strip()):
        quoted = [n for n, t in enumerate(lines, 1) if f'"{spec}"' in t or f"'{spec}'" in t]
        bare = [n for n, t in enumerate(lines, 1) if spec in t]
        line = next((n for n in [*quoted, *bare] if n not in used), 1)
        used.add(line)
        if req := _parse(spec, file, line, dev):
            out.append(req)
    return out


def _parse(text: str, file: str, line: int, dev: bool) -> Requirement | None:
    text = text.split(" #", maxsplit=1)[0].strip().removesuffix("\\").strip()
    match = _REQ.match(text)
    if not text or text.startswith(("-", "#")) or match is None or "://" in text.split("@")[0]:
        return None
    spec = match.group(3).strip()
    exact = re.match(r"===?\s*([^\s,*]+)\s*$", spec)
    return Requirement(
        name=_normalise(match.group(1)), spec=text, file=file, line=line, dev=dev,
        exact=exact.group(1) if exact else None,
        bounded="==" in spec or "<" in spec or "~=" in spec or spec.startswith("@"),
    )  # fmt: skip


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _unpinned(src: SourceFiles, req: Requirement) -> Finding:
    return toolkit.finding(
        src, tool=SPEC_TOOL, rule="unpinned-requirement", severity="low", file=req.file,
        line=req.line, message=f"requirement {req.spec!r} has no == pin or upper bound",
    )  # fmt: skip


def _deptry_findings(
    ctx: RunContext, reqs: list[Requirement], files: list[str], result: PerspectiveResult
) -> list[Finding]:
    try:
        version = toolkit.require_module("deptry", "deptry")
        issues = toolkit.cached_whole_tree(
            ctx.cache, "deptry", version, ctx.sources, _deptry_inputs(ctx.sources, files),
            lambda: _run_deptry(ctx, reqs),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["deptry"] = f"skipped: {exc}"
        return []
    result.tools["deptry"] = version
    by_name = {r.name: r for r in reversed(reqs)}
    out = []
    for issue in issues:
        code, module = issue["error"]["code"], issue["module"]
        severity, meaning = _DEPTRY.get(code, ("low", "dependency issue"))
        file, line = _where(ctx, issue["location"], by_name.get(_normalise(module)))
        out.append(toolkit.finding(
            ctx.sources, tool="deptry", rule=code, severity=severity, file=file, line=line,
            message=f"{issue['error']['message']} ({code}: {meaning})",
        ))  # fmt: skip
    return out


def _deptry_inputs(src: SourceFiles, files: list[str]) -> list[str]:
    """What deptry reads: the Python files, the declarations and its [tool.deptry] config."""
    config = [f for f in ("pyproject.toml", "setup.cfg") if (src.root / f).is_file()]
    return sorted({*src.python, *files, *config})


def _where(ctx: RunContext, location: dict[str, Any], req: Requirement | None) -> tuple[str, int]:
    """deptry's location, or the declaration's line when deptry gives none (unused deps)."""
    file = toolkit.relative(ctx.root, str(location.get("file") or ""))
    if req is not None and (location.get("line") is None or file not in ctx.sources.files):
        return req.file, req.line
    return file, int(location.get("line") or 0)


def _run_deptry(ctx: RunContext, reqs: list[Requirement]) -> Any:
    with tempfile.TemporaryDirectory(prefix="autocoder-deptry-") as tmp:
        # deptry ignores these two when pyproject.toml has a [project] (or Poetry/PDM) table
        out, main, dev = (Path(tmp) / n for n in ("deptry.json", "req.txt", "req-dev.txt"))
        main.write_text("".join(f"{r.spec}\n" for r in reqs if not r.dev), encoding="utf-8")
        dev.write_text("".join(f"{r.spec}\n" for r in reqs if r.dev), encoding="utf-8")
        toolkit.run_tool(
            ["deptry", ".", "--no-ansi", "--json-output", str(out), "--requirements-files",
             str(main), "--requirements-files-dev", str(dev), *_options(ctx, tmp)],
            cwd=ctx.root, timeout_s=ctx.options.tool_timeout_s, ok_codes=(0, 1),
        )  # fmt: skip
        if not out.exists():
            raise ToolError(f"deptry wrote no report for {ctx.root}")
        return json.loads(out.read_text(encoding="utf-8"))


def _options(ctx: RunContext, tmp: str) -> list[str]:
    """--config (empty when pyproject.toml does not parse: deptry would crash), the dev extras, and
    the top-level packages below the root (shared/pkg, src/pkg) as first-party modules."""
    try:
        data = tomllib.loads("\n".join(ctx.sources.lines("pyproject.toml")))
        args = ["--config", "pyproject.toml"]
    except ValueError:
        (Path(tmp) / "empty.toml").write_text("", encoding="utf-8")
        data, args = {}, ["--config", str(Path(tmp) / "empty.toml")]
    extras = data.get("project", {}).get("optional-dependencies", {})
    if dev := [group for group in extras if _is_dev(group)]:
        args += ["--optional-dependencies-dev-groups", ",".join(dev)]
    packages = {f.rpartition("/")[0] for f in ctx.sources.python if f.endswith("/__init__.py")}
    tops = {p.rpartition("/")[2] for p in packages if p.rpartition("/")[0] not in packages}
    return args + [arg for top in sorted(tops) for arg in ("--known-first-party", top)]


def _audit_findings(
    ctx: RunContext, reqs: list[Requirement], result: PerspectiveResult
) -> list[Finding]:
    pinned = {f"{r.name}=={r.exact}": r for r in reversed(reqs) if r.exact}
    if not ctx.options.network or not pinned:
        why = "no network" if not ctx.options.network else "no requirement is pinned with =="
        result.skipped["pip-audit"] = f"skipped: {why}"
        return []
    try:
        version = toolkit.require_module("pip_audit", "pip-audit")
        vulns = _cached_audit(ctx, version, sorted(pinned))
    except ToolMissing as exc:
        result.skipped["pip-audit"] = f"skipped: {exc}"
        return []
    except ToolError as exc:  # a timeout, a connection error, or no answer for any package
        last = (str(exc).strip().splitlines() or ["no output"])[-1][-160:]
        result.skipped["pip-audit"] = f"skipped: vulnerability service unreachable ({last})"
        return []
    result.tools["pip-audit"] = version
    return [toolkit.finding(
        ctx.sources, tool="pip-audit", rule=v["id"], severity="high", file=pinned[v["pin"]].file,
        line=pinned[v["pin"]].line, message=f"{v['pin']} has known vulnerability {v['id']} "
        f"({', '.join(v['aliases']) or 'no aliases'}); fixed in "
        f"{', '.join(v['fix_versions']) or 'no released version'}",
    ) for v in vulns]  # fmt: skip


def _cached_audit(ctx: RunContext, version: str, pins: list[str]) -> list[dict[str, Any]]:
    """Vulnerabilities of ``pins``, cached per requirement set and UTC day (advisories change)."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    key = hashlib.sha256("\n".join([day, *pins]).encode()).hexdigest()
    if (hit := ctx.cache.get("pip-audit", version, key)) is not None:
        return list(hit)
    with tempfile.TemporaryDirectory(prefix="autocoder-audit-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{p}\n" for p in pins), encoding="utf-8")
        done = toolkit.run_tool(
            ["pip_audit", "-r", str(req), "--no-deps", "--disable-pip", "--format", "json",
             "--progress-spinner", "off", "--timeout", "10"],
            cwd=ctx.root, timeout_s=min(PIP_AUDIT_TIMEOUT_S, ctx.options.tool_timeout_s),
        )  # fmt: skip
    try:
        deps = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError, TypeError):
        raise ToolError(f"pip-audit printed no JSON report: {done.stdout[-160:]}") from None
    unaudited = [d["skip_reason"] for d in deps if "skip_reason" in d]
    if deps and len(unaudited) == len(deps):  # offline: every package "not found on PyPI"
        raise ToolError(f"no package could be audited: {unaudited[0]}")
    vulns = [
        {"pin": f"{_normalise(d['name'])}=={d['version']}", "id": v["id"],
         "aliases": v.get("aliases", [])[:3], "fix_versions": v.get("fix_versions", [])[:3]}
        for d in deps if "vulns" in d for v in d["vulns"]
    ]  # fmt: skip
    ctx.cache.put("pip-audit", version, key, vulns)
    return vulns


def _metrics(
    src: SourceFiles, reqs: list[Requirement], files: list[str], findings: list[Finding]
) -> dict[str, Any]:
    return {
        "declaration_files": files[:15],
        "requirements_declared": len(reqs),
        "distinct_packages": len({r.name for r in reqs}),
        "pinned_exactly": sum(1 for r in reqs if r.exact),
        "unbounded": sum(1 for r in reqs if not r.bounded),
        "by_severity": toolkit.count_by(findings, "severity"),
        "by_rule": dict(list(toolkit.count_by(findings, "rule").items())[:15]),
        "findings_per_kloc": toolkit.per_kloc(len(findings), toolkit.kloc(src)),
        "worst_files": dict(list(toolkit.count_by(findings, "file").items())[:10]),
    }


def _summary(result: PerspectiveResult) -> str:
    m = result.metrics
    rules = ", ".join(f"{n} {rule}" for rule, n in m["by_rule"].items()) or "no issues"
    text = (
        f"{m['requirements_declared']} requirements ({m['distinct_packages']} packages) are "
        f"declared in {len(m['declaration_files'])} files; {m['pinned_exactly']} pinned exactly "
        f"and {m['unbounded']} without an upper bound. {len(result.findings)} findings: {rules}."
    )
    return text + "".join(f" {part}: {why}." for part, why in result.skipped.items())
