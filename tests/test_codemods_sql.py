"""The SQL parameterization codemod: spliced values become bound parameters, with the
placeholder of the driver the file imports, only where SQL expects a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers import security
from autocoder.workers.implementation.workitem import WorkItem, item_id


def _item(line: int, tool: str = "bandit", rule: str = "B608") -> WorkItem:
    return WorkItem(
        id=item_id("finding", f"{tool}{rule}{line}"), kind="finding", source="Security Audit",
        tool=tool, rule=rule, severity="high", file="app/db.py", line=line,
        message="Possible SQL injection vector through string-based query construction.",
    )  # fmt: skip


def _module(driver: str, statement: str) -> str:
    return f"import {driver}\n\n\ndef find(cur, uid, name):\n    {statement}\n    return cur\n"


def _fixed(tmp_path: Path, source: str, line: int = 5, **kw: str) -> str:
    """``source`` as app/db.py in a target, the one offered fix applied to a copy of it."""
    target, scratch = tmp_path / "target", tmp_path / "scratch"
    for root in (target, scratch):
        (root / "app").mkdir(parents=True)
        (root / "app" / "db.py").write_text(source)
    offered = security.fixes(_item(line, **kw), target, RunOptions())
    assert [f.fixer for f in offered] == ["libcst:sql-parameters"]
    assert offered[0].safe is False
    assert offered[0].apply(scratch) == ["app/db.py"]
    assert (target / "app" / "db.py").read_text() == source  # the checkout is only read
    return (scratch / "app" / "db.py").read_text()


def _refusal(tmp_path: Path, source: str, line: int = 5) -> str:
    (tmp_path / "app").mkdir(parents=True)
    (tmp_path / "app" / "db.py").write_text(source)
    with pytest.raises(FixerError) as refused:
        security.fixes(_item(line), tmp_path, RunOptions())
    return str(refused.value)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            'cur.execute(f"SELECT * FROM users WHERE id = {uid}")',
            'cur.execute("SELECT * FROM users WHERE id = ?", (uid,))',
        ),
        (
            "cur.execute(f\"SELECT * FROM users WHERE name = '{name}' AND id > {uid}\")",
            'cur.execute("SELECT * FROM users WHERE name = ? AND id > ?", (name, uid))',
        ),
        (
            "cur.execute(\"SELECT * FROM users WHERE name = '%s' AND id = %d\" % (name, uid))",
            'cur.execute("SELECT * FROM users WHERE name = ? AND id = ?", (name, uid))',
        ),
        (
            'cur.execute("SELECT * FROM users WHERE id = {} LIMIT {n}".format(uid, n=name))',
            'cur.execute("SELECT * FROM users WHERE id = ? LIMIT ?", (uid, name))',
        ),
        (
            'cur.execute("SELECT * FROM users WHERE name = \'" + name + "\'")',
            'cur.execute("SELECT * FROM users WHERE name = ?", (name,))',
        ),
        (
            "cur.execute(f\"INSERT INTO users (id, name) VALUES ({uid}, '{name}')\")",
            'cur.execute("INSERT INTO users (id, name) VALUES (?, ?)", (uid, name))',
        ),
    ],
)
def test_sql_codemod_binds_each_spliced_value_with_sqlite_placeholders(
    tmp_path: Path, statement: str, expected: str
) -> None:
    assert _fixed(tmp_path, _module("sqlite3", statement)) == _module("sqlite3", expected)


def test_sql_codemod_uses_percent_s_and_doubles_literal_percent_for_psycopg2(
    tmp_path: Path,
) -> None:
    before = "cur.execute(f\"SELECT * FROM t WHERE name LIKE 'a%' AND id = {uid}\")"
    after = "cur.execute(\"SELECT * FROM t WHERE name LIKE 'a%%' AND id = %s\", (uid,))"
    assert _fixed(tmp_path, _module("psycopg2", before)) == _module("psycopg2", after)


def test_sql_codemod_finds_the_call_from_the_flagged_string_line_of_a_multiline_call(
    tmp_path: Path,
) -> None:
    source = (
        "import sqlite3\n\nrows = cur.execute(\n"
        '    f"SELECT * FROM users WHERE id = {uid}"\n).fetchall()\nother = 1\n'
    )
    fixed = _fixed(tmp_path, source, line=4, tool="autocoder-web", rule="AC-WEB-SQLI")
    assert fixed == (
        "import sqlite3\n\nrows = cur.execute(\n"
        '    "SELECT * FROM users WHERE id = ?", (uid,)\n).fetchall()\nother = 1\n'
    )


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ('cur.execute(f"SELECT * FROM {name} WHERE id = 1")', "name or a list"),
        ('cur.execute(f"SELECT * FROM users ORDER BY {name}")', "name or a list"),
        ('cur.execute(f"SELECT * FROM users WHERE id IN ({uid})")', "name or a list"),
        ("cur.execute(f\"SELECT * FROM users WHERE name LIKE '%{name}%'\")", "inside a literal"),
        ('cur.execute(f"SELECT * FROM users WHERE id = {uid}_x")', "inside a literal"),
        ('cur.execute(f"SELECT * FROM users WHERE id = {uid!r}")', "conversion"),
        ('cur.execute(f"SELECT * FROM users WHERE id = {uid}", ())', "already takes"),
        ("cur.execute(query)", "not a string built in the call"),
        ('cur.execute(f"SELECT * FROM users WHERE id = {uid} -- x")', "comment"),
    ],
)
def test_sql_codemod_refuses_values_it_cannot_prove_are_values(
    tmp_path: Path, statement: str, why: str
) -> None:
    assert why in _refusal(tmp_path, _module("sqlite3", statement))


def test_sql_codemod_refuses_when_the_file_imports_no_known_driver(tmp_path: Path) -> None:
    source = _module("os", 'cur.execute(f"SELECT * FROM users WHERE id = {uid}")')
    assert "placeholder style is unknown" in _refusal(tmp_path, source)


def test_sql_codemod_keeps_a_triple_quoted_multiline_statement(tmp_path: Path) -> None:
    source = (
        'import sqlite3\n\nrows = cur.execute(f"""\n    SELECT *\n    FROM users\n'
        '    WHERE id = {uid}\n""")\n'
    )
    assert _fixed(tmp_path, source, line=3) == (
        'import sqlite3\n\nrows = cur.execute("""\n    SELECT *\n    FROM users\n'
        '    WHERE id = ?\n""", (uid,))\n'
    )


