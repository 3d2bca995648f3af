"""The facts the test planning perspectives share about each function, as plain data.

Boundaries: calls into network clients, databases, the filesystem, subprocesses, environment
variables, clocks and randomness (plus parsers, kind ``parsing``, whose errors callers must expect).
Each says how a test reaches it: the module-level name it goes through (``root``) and the
attribute path below (``path``): ``monkeypatch.setattr(module, root, fake)``, then ``fake.<path>``.

Sites: where a function can fail or return None (``raise``, ``return None``, unchecked
``param[key]`` and ``int(param)``), each with the conditions on the way to it; and the literal
comparisons of parameters (``qty > 100``) that edge cases come from. Found by :mod:`._scan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Conds = tuple[tuple[str, bool], ...]  # (condition source, must be true) on the way to a site
BOUNDARY_KINDS = ("network", "database", "filesystem", "subprocess", "environment", "clock",
                  "randomness")  # fmt: skip
_TABLE = {
    "network": "requests. httpx. aiohttp. urllib.request. urllib3. socket. http.client. ftplib. "
    "smtplib. websockets.",
    "database": "sqlite3. aiosqlite. sqlalchemy. psycopg2. psycopg. pymysql. MySQLdb. asyncpg. "
    "pymongo. redis.",
    "subprocess": "subprocess. os.system os.popen os.exec os.spawn asyncio.create_subprocess_",
    "environment": "os.environ os.getenv os.putenv os.unsetenv",
    "clock": "time.time time.monotonic time.perf_counter time.sleep time.localtime time.gmtime "
    "datetime.datetime.now datetime.datetime.utcnow datetime.datetime.today datetime.date.today "
    "asyncio.sleep",
    "randomness": "random. secrets. uuid.uuid1 uuid.uuid4 os.urandom numpy.random.",
    "filesystem": "open io.open os.remove os.unlink os.rename os.replace os.makedirs os.mkdir "
    "os.rmdir os.listdir os.scandir os.walk shutil. tempfile. glob. pathlib.Path().",
    "parsing": "json.load yaml.load yaml.safe_load yaml.full_load yaml.unsafe_load pickle.load "
    "tomllib.load",
}
PREFIXES = [(prefix, kind) for kind, text in _TABLE.items() for prefix in text.split()]


@dataclass(frozen=True)
class Boundary:
    """One call of a function into the outside world."""

    kind: str
    call: str  # resolved dotted name: requests.get, os.environ[], pathlib.Path().write_text
    root: str  # the module-level (or builtin) name the call goes through
    path: str  # attribute path below ``root`` ("" when the root itself is called)
    line: int
    arg: str | None  # the first argument when literal (an env var name, a URL's literal prefix)
    arg_param: str | None  # the parameter passed as first argument, if any
    mode: str | None  # open()'s mode when given as a literal
    returned: bool  # the call's value is returned as it is
    patchable: bool  # root is a module-level import or a builtin


@dataclass(frozen=True)
class Site:
    """Where a function can fail or return None, and the conditions on the way there."""

    what: str  # raise | none | index | convert
    detail: str  # the exception raised, the literal index, the converter
    param: str | None
    line: int
    conds: Conds
    caught: tuple[str, ...]  # exception names of the enclosing try blocks
    in_handler: bool


@dataclass(frozen=True)
class Comparison:
    """``param OP literal`` (or ``len(param) OP literal``) somewhere in a function."""

    param: str
    op: str
    value: str  # the literal's source
    line: int
    length: bool


@dataclass(frozen=True)
class Facts:
    boundaries: list[Boundary] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    self_attrs: dict[str, str] = field(default_factory=dict)  # __init__: self.x = <source>
    tries: list[tuple[int, int, list[str]]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # names it calls (last segment)
    targets: list[str] = field(default_factory=list)  # what it calls, resolved (see callee())
    writes: list[str] = field(default_factory=list)  # parameters passed to .write() and the like

    def caught_at(self, line: int, exception: str) -> bool:
        return any(a <= line <= b and caught(names, exception) for a, b, names in self.tries)


# An exception -> the names of its base classes that an ``except`` may use instead.
FAMILY = {"FileNotFoundError": "OSError IOError", "PermissionError": "OSError IOError",
          "ConnectionRefusedError": "ConnectionError OSError", "KeyError": "LookupError",
          "IndexError": "LookupError", "JSONDecodeError": "ValueError",
          "TOMLDecodeError": "ValueError", "ConnectionError": "RequestException OSError",
          "ConnectError": "TransportError RequestError HTTPError", "URLError": "OSError",
          "OperationalError": "DatabaseError Error", "CalledProcessError": "SubprocessError",
          "UnpicklingError": "PickleError", "ClientConnectionError": "ClientError",
          "OverflowError": "ArithmeticError", "ZeroDivisionError": "ArithmeticError"}  # fmt: skip


def caught(names: list[str] | tuple[str, ...], exception: str) -> bool:
    """Whether handlers named ``names`` catch ``exception`` (``*`` is a bare except)."""
    last = exception.rsplit(".", maxsplit=1)[-1]
    return bool(
        set(names) & {"*", "Exception", "BaseException", last, *FAMILY.get(last, "").split()}
    )


def kind_of(call: str) -> str | None:
    for prefix, kind in PREFIXES:
        if call == prefix or ("." in prefix and call.startswith(prefix)):
            return kind
    return None


def facts_from_json(data: dict[str, Any]) -> Facts:
    sites = [
        Site(**{**s, "conds": tuple(map(tuple, s["conds"])), "caught": tuple(s["caught"])})
        for s in data["sites"]
    ]
    return Facts(
        boundaries=[Boundary(**b) for b in data["boundaries"]],
        sites=sites,
        comparisons=[Comparison(**c) for c in data["comparisons"]],
        self_attrs=data["self_attrs"],
        tries=[(a, b, n) for a, b, n in data["tries"]],
        calls=data["calls"],
        targets=data["targets"],
        writes=data["writes"],
    )
