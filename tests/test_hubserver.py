"""The Hub test server against the real huggingface_hub and datasets clients."""

import importlib.util
import json
import os
import re
from pathlib import Path

import datasets
import httpx
import huggingface_hub
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    hf_hub_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

# conftest.py imports hubserver (and its `hub`/`hub_server` fixtures) before anything else
from hubserver import RATE_LIMIT_TEXT, TEST_TOKEN, TEST_USER, HubServer

REPO = "acme/results"

CARD = """\
---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/records/*/*.jsonl
- config_name: findings
  data_files:
  - split: train
    path: data/findings/*.jsonl
dataset_info:
- config_name: default
  features:
  - name: seq
    dtype: int64
  - name: at
    dtype: string
  - name: detail
    dtype: json
- config_name: findings
  features:
  - name: rule
    dtype: string
  - name: count
    dtype: int64
---
# Results
"""


@pytest.fixture
def api() -> HfApi:
    return HfApi(token=TEST_TOKEN)


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _publish_dataset(api: HfApi, repo_id: str = REPO) -> None:
    """A dataset repo as the workers publish it: a card plus 3 record shards and a findings file."""
    api.create_repo(repo_id, repo_type="dataset", private=True)
    ops = [CommitOperationAdd("README.md", CARD.encode())]
    for shard in range(1, 4):
        rows = [
            {
                "seq": shard * 10 + i,
                "at": f"2026-01-0{shard}T00:00:0{i}.000001+00:00",
                "detail": {f"k{shard}": shard, "nested": {"list": [i, shard], "flag": i == 1}},
            }
            for i in range(2)
        ]
        ops.append(
            CommitOperationAdd(f"data/records/{shard - 1:04d}/{shard:09d}.jsonl", _jsonl(rows))
        )
    ops.append(
        CommitOperationAdd("data/findings/000000001.jsonl", _jsonl([{"rule": "E1", "count": 3}]))
    )
    api.create_commit(repo_id, ops, commit_message="publish", repo_type="dataset")


def _commit_posts(server: HubServer) -> list:
    return [r for r in server.requests if r.method == "POST" and "/commit/" in r.path]


def test_import_configured_the_clients(hub: HubServer) -> None:
    assert os.environ["HF_ENDPOINT"] == hub.url
    assert hub.url == huggingface_hub.constants.ENDPOINT == datasets.config.HF_ENDPOINT
    assert "HF_TOKEN" not in os.environ and "HF_HUB_OFFLINE" not in os.environ
    home = Path(os.environ["HF_HOME"])
    assert home != Path.home() / ".cache" / "huggingface"
    assert Path(huggingface_hub.constants.HF_HUB_CACHE).is_relative_to(home)


