"""Security findings (bandit, the analysis worker's web rules) fixed by libcst codemods.

Each codemod changes only the call on the flagged line (plus the imports it needs or frees)
and refuses when it cannot be sure; a refusal is raised as :class:`FixerError` with the reason,
which Approach Evaluation shows. None of these fixes is behaviour-preserving except
``usedforsecurity=False``: the others change what the code does (that is the fix), and each
rationale says what a caller may notice.

Not covered, on purpose: ``tempfile.mktemp`` (B306: ``mkstemp`` returns an open descriptor and
a path, so every use of the name changes), the xml *imports* (B405-B411: defusedxml's
``ElementTree`` lacks ``Element``/``SubElement``, so swapping an import breaks code that builds
trees; the parse *calls* are covered when defusedxml is declared), lxml (B320), ``pickle`` and
the other deserialisers (no safe drop-in), ``os.system`` (B605: its return value is a wait
status, not a ``CompletedProcess``).

Nor findings in test files: a test runs its app in debug mode, builds SQL from literals or
hashes with MD5 on purpose, and hardening it changes what it tests, not what ships.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.fixers.codemods import (
    flask_debug,
    jinja_autoescape,
    requests_timeout,
    secure_random,
    sql_injection,
    subprocess_shell,
    weak_hash,
    xml_defused,
    yaml_safe_load,
)
from autocoder.workers.implementation.fixers.codemods._common import Refused
from autocoder.workers.implementation.workitem import WorkItem

Codemod = Callable[[WorkItem, Path], list[Fix]]

# (tool, rule) -> the codemod that fixes it
CODEMODS: dict[tuple[str, str], Codemod] = {
    ("bandit", "B608"): sql_injection.fixes,
    ("autocoder-web", "AC-WEB-SQLI"): sql_injection.fixes,
    ("bandit", "B113"): requests_timeout.fixes,
    ("bandit", "B506"): yaml_safe_load.fixes,
    ("autocoder-web", "AC-WEB-DESERIALIZE"): yaml_safe_load.fixes,
    ("bandit", "B602"): subprocess_shell.fixes,
    ("bandit", "B604"): subprocess_shell.fixes,
    ("autocoder-web", "AC-WEB-COMMAND"): subprocess_shell.fixes,
    ("bandit", "B324"): weak_hash.fixes,
    ("bandit", "B303"): weak_hash.fixes,
    ("bandit", "B701"): jinja_autoescape.fixes,
    ("autocoder-web", "AC-WEB-AUTOESCAPE"): jinja_autoescape.fixes,
    ("bandit", "B311"): secure_random.fixes,
    ("bandit", "B201"): flask_debug.fixes,
    ("autocoder-web", "AC-WEB-DEBUG"): flask_debug.fixes,
    **{("bandit", rule): xml_defused.fixes for rule in ("B313", "B314", "B317", "B318", "B319")},
}
RULES = frozenset(rule for _, rule in CODEMODS)  # what fixers.handles() checks, with the tool


def fixes(item: WorkItem, root: Path, options: RunOptions) -> list[Fix]:
    """The codemod candidates for a security finding in the checkout at ``root`` (read only);
    :class:`FixerError` with the codemod's reason when it refuses."""
    codemod = CODEMODS.get((item.tool, item.rule))
    if codemod is None:
        return []
    if not item.file.endswith(".py") or item.line < 1:
        raise FixerError(f"{item.tool} {item.rule} at {item.file}:{item.line}: no Python line")
    if is_test_file(item.file):
        raise FixerError(
            f"{item.tool} {item.rule} at {item.file}:{item.line} is in a test file: tests do such "
            "things on purpose, so no security fix is offered there"
        )
    try:
        return codemod(item, root)
    except Refused as exc:
        where = f"{item.tool} {item.rule} at {item.file}:{item.line}"
        raise FixerError(f"{codemod.__module__.rsplit('.', 1)[-1]} refused {where}: {exc}") from exc
