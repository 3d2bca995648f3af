"""Values from the target written into generated test code, so that none of them becomes code.

The target is untrusted: a folder named ``"pkg\\nimport os; ..."``, a string literal holding
three double quotes, an environment variable name with a quote. Every value a test planning
perspective writes into a test goes through one of these: :func:`comment` (one line that
nothing can end early), :func:`literal` (a Python literal equal to the value), :func:`identifier`
or :func:`dotted` (a name, else :class:`UnsafeName`). :func:`compile_error` is the last check
each spec's code passes before it is kept (:func:`.results.finish`) or written (``tests
--write``).
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata

from autocoder.errors import UnsafeName

# Control, format (bidi overrides, zero-width), surrogate, private, unassigned, line and
# paragraph separators: shown as escapes in comments, never written as they are.
ESCAPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
LITERAL_TYPES = (type(None), bool, int, float, str, bytes)


def is_identifier(name: str) -> bool:
    """``name`` can stand as a Python name: an identifier and not a keyword."""
    return name.isidentifier() and not keyword.iskeyword(name)


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a dotted Python name (``pkg.mod``), None when it is one."""
    if not name:
        return "it is empty"
    for part in name.split("."):
        if keyword.iskeyword(part):
            return f"'{one_line(part)}' is a Python keyword"
        if not part.isidentifier():
            return f"'{one_line(part)}' is not a Python identifier"
    return None


def is_dotted(name: str) -> bool:
    """``name`` is a dotted Python name: every part an identifier, none a keyword."""
    return name_problem(name) is None


def identifier(name: str) -> str:
    """``name``, checked to be a plain Python name; :class:`UnsafeName` when it is not."""
    if not is_identifier(name):
        raise UnsafeName(
            f"'{one_line(name)}' from the target is not a Python name (an identifier that is not "
            "a keyword); no test is generated with it"
        )
    return name


def dotted(name: str) -> str:
    """``name``, checked to be a dotted Python name; :class:`UnsafeName` when it is not."""
    problem = name_problem(name)
    if problem is not None:
        raise UnsafeName(
            f"'{one_line(name)}' from the target is not a dotted Python name ({problem}); no "
            "test is generated with it"
        )
    return name


def one_line(text: str) -> str:
    """``text`` with every newline, control, bidi or zero-width character shown as its escape
    (``\\n``, ``\\x00``, ``\\u2028``, ``\\u202e``): printable, one line, nothing hidden."""
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in ESCAPED
        else char
        for char in text
    )


def comment(text: str) -> str:
    """A ``# ...`` comment of ``text`` that ends where its line ends, whatever ``text`` holds."""
    return f"# {one_line(text)}".rstrip()


def comments(text: str) -> str:
    """``text`` as comment lines, one per line of it (the later ones indented), each one
    :func:`comment`: a multi-line value (a workflow, a message) stays readable and inert."""
    first, *rest = re.split(r"\r\n|\r|\n", text)
    return "\n".join([comment(first), *(comment(f"  {line}") for line in rest)])


def literal(value: object) -> str:
    """Python source of a literal equal to ``value``: ``None``, bools, numbers, strings, bytes,
    and tuples, lists, sets and dicts of them. TypeError for anything else (never ``repr`` of an
    arbitrary object, whose text could be any code)."""
    kind = type(value)
    if kind in (list, tuple, set, frozenset, dict):
        return _collection(value)
    if kind not in LITERAL_TYPES:
        raise TypeError(f"no Python literal for a {kind.__name__} value")
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**4000:
        return hex(value)  # decimal text of so many digits is refused; hex has no such limit
    text = repr(value)
    if isinstance(value, str) and text[0] == "'" and '"' not in value:
        return f'"{text[1:-1]}"'  # double quotes where none needs escaping, as ruff writes
    return text


def _collection(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    assert isinstance(value, list | tuple | set | frozenset)
    items = [literal(v) for v in value]
    if isinstance(value, list):
        return f"[{', '.join(items)}]"
    if isinstance(value, tuple):
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    inner = "{" + ", ".join(sorted(items)) + "}" if items else ""
    return f"frozenset({inner})" if isinstance(value, frozenset) else inner or "set()"


def compile_error(code: str, filename: str) -> str | None:
    """Why ``code`` does not compile as a module (``SyntaxError: ... (line 3)``), else None."""
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        return one_line(f"SyntaxError: {e.msg} (line {e.lineno})")
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:  # null bytes, depth
        return one_line(f"{type(e).__name__}: {e}")
    return None