def _function(body: str) -> str:
    return f"import sqlite3\n\n\ndef find(cur, name, user):\n{body}    return cur.fetchall()\n"


def test_sql_codemod_rewrites_an_assigned_statement_executed_right_after(tmp_path: Path) -> None:
    before = "    sql = f\"SELECT * FROM users WHERE name = '{name}' AND id = {user.id}\"\n"
    call = "    rows = list(cur.execute(sql))\n"
    fixed = _fixed(tmp_path, _function(before + call))
    assert fixed == _function(
        '    sql = "SELECT * FROM users WHERE name = ? AND id = ?"\n'
        "    rows = list(cur.execute(sql, (name, user.id)))\n"
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("    log(sql)\n    cur.execute(sql)\n", "not one <cursor>.execute(sql)"),
        ("    cur.execute(sql)\n    print(sql)\n", "used elsewhere"),
        ("    cur.execute(sql)\n    def again():\n        return sql\n", "named 3 times"),
    ],
)
def test_sql_codemod_refuses_an_assigned_statement_that_other_code_may_read(
    tmp_path: Path, body: str, why: str
) -> None:
    assign = '    sql = f"SELECT * FROM users WHERE name = {name}"\n'
    assert why in _refusal(tmp_path, _function(assign + body))


def test_sql_codemod_refuses_to_move_a_computed_value_after_its_statement(
    tmp_path: Path,
) -> None:
    body = '    sql = f"SELECT * FROM users WHERE name = {next(user)}"\n    cur.execute(sql)\n'
    assert "evaluated one statement later" in _refusal(tmp_path, _function(body))


def test_sql_codemod_refuses_a_module_level_statement_other_modules_may_import(
    tmp_path: Path,
) -> None:
    source = 'import sqlite3\n\n\nsql = f"SELECT * FROM t WHERE id = {uid}"\ncur.execute(sql)\n'
    assert "not a function's local" in _refusal(tmp_path, source, line=4)


def test_sql_codemod_uses_percent_s_for_a_django_cursor(tmp_path: Path) -> None:
    source = (
        "from django.db import connection\n\n\ndef find(uid):\n"
        "    with connection.cursor() as cur:\n"
        '        cur.execute("SELECT * FROM auth_user WHERE id = " + str(uid))\n'
    )
    assert _fixed(tmp_path, source, line=6) == source.replace('" + str(uid))', '%s", (str(uid),))')
