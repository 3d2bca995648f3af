"""What a secret scanner flags that is not a secret: integrity hashes, pinned git revisions and
obvious placeholders; real-looking keys (built at run time) stay reported."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autocoder.workers.analysis.perspectives._secret_filter import is_not_a_secret

SHA = hashlib.sha1(b"v4.6.0").hexdigest()  # a 40-hex git revision
SRI = "sha384-" + "oqVuAfXRKap7fdgcCY5uykM6" + "+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"
TOKEN = "ghp_" + "x9" * 18
KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


def test_subresource_integrity_hash_in_html_is_not_a_secret() -> None:
    line = f'<script src="https://cdn.example.com/lib.js" integrity="{SRI}"></script>'
    assert "Subresource Integrity" in (is_not_a_secret("templates/base.html", line) or "")
    assert is_not_a_secret("templates/base.html", line, SRI[7:]) is not None


def test_integrity_in_package_lock_is_not_a_secret() -> None:
    line = f'      "integrity": "{SRI.replace("384", "512")}",'
    assert is_not_a_secret("package-lock.json", line) is not None


def test_other_value_on_an_integrity_line_is_still_judged() -> None:
    line = f'<script integrity="{SRI}" data-key="{KEY}"></script>'
    assert is_not_a_secret("index.html", line, KEY) is None


def test_lock_file_digest_is_not_a_secret() -> None:
    digest = hashlib.sha256(b"wheel").hexdigest()
    assert is_not_a_secret("uv.lock", f'hash = "sha256:{digest}"') is not None
    assert is_not_a_secret("requirements.txt", f"    --hash=sha256:{digest} \\") is not None


def test_pre_commit_revision_is_not_a_secret() -> None:
    reason = is_not_a_secret(".pre-commit-config.yaml", f"    rev: {SHA}  # frozen: v4.6.0")
    assert reason == "a git revision pinned in the pre-commit configuration"


def test_forty_hex_characters_elsewhere_may_be_a_secret() -> None:
    assert is_not_a_secret("deploy/config.yaml", f"    rev: {SHA}") is None
    assert is_not_a_secret(".pre-commit-config.yaml", f"    api_key: {SHA}") is None


def test_action_pinned_by_revision_is_not_a_secret() -> None:
    line = f"      - uses: actions/checkout@{SHA} # v4"
    assert is_not_a_secret(".github/workflows/ci.yml", line) is not None
    assert is_not_a_secret("scripts/ci.yml", line) is None


@pytest.mark.parametrize(
    "line",
    [
        'API_KEY = "changeme"',
        'password: "your-password-here"',
        "SECRET_TOKEN=xxxxxxxx",
        'headers = {"Authorization": "Bearer <token>"}',
        'aws_secret_access_key = "${AWS_SECRET_ACCESS_KEY}"',
        'token = "{{ secrets.DEPLOY_TOKEN }}"',
        'stripe_key = "your_stripe_key"',
        'secret = "REPLACE_ME"',
    ],
)
def test_obvious_placeholder_is_not_a_secret(line: str) -> None:
    assert "placeholder" in (is_not_a_secret("settings.py", line) or "")


@pytest.mark.parametrize(
    "line",
    [
        f'GITHUB_TOKEN = "{TOKEN}"',
        f'headers = {{"Authorization": "Bearer {KEY}"}}',
        f'api_key = "{KEY}"  # changeme',
        'password = "hunter2-super-secret"',
    ],
)
def test_real_looking_value_is_still_a_secret(line: str) -> None:
    assert is_not_a_secret("app/config.py", line) is None


def test_placeholder_next_to_a_real_key_keeps_the_line() -> None:
    line = f'creds = {{"user": "changeme", "key": "{KEY}"}}'
    assert is_not_a_secret("app/config.py", line) is None
    assert is_not_a_secret("app/config.py", line, "changeme") is not None


def test_known_example_key_is_not_cleared() -> None:
    """A documented example key is a real key format; only the scanner's type decides it."""
    assert is_not_a_secret("app/config.py", 'aws_key = "AKIAIOSFODNN7EXAMPLE"') is None


def test_a_word_such_as_password_is_not_a_placeholder() -> None:
    line = "{'login': 'jane', 'password': 's33kred'}"
    assert is_not_a_secret("docs/examples.md", line) is None


def test_what_detect_secrets_flags_in_the_planted_template_is_cleared(tmp_path: Path) -> None:
    """The real scanner flags the template's integrity hash; the filter says why it is none."""
    template = Path(__file__).parent / "fixtures" / "vulnweb" / "vulnweb" / "templates"
    shutil.copytree(template, tmp_path / "templates")
    scanner = Path(sys.executable).parent / "detect-secrets"
    done = subprocess.run(
        [str(scanner), "scan", "--all-files", "templates"], cwd=tmp_path, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    hits = [(f, h["line_number"]) for f, hs in json.loads(done.stdout)["results"].items()
            for h in hs]  # fmt: skip
    assert hits, "detect-secrets no longer flags the integrity hash: the test proves nothing"
    lines = (tmp_path / "templates" / "item.html").read_text().splitlines()
    assert all(is_not_a_secret(f, lines[n - 1]) for f, n in hits)


def test_a_private_key_marker_with_no_key_body_is_not_a_secret() -> None:
    from autocoder.workers.analysis.perspectives._secret_filter import empty_private_key

    template = [
        '    return f"-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n-----END RSA PRIVATE KEY-----\\n"'
    ]
    truncated = [
        'KEY = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAz1x9\\n-----END RSA PRIVATE KEY-----"'
    ]
    assert empty_private_key(template, 1) is not None
    assert empty_private_key(truncated, 1) is not None


def test_a_private_key_with_a_body_stays_a_secret() -> None:
    from autocoder.workers.analysis.perspectives._secret_filter import empty_private_key

    body = ["MIIEow" + "Ab3+" * 15 + "xY", *["Qz9/" * 16] * 4]  # built here, never a real key
    pem = ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]
    assert empty_private_key(pem, 1) is None
    escaped = [
        'K = "-----BEGIN PRIVATE KEY-----\\n' + "\\n".join(body) + '\\n-----END PRIVATE KEY-----"'
    ]
    assert empty_private_key(escaped, 1) is None