def test_import_after_the_clients_is_refused() -> None:
    spec = importlib.util.spec_from_file_location(
        "hubserver_again", Path(__file__).with_name("hubserver.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(RuntimeError, match="import order is wrong"):
        spec.loader.exec_module(module)


def test_create_private_dataset_and_repo_info(hub: HubServer, api: HfApi) -> None:
    url = api.create_repo(REPO, repo_type="dataset", private=True)
    assert url.repo_id == REPO and url.repo_type == "dataset"
    info = api.repo_info(REPO, repo_type="dataset")
    assert info.private is True and info.id == REPO
    assert re.fullmatch(r"[0-9a-f]{40}", info.sha)
    assert info.last_modified is not None
    assert [s.rfilename for s in info.siblings] == [".gitattributes"]

    with pytest.raises(HfHubHTTPError) as exc:
        api.create_repo(REPO, repo_type="dataset")
    assert exc.value.response.status_code == 409
    assert api.create_repo(REPO, repo_type="dataset", exist_ok=True).repo_id == REPO
    with pytest.raises(RepositoryNotFoundError):  # private: hidden from anonymous callers
        HfApi(token=False).repo_info(REPO, repo_type="dataset")
    assert api.create_repo("mine", repo_type="dataset").repo_id == f"{TEST_USER}/mine"


def test_upload_commit_list_and_download(hub: HubServer, api: HfApi) -> None:
    api.create_repo(REPO, repo_type="dataset", private=True)
    api.upload_file(
        path_or_fileobj=b"hello\n", path_in_repo="notes/a.txt", repo_id=REPO, repo_type="dataset"
    )
    info = api.create_commit(
        REPO,
        [CommitOperationAdd(f"data/{i}.jsonl", _jsonl([{"i": i}])) for i in range(3)],
        commit_message="three files",
        repo_type="dataset",
    )
    assert info.oid == api.repo_info(REPO, repo_type="dataset").sha
    assert api.list_repo_files(REPO, repo_type="dataset") == [
        ".gitattributes",
        "data/0.jsonl",
        "data/1.jsonl",
        "data/2.jsonl",
        "notes/a.txt",
    ]
    path = hf_hub_download(REPO, "data/2.jsonl", repo_type="dataset", token=TEST_TOKEN)
    assert json.loads(Path(path).read_text()) == {"i": 2}
    assert hub.commit_count(REPO) == 3  # initial .gitattributes commit + 2

    api.create_commit(
        REPO, [CommitOperationDelete("notes/a.txt")], commit_message="rm", repo_type="dataset"
    )
    assert "notes/a.txt" not in hub.files(REPO)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "notes/a.txt", repo_type="dataset", token=TEST_TOKEN)
    with pytest.raises(RevisionNotFoundError):
        api.repo_info(REPO, repo_type="dataset", revision="f" * 40)
    assert all(r.has_auth for r in hub.requests if r.path != "/api/agent-harnesses")


def test_unchanged_file_is_skipped_on_reupload(hub: HubServer, api: HfApi) -> None:
    api.create_repo(REPO, repo_type="dataset")

    def ops() -> list[CommitOperationAdd]:
        return [CommitOperationAdd("a.txt", b"same"), CommitOperationAdd("b.txt", b"v1")]

    api.create_commit(REPO, ops(), commit_message="first", repo_type="dataset")
    posts, count = len(_commit_posts(hub)), hub.commit_count(REPO)

    api.create_commit(REPO, ops(), commit_message="again", repo_type="dataset")  # nothing changed
    assert len(_commit_posts(hub)) == posts and hub.commit_count(REPO) == count

    changed = [CommitOperationAdd("a.txt", b"same"), CommitOperationAdd("b.txt", b"v2")]
    api.create_commit(REPO, changed, commit_message="b only", repo_type="dataset")
    assert hub.commit_count(REPO) == count + 1
    assert hub.files(REPO)["b.txt"] == b"v2"


def test_missing_repo_raises_repository_not_found(hub: HubServer, api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info("acme/nope", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_files("acme/nope", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("acme/nope", "x.txt", repo_type="dataset", token=TEST_TOKEN)
    with pytest.raises(RepositoryNotFoundError):
        api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x", repo_id="acme/nope", repo_type="dataset"
        )
    assert {r.status for r in hub.requests if "nope" in r.path} == {404}


def test_load_dataset_with_card_configs_and_json_features(hub: HubServer, api: HfApi) -> None:
    _publish_dataset(api)
    ds = datasets.load_dataset(REPO, token=TEST_TOKEN)
    train = ds["train"]
    assert [row["seq"] for row in train] == [10, 11, 20, 21, 30, 31]
    newest = train[-1]
    assert newest["seq"] == 31
    assert newest["at"] == "2026-01-03T00:00:01.000001+00:00"
    assert newest["detail"] == {"k3": 3, "nested": {"list": [1, 3], "flag": True}}
    assert train[0]["detail"] == {"k1": 1, "nested": {"list": [0, 1], "flag": False}}

    findings = datasets.load_dataset(REPO, "findings", token=TEST_TOKEN)
    assert findings["train"][:] == {"rule": ["E1"], "count": [3]}
    # datasets resolves main to the commit sha once, then reads everything at that sha
    sha = api.repo_info(REPO, repo_type="dataset").sha
    assert any(
        r.path.endswith(f"/resolve/{sha}/data/records/0002/000000003.jsonl") for r in hub.requests
    )


def test_streaming_and_hffilesystem_use_range_requests(hub: HubServer, api: HfApi) -> None:
    _publish_dataset(api)
    rows = list(datasets.load_dataset(REPO, split="train", streaming=True, token=TEST_TOKEN))
    assert rows[-1]["detail"]["k3"] == 3
    assert any(r.status == 206 and r.range for r in hub.requests)

    fs = HfFileSystem(token=TEST_TOKEN)
    base = f"datasets/{REPO}"
    assert fs.ls(f"{base}/data/records", detail=False) == [
        f"{base}/data/records/{d}" for d in ("0000", "0001", "0002")
    ]
    assert fs.info(f"{base}/README.md")["size"] == len(CARD.encode())
    assert fs.info(f"{base}/data/findings", refresh=True)["type"] == "directory"  # paths-info
    with fs.open(f"{base}/README.md", "rb") as f:
        f.seek(4)
        assert f.read(7) == b"configs"
    assert hub.requests[-1].range is not None and hub.requests[-1].status == 206


def test_paths_info_and_tree_expand_report_last_commits(hub: HubServer, api: HfApi) -> None:
    _publish_dataset(api)
    api.upload_file(
        path_or_fileobj=b"v2",
        path_in_repo="data/findings/000000002.jsonl",
        repo_id=REPO,
        repo_type="dataset",
    )
    upload, publish, _initial = api.list_repo_commits(REPO, repo_type="dataset")
    infos = api.get_paths_info(
        REPO, ["README.md", "data/findings", "missing.txt"], expand=True, repo_type="dataset"
    )
    assert [(i.path, i.last_commit.oid) for i in infos] == [
        ("README.md", publish.commit_id),
        ("data/findings", upload.commit_id),
    ]
    assert infos[0].size == len(CARD.encode()) and infos[0].blob_id
    tree = api.list_repo_tree(REPO, "data/findings", expand=True, repo_type="dataset")
    assert [(t.path, t.last_commit.title) for t in tree] == [
        ("data/findings/000000001.jsonl", "publish"),
        ("data/findings/000000002.jsonl", upload.title),
    ]


def test_push_to_hub_goes_through_lfs(hub: HubServer) -> None:
    data = datasets.Dataset.from_list([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    data.push_to_hub(REPO, token=TEST_TOKEN, private=True)
    assert any(r.path.endswith(".git/info/lfs/objects/batch") for r in hub.requests)
    assert datasets.load_dataset(REPO, split="train", token=TEST_TOKEN)[:] == {
        "a": [1, 2],
        "b": ["x", "y"],
    }


def test_fail_next_500_on_commit_fails_the_call(hub: HubServer, api: HfApi) -> None:
    api.create_repo(REPO, repo_type="dataset")
    hub.fail_next(2, status=500, methods={"POST"}, path_contains="/commit/")
    for _ in range(2):  # the client never retries the commit POST
        with pytest.raises(HfHubHTTPError) as exc:
            api.upload_file(
                path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset"
            )
        assert exc.value.response.status_code == 500
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset")
    assert [r.status for r in _commit_posts(hub)] == [500, 500, 200]
    assert hub.files(REPO)["x"] == b"x"


def test_fail_next_500_on_preupload_is_retried(
    hub: HubServer, api: HfApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", sleeps.append)
    api.create_repo(REPO, repo_type="dataset")
    hub.fail_next(2, status=500, path_contains="/preupload/")
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset")
    preuploads = [r for r in hub.requests if "/preupload/" in r.path]
    assert [(r.status, r.injected) for r in preuploads] == [(500, True), (500, True), (200, False)]
    assert sleeps == [1, 2]  # the client's exponential backoff


def test_429_carries_retry_after_and_rate_limit_text(hub: HubServer, api: HfApi) -> None:
    api.create_repo(REPO, repo_type="dataset")
    hub.fail_next(1, status=429, retry_after=30, path_contains="/commit/")
    with pytest.raises(HfHubHTTPError) as exc:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "30"
    assert RATE_LIMIT_TEXT in str(exc.value)


def test_writes_without_a_valid_token_are_refused(hub: HubServer, api: HfApi) -> None:
    anonymous = HfApi(token=False)
    with pytest.raises(HfHubHTTPError) as exc:
        anonymous.create_repo(REPO, repo_type="dataset")
    assert exc.value.response.status_code == 401

    api.create_repo(REPO, repo_type="dataset")  # public: anyone may read, nobody may write
    assert anonymous.list_repo_files(REPO, repo_type="dataset") == [".gitattributes"]
    with pytest.raises(HfHubHTTPError) as exc:
        anonymous.upload_file(
            path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset"
        )
    assert exc.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as exc:
        HfApi(token="not-a-known-token").upload_file(
            path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO, repo_type="dataset"
        )
    assert exc.value.response.status_code == 401
    assert hub.commit_count(REPO) == 1
    refused = [r for r in hub.requests if r.status == 401]
    assert [r.has_auth for r in refused] == [False, False, True]


def test_down_answers_503_until_up(hub: HubServer, api: HfApi) -> None:
    api.create_repo(REPO, repo_type="dataset")
    hub.down()
    with pytest.raises(HfHubHTTPError) as exc:
        api.repo_info(REPO, repo_type="dataset")
    assert exc.value.response.status_code == 503
    hub.up()
    assert api.repo_info(REPO, repo_type="dataset").id == REPO


SPACE = f"{TEST_USER}/my-space"


def test_space_is_created_with_sdk_hardware_secrets_and_variables(
    hub: HubServer, api: HfApi
) -> None:
    secret = "fake-" + "secret-value"
    api.create_repo(
        SPACE,
        repo_type="space",
        space_sdk="gradio",
        space_hardware="cpu-upgrade",
        space_secrets=[{"key": "HF_TOKEN", "value": secret}],
        space_variables=[{"key": "HF_USERNAME", "value": TEST_USER}],
        private=True,
    )
    info = api.space_info(SPACE)
    assert info.sdk == "gradio" and info.private
    assert info.runtime is not None and info.runtime.hardware == "cpu-upgrade"
    assert hub.space_secrets(SPACE) == {"HF_TOKEN": secret}
    assert hub.space_variables(SPACE) == {"HF_USERNAME": TEST_USER}
    create = next(r for r in hub.requests if r.path == "/api/repos/create")
    assert create.method == "POST" and create.status == 200


def test_space_without_a_valid_sdk_is_refused(hub: HubServer) -> None:
    # create_repo checks the sdk on the client side: send a bad one as raw HTTP
    answer = httpx.post(
        f"{hub.url}/api/repos/create",
        json={"name": "raw", "type": "space", "sdk": "nope"},
        headers={"Authorization": f"Bearer {TEST_TOKEN}"},
    )
    assert answer.status_code == 400 and "nope" in answer.json()["error"]
    assert ("space", f"{TEST_USER}/raw") not in hub.repos


def test_space_secrets_are_write_only_and_variables_read_back(hub: HubServer, api: HfApi) -> None:
    api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
    secret = "fake-" + "github-token"
    api.add_space_secret(SPACE, "GITHUB_TOKEN", secret)
    api.add_space_secret(SPACE, "OLD", "x")
    api.delete_space_secret(SPACE, "OLD")
    listed = api.get_space_secrets(SPACE)
    assert list(listed) == ["GITHUB_TOKEN"] and listed["GITHUB_TOKEN"].updated_at is not None
    raw = httpx.get(
        f"{hub.url}/api/spaces/{SPACE}/secrets", headers={"Authorization": f"Bearer {TEST_TOKEN}"}
    )
    assert secret not in raw.text
    assert hub.space_secrets(SPACE) == {"GITHUB_TOKEN": secret}

    api.add_space_variable(SPACE, "AUTOCODER_TARGET", "https://example.org/a.git")
    api.add_space_variable(SPACE, "GONE", "1")
    after = api.delete_space_variable(SPACE, "GONE")
    assert {k: v.value for k, v in after.items()} == {
        "AUTOCODER_TARGET": "https://example.org/a.git"
    }
    assert api.get_space_variables(SPACE)["AUTOCODER_TARGET"].value == "https://example.org/a.git"


def test_space_hardware_request_shows_in_the_runtime(hub: HubServer, api: HfApi) -> None:
    api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
    assert api.get_space_runtime(SPACE).hardware == "cpu-basic"
    runtime = api.request_space_hardware(SPACE, "cpu-upgrade")
    assert runtime.requested_hardware == "cpu-upgrade" and runtime.stage == "RUNNING"
    assert api.get_space_runtime(SPACE).hardware == "cpu-upgrade"
    assert hub.space_hardware(SPACE) == "cpu-upgrade"
    posted = [r for r in hub.requests if r.method == "POST" and r.path.endswith("/hardware")]
    assert [r.path for r in posted] == [f"/api/spaces/{SPACE}/hardware"]


def test_space_settings_need_a_valid_token_and_a_space(hub: HubServer, api: HfApi) -> None:
    api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
    api.create_repo(REPO, repo_type="dataset")
    wrong = HfApi(token="wrong-" + "token")
    with pytest.raises(HfHubHTTPError):
        wrong.add_space_secret(SPACE, "HF_TOKEN", "x")
    with pytest.raises(HfHubHTTPError):
        HfApi(token=False).add_space_variable(SPACE, "A", "1", token=False)
    assert hub.space_secrets(SPACE) == {} and hub.space_variables(SPACE) == {}
    not_a_space = httpx.get(
        f"{hub.url}/api/datasets/{REPO}/secrets", headers={"Authorization": f"Bearer {TEST_TOKEN}"}
    )
    assert not_a_space.status_code == 404
