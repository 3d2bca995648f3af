"""``autocoder deploy`` against the Hub test server, through the real command and HfApi.

Fake secret values are built at run time; the server accepts the fake HF token for the test.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from huggingface_hub import HfApi

import autocoder.deploy.hub as deploy_hub
from autocoder.cli import main
from autocoder.deploy.bundle import space_files, stage
from autocoder.workers import catalog

from hubserver import TEST_TOKEN, TEST_USER, HubServer

WORKERS = ("analysis", "test-planning", "implementation")
SPACES = {
    "analysis": "autocoder-analysis",
    "test-planning": "autocoder-test-planning",
    "implementation": "autocoder-implementation",
    "dashboard": "autocoder-dashboard",
}
DATASETS = [f"autocoder-{name}-results" for name in WORKERS]
TARGET = "https://github.com/acme/shop"
WRITES = ("POST", "PUT", "DELETE", "PATCH")


@pytest.fixture
def tokens(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake secrets in the environment; the HF one is accepted by the server."""
    values = {
        "HF_TOKEN": "hf_" + secrets.token_hex(12),
        "GITHUB_TOKEN": "ghp_" + secrets.token_hex(12),
        "AUTOCODER_LLM_API_KEY": "sk-" + secrets.token_hex(12),
    }
    monkeypatch.setattr(hub, "tokens", {TEST_TOKEN, values["HF_TOKEN"]})
    for name in ("HF_USERNAME", "AUTOCODER_ADMIN_TOKEN", "AUTOCODER_TARGET", "AUTOCODER_HUB_REPO"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(deploy_hub, "FIRST_WAIT_S", 0.01)  # retries without real waits
    return values


def deploy(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["deploy", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def requests(hub: HubServer, methods: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in hub.requests
        if r.path != "/api/agent-harnesses" and (methods is None or r.method in methods)
    ]


def space_id(app: str) -> str:
    return f"{TEST_USER}/{SPACES[app]}"


def admin_token_of(out: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith("AUTOCODER_ADMIN_TOKEN (")]
    return line.rsplit(": ", 1)[1]


def test_first_deploy_sends_exactly_these_requests(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = deploy(capsys, "--target", TARGET)
    assert status == 0, err
    expected = [("GET", "/api/whoami-v2")]
    expected += [("GET", f"/api/datasets/{TEST_USER}/{name}") for name in DATASETS]
    expected += [("GET", f"/api/spaces/{space_id(app)}") for app in SPACES]
    expected += [("POST", "/api/repos/create")] * len(DATASETS)
    for app in SPACES:
        expected += [
            ("POST", "/api/repos/create"),
            ("POST", "/api/validate-yaml"),
            ("POST", f"/api/spaces/{space_id(app)}/preupload/main"),
            ("POST", f"/api/spaces/{space_id(app)}/commit/main"),
        ]
    sent = requests(hub)
    # preupload goes in chunks (of 256 files in huggingface_hub 2.4): count each run of them once
    once = [r for i, r in enumerate(sent) if not (i and r == sent[i - 1] and "preupload" in r[1])]
    assert once == expected
    for name in DATASETS:
        assert hub.repos[("dataset", f"{TEST_USER}/{name}")].private
    for app in SPACES:
        repo = hub.repos[("space", space_id(app))]
        assert (
            repo.sdk == "gradio" and repo.private and hub.commit_count(space_id(app), "space") == 2
        )


def test_each_space_holds_exactly_the_staged_files(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert deploy(capsys, "--target", TARGET)[0] == 0
    for app in SPACES:
        on_hub = hub.files(space_id(app), "space")
        assert on_hub.pop(".gitattributes")  # the Hub's own file, left in place
        staged = stage(app, tmp_path / app)
        assert sorted(on_hub) == staged
        assert on_hub == {name: (tmp_path / app / name).read_bytes() for name in staged}
        assert f'run_space("{app}")'.encode() in on_hub["app.py"]


def test_secrets_and_variables_go_to_the_spaces_that_need_them(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _status, out, _err = deploy(capsys, "--only", "implementation,dashboard", "--target", TARGET)
    admin = admin_token_of(out)
    assert len(admin) >= 32
    for app in ("implementation",):
        assert hub.space_secrets(space_id(app)) == {**tokens, "AUTOCODER_ADMIN_TOKEN": admin}
        assert hub.space_variables(space_id(app)) == {
            "HF_USERNAME": TEST_USER,
            "AUTOCODER_TARGET": TARGET,
        }
    dashboard = space_id("dashboard")
    assert hub.space_secrets(dashboard) == {"HF_TOKEN": tokens["HF_TOKEN"]}
    urls = hub.space_variables(dashboard)["AUTOCODER_WORKER_URLS"].split(",")
    assert urls == [f"{app}=https://{TEST_USER}-{SPACES[app]}.hf.space" for app in WORKERS]
    for app in ("implementation", "dashboard"):
        assert f"https://{TEST_USER}-{SPACES[app]}.hf.space" in out
        assert f"/spaces/{space_id(app)}" in out


def test_second_run_changes_nothing_and_prints_no_token(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    apps = ("analysis", "dashboard")
    first = deploy(capsys, "--only", ",".join(apps), "--target", TARGET)[1]
    admin = admin_token_of(first)
    assert first.count(admin) == 1
    commits = {app: hub.commit_count(space_id(app), "space") for app in apps}
    hub.requests.clear()
    status, second, _err = deploy(capsys, "--only", ",".join(apps), "--target", TARGET)
    assert status == 0
    assert requests(hub, WRITES) == []
    assert commits == {app: hub.commit_count(space_id(app), "space") for app in apps}
    assert admin not in second and "AUTOCODER_ADMIN_TOKEN (" not in second
    assert "kept (already on the Space" in second and "no commit" in second
    assert hub.space_secrets(space_id("analysis"))["AUTOCODER_ADMIN_TOKEN"] == admin


def test_what_differs_on_the_hub_is_put_back_in_one_commit(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, "--only", "analysis", "--target", TARGET)[0] == 0
    repo_id = space_id("analysis")
    api = HfApi(token=tokens["HF_TOKEN"])
    api.upload_file(path_or_fileobj=b"edited\n", path_in_repo="app.py", repo_id=repo_id,
                    repo_type="space")  # fmt: skip
    api.upload_file(path_or_fileobj=b"x\n", path_in_repo="stray.txt", repo_id=repo_id,
                    repo_type="space")  # fmt: skip
    before = hub.commit_count(repo_id, "space")
    hub.requests.clear()
    status, out, _err = deploy(capsys, "--only", "analysis", "--target", "https://x.org/a.git")
    assert status == 0
    assert hub.commit_count(repo_id, "space") == before + 1
    commits = hub.repos[("space", repo_id)].commits
    changed = {p for p in commits[-1].files.keys() | commits[-2].files.keys()
               if commits[-1].files.get(p) != commits[-2].files.get(p)}  # fmt: skip
    assert changed == {"app.py", "stray.txt"}
    assert "stray.txt" not in commits[-1].files
    assert commits[-1].files["app.py"] == space_files("analysis")["app.py"]
    assert "file changed   app.py" in out and "file deleted   stray.txt" in out
    assert requests(hub, WRITES) == [
        ("POST", f"/api/spaces/{repo_id}/variables"),
        ("POST", f"/api/spaces/{repo_id}/preupload/main"),
        ("POST", f"/api/spaces/{repo_id}/commit/main"),
    ]
    assert hub.space_variables(repo_id)["AUTOCODER_TARGET"] == "https://x.org/a.git"


def test_combined_makes_one_space_with_every_dataset(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("GITHUB_TOKEN")  # a public target: --public is allowed
    status, out, _err = deploy(capsys, "--combined", "--target", TARGET, "--public")
    assert status == 0
    spaces = [repo_id for kind, repo_id in hub.repos if kind == "space"]
    assert spaces == [f"{TEST_USER}/autocoder"]
    assert not hub.repos[("space", f"{TEST_USER}/autocoder")].private
    datasets = sorted(repo_id for kind, repo_id in hub.repos if kind == "dataset")
    assert datasets == sorted(f"{TEST_USER}/{name}" for name in DATASETS)
    files = hub.files(f"{TEST_USER}/autocoder", "space")
    assert b'run_space("combined")' in files["app.py"]
    secrets_set = hub.space_secrets(f"{TEST_USER}/autocoder")
    assert secrets_set["AUTOCODER_ADMIN_TOKEN"] == admin_token_of(out)
    assert f"https://{TEST_USER}-autocoder.hf.space" in out


def test_only_limits_the_spaces_and_datasets(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _err = deploy(capsys, "--only", "test-planning,dashboard")
    assert status == 0 and "note: no --target or AUTOCODER_TARGET given" in out
    assert sorted(hub.repos) == [
        ("dataset", f"{TEST_USER}/autocoder-test-planning-results"),
        ("space", space_id("dashboard")),
        ("space", space_id("test-planning")),
    ]
    status, _out, err = deploy(capsys, "--only", "analysis,nope")
    assert status == 2 and "'nope'" in err and "test-planning" in err


def test_dry_run_sends_only_gets_and_lists_files_and_settings(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _err = deploy(capsys, "--dry-run", "--target", TARGET)
    assert status == 0
    assert {method for method, _path in requests(hub)} == {"GET"}
    assert not hub.repos
    for app in SPACES:
        assert f"Space {space_id(app)} ({app}): create" in out
        for path in space_files(app):
            assert f"file added     {path}" in out
    assert "secret GITHUB_TOKEN: set" in out and f"variable AUTOCODER_TARGET={TARGET}: set" in out
    assert "AUTOCODER_ADMIN_TOKEN: a new one would be generated" in out
    for value in tokens.values():
        assert value not in out
    deploy(capsys, "--only", "analysis")
    hub.requests.clear()
    out = deploy(capsys, "--only", "analysis", "--dry-run", "--hardware", "cpu-upgrade")[1]
    assert requests(hub, WRITES) == []
    assert "file unchanged app.py" in out and "hardware cpu-upgrade: request" in out


def test_no_token_value_in_any_uploaded_file_or_the_output(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = deploy(capsys, "--target", TARGET)
    assert status == 0
    admin = admin_token_of(out)
    values = [*tokens.values(), admin]
    for kind, repo_id in hub.repos:
        for path, content in hub.files(repo_id, kind).items():
            for value in values:
                assert value.encode() not in content, f"{value[:3]}... in {repo_id}/{path}"
    without_the_one_print = out.replace(admin, "", 1)
    for value in values:
        assert value not in without_the_one_print and value not in err


def test_hardware_and_visibility_are_changed_only_when_they_differ(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(capsys, "--only", "dashboard")[0] == 0
    repo_id = space_id("dashboard")
    hub.requests.clear()
    assert deploy(capsys, "--only", "dashboard", "--hardware", "cpu-upgrade", "--public")[0] == 0
    assert requests(hub, WRITES) == [
        ("PUT", f"/api/spaces/{repo_id}/settings"),
        ("POST", f"/api/spaces/{repo_id}/hardware"),
    ]
    assert hub.space_hardware(repo_id) == "cpu-upgrade"
    assert not hub.repos[("space", repo_id)].private
    hub.requests.clear()
    assert deploy(capsys, "--only", "dashboard", "--hardware", "cpu-upgrade", "--public")[0] == 0
    assert requests(hub, WRITES) == []


def test_reset_secrets_sets_them_again_with_a_new_admin_token(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = admin_token_of(deploy(capsys, "--only", "analysis")[1])
    hub.requests.clear()
    status, out, _err = deploy(capsys, "--only", "analysis", "--reset-secrets")
    assert status == 0
    second = admin_token_of(out)
    assert second != first
    assert hub.space_secrets(space_id("analysis"))["AUTOCODER_ADMIN_TOKEN"] == second
    posted = [p for m, p in requests(hub, WRITES)]
    assert posted == [f"/api/spaces/{space_id('analysis')}/secrets"] * 4


def test_a_hub_500_on_a_commit_is_retried(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    hub.fail_next(1, status=500, path_contains="/commit/")
    status, _out, err = deploy(capsys, "--only", "analysis")
    assert status == 0, err
    commits = [r for r in hub.requests if "/commit/" in r.path]
    assert [r.status for r in commits] == [500, 200]
    assert sorted(hub.files(space_id("analysis"), "space")) == sorted(
        [".gitattributes", *space_files("analysis")]
    )


def test_a_hub_that_keeps_answering_429_is_one_clear_error(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    hub.fail_next(deploy_hub.ATTEMPTS, status=429, retry_after=0, path_contains="/commit/")
    status, _out, err = deploy(capsys, "--only", "analysis")
    assert status == 2
    *waits, line = err.strip().splitlines()
    assert "HTTP 429" in line and "autocoder deploy" in line and "again" in line
    assert len(waits) == deploy_hub.ATTEMPTS - 1 and all("trying again in" in w for w in waits)
    assert len([r for r in hub.requests if "/commit/" in r.path]) == deploy_hub.ATTEMPTS
    assert deploy(capsys, "--only", "analysis")[0] == 0  # picks up where it stopped


def test_without_a_token_the_error_names_hf_token(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("HF_TOKEN")
    status, _out, err = deploy(capsys)
    assert status == 2 and "HF_TOKEN is not set" in err and "huggingface.co/settings/tokens" in err
    assert requests(hub) == []


def test_a_refused_token_is_named_without_its_value(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    wrong = "hf_" + secrets.token_hex(12)
    monkeypatch.setenv("HF_TOKEN", wrong)
    status, _out, err = deploy(capsys)
    assert status == 2 and "HF_TOKEN" in err and "401" in err
    assert wrong not in err


def test_a_target_a_space_cannot_reach_or_that_carries_a_password_is_refused(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _out, err = deploy(capsys, "--target", str(tmp_path))
    assert status == 2 and "local folder" in err and "git URL" in err
    leaked = "https://me:" + tokens["GITHUB_TOKEN"] + "@github.com/acme/shop"
    status, _out, err = deploy(capsys, "--target", leaked)
    assert status == 2 and "GITHUB_TOKEN" in err and tokens["GITHUB_TOKEN"] not in err
    assert not hub.repos


def test_a_worker_added_to_the_catalog_is_deployed_too(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    docs = replace(catalog.worker_info("analysis"), name="docs", title="Docs Worker",
                   dataset="autocoder-docs-results", space="autocoder-docs",
                   folder="5_docs_worker", description="A {braced} docs worker.")  # fmt: skip
    monkeypatch.setattr(catalog, "CATALOG", [*catalog.CATALOG, docs])
    status, out, _err = deploy(capsys, "--dry-run", "--only", "docs,dashboard")
    assert status == 0
    assert f"Space {TEST_USER}/autocoder-docs (docs): create" in out
    assert f"dataset {TEST_USER}/autocoder-docs-results: create (private)" in out
    assert f"docs=https://{TEST_USER}-autocoder-docs.hf.space" in out
    stage("docs", tmp_path)
    card = (tmp_path / "README.md").read_text()
    assert "A {braced} docs worker." in card and "title: autocoder docs worker" in card
    assert 'run_space("docs")' in (tmp_path / "app.py").read_text()
