"""The SQL rule of the severity policy: bandit's B608 is high only when a value that can come
from outside (a public function's parameter, request data) is formatted into the SQL, and medium
when every part is a quoted identifier, a placeholder list, a constant or a fragment the code
built itself, as in Django's ORM. Hand-made findings over real files; bandit's own run is in
test_severity.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding
from autocoder.workers.analysis import severity

from perspectivekit import write_files

OUTSIDE = {
    "a public function's parameter": (
        "def find(conn, name):\n"
        "    return conn.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n",
        "`name` (a parameter of the public function find())",
    ),
    "request data in a private helper": (
        "def _rows(request, conn):\n"
        "    sql = \"SELECT * FROM items WHERE a = '\" + request.GET['a'] + \"'\"\n"
        "    return conn.execute(sql)\n",
        "request data",
    ),
    "a local built from a parameter": (
        "def search(conn, term):\n"
        "    pattern = '%' + term.strip() + '%'\n"
        "    return conn.execute(f\"SELECT * FROM items WHERE name LIKE '{pattern}'\")\n",
        "`pattern` (built from term",
    ),
    "a parameter through an unknown call": (
        "def count(conn, where):\n"
        "    return conn.execute('SELECT count(*) FROM t WHERE {}'.format(str(where)))\n",
        "`where` (a parameter of the public function count())",
    ),
}
INTERNAL = {
    "a compiled fragment and a placeholder list": (
        "class In:\n"
        "    def as_sql(self, compiler, connection):\n"
        "        sql, params = compiler.compile(self.lhs)\n"
        "        return 'SELECT %s IN (%s)' % (sql, ', '.join(['%s'] * len(params))), params\n"
    ),
    "quoted identifiers, a comprehension and map()": (
        "class Editor:\n"
        "    def select(self, cols, table, fields):\n"
        "        qn = self.quote_name\n"
        "        return 'SELECT %s, %s FROM %s' % (\n"
        "            ', '.join(qn(c) for c in cols), ', '.join(map(self.quote_name, fields)),\n"
        "            self.quote_name(table))\n"
    ),
    "a parameter quoted again before use": (
        "def drop(cursor, name):\n"
        "    name = quote_name(name)\n"
        "    cursor.execute('DELETE FROM %s' % name)\n"
    ),
    "an identifier-named parameter and a backend attribute": (
        "def check(self, cursor, table_names, connection):\n"
        "    for table_name in table_names:\n"
        "        cursor.execute('SELECT * FROM `%s`%s' % (table_name, "
        "connection.features.bare_select_suffix))\n"
    ),
    "a private function's parameter and a constant": (
        "TABLE = 'items'\n\n\ndef _count(cursor, column):\n"
        "    cursor.execute(f'SELECT count({column}) FROM {TABLE}')\n"
    ),
}


def b608_at_formatting(tmp_path: Path, code: str) -> Finding:
    """The finding rated by the policy, for bandit's B608 at the line that formats the SQL."""
    src = SourceFiles.discover(write_files(tmp_path / "t", {"db.py": code}))
    line = next(n for n, t in enumerate(code.splitlines(), 1) if "SELECT" in t or "DELETE" in t)
    raw = Finding(
        tool="bandit", rule="B608", severity="medium", file="db.py", line=line,
        message="Possible SQL injection vector [hardcoded_sql_expressions, CWE-89]",
        fingerprint=f"b608-{line}",
    )  # fmt: skip
    [rated], _ = severity.rate([raw], "security", src)
    return rated


@pytest.mark.parametrize("case", sorted(OUTSIDE))
def test_sql_formatted_from_outside_is_high_and_names_the_part(tmp_path: Path, case: str) -> None:
    code, named = OUTSIDE[case]
    rated = b608_at_formatting(tmp_path, code)
    assert rated.severity == "high"
    assert named in rated.message and "CWE-89" in rated.message


@pytest.mark.parametrize("case", sorted(INTERNAL))
def test_sql_built_from_identifiers_placeholders_and_fragments_is_medium(
    tmp_path: Path, case: str
) -> None:
    rated = b608_at_formatting(tmp_path, INTERNAL[case])
    assert rated.severity == "medium"
    assert "[severity" not in rated.message  # bandit's medium kept: nothing to explain


def test_bidirectional_marks_in_locale_data_are_low_but_in_code_stay_high(
    tmp_path: Path,
) -> None:
    files = {
        "conf/locale/fa/formats.py": "DATE_FORMAT = 'j F Y'\n",
        "conf/locale/ar/hidden.py": "if user != 'admin':  # text\n    grant()\n",
        "pkg/auth.py": "X = 'x'\n",
    }
    src = SourceFiles.discover(write_files(tmp_path / "t", files))
    made = [
        Finding(tool="bandit", rule="B613", severity="high", file=f, line=1,
                message="bidirectional control characters [trojansource, CWE-838]",
                fingerprint=f)
        for f in files
    ]  # fmt: skip
    rated, _ = severity.rate(made, "security", src)
    assert [(f.file, f.severity) for f in rated] == [
        ("conf/locale/fa/formats.py", "low"),
        ("conf/locale/ar/hidden.py", "high"),  # code in a locale folder is still code
        ("pkg/auth.py", "high"),
    ]  # fmt: skip
