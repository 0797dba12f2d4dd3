from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from phar_cli.errors import DownloadError
from phar_cli.models.download import (
    BAD_CHECKSUM,
    MISSING,
    OK,
    UNVERIFIED,
    WRONG_SIZE,
    fetch,
    resolve_url,
    verify,
)
from phar_cli.models.registry import ModelEntry

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: two chunks
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def make_entry(url: str = "https://example.invalid/m/model.pth", *, file: str = "model.pth",
               sha256: str | None = DIGEST, prefix: str | None = None,
               size: int | None = None) -> ModelEntry:
    return ModelEntry(name="rgb", file=file, url=url, sha256=sha256, sha256_prefix=prefix,
                      size=size, config="configs/rgb/timesformer.py")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def no_mirror(monkeypatch):
    monkeypatch.delenv("PHAR_MODELS_MIRROR", raising=False)


def test_good_download_with_sha256(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    dest = tmp_path / "models"
    result = fetch(make_entry(url), dest)
    assert result.status == "downloaded" and result.verified == "sha256"
    assert result.path == dest / "model.pth" and Path(result) == result.path
    assert (dest / "model.pth").read_bytes() == PAYLOAD
    assert result.sha256 == DIGEST and result.size == len(PAYLOAD)
    assert leftovers(dest) == ["model.pth"]


def test_published_prefix_is_checked_when_no_full_sha256(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    result = fetch(make_entry(url, sha256=None, prefix=DIGEST[:8]), tmp_path)
    assert result.verified == "sha256-prefix"
    with pytest.raises(DownloadError, match="expected sha256 00000000"):
        fetch(make_entry(url, file="other.pth", sha256=None, prefix="00000000"), tmp_path)
    assert leftovers(tmp_path) == ["model.pth", "sha256.lock"]  # the prefix's file, pinned


def test_without_any_checksum_the_result_says_unverified(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    result = fetch(make_entry(url, sha256=None), tmp_path)
    assert result.verified == "unverified"
    assert "unverified" in result.message


def test_wrong_checksum_leaves_nothing(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    with pytest.raises(DownloadError) as info:
        fetch(make_entry(url, sha256="0" * 64), tmp_path / "models")
    message = str(info.value)
    assert "checksum mismatch for model.pth" in message and DIGEST in message and url in message
    assert "\n" not in message
    assert leftovers(tmp_path / "models") == []


def test_cut_off_download_leaves_nothing(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD[:300_000], claimed_length=len(PAYLOAD))
    with pytest.raises(DownloadError) as info:
        fetch(make_entry(url), tmp_path)
    message = str(info.value)
    assert "cut off" in message and url in message
    assert f"expected {len(PAYLOAD)} bytes, got 300000" in message
    assert leftovers(tmp_path) == []


def test_manifest_size_mismatch_is_an_error(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    with pytest.raises(DownloadError, match="wrong size: expected 5 bytes"):
        fetch(make_entry(url, sha256=None, size=5), tmp_path)
    assert leftovers(tmp_path) == []


def test_http_404_is_a_one_line_download_error(file_server, tmp_path):
    url = f"{file_server.base}/absent.pth"
    with pytest.raises(DownloadError) as info:
        fetch(make_entry(url), tmp_path)
    assert str(info.value) == f"download of {url} failed: HTTP 404 Not Found"
    assert leftovers(tmp_path) == []


def test_connection_refused_names_the_url(tmp_path):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.pth"
    with pytest.raises(DownloadError, match=f"cannot download {url}: .*refused"):
        fetch(make_entry(url), tmp_path)
    assert leftovers(tmp_path) == []


def test_a_stalled_server_times_out(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD, delay=1.0)
    with pytest.raises(DownloadError, match=f"download of {url} timed out after 0.2 s"):
        fetch(make_entry(url), tmp_path, timeout=0.2)
    assert leftovers(tmp_path) == []


def test_an_already_present_file_is_not_downloaded_again(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    entry = make_entry(url)
    first = fetch(entry, tmp_path)
    second = fetch(entry, tmp_path)
    assert (first.status, second.status) == ("downloaded", "already present")
    assert second.sha256 == DIGEST
    assert file_server.hits["/model.pth"] == 1
    fetch(entry, tmp_path, force=True)
    assert file_server.hits["/model.pth"] == 2


def test_a_broken_present_file_is_replaced(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    (tmp_path / "model.pth").write_bytes(b"half a model")
    result = fetch(make_entry(url), tmp_path)
    assert result.status == "downloaded"
    assert (tmp_path / "model.pth").read_bytes() == PAYLOAD
    assert file_server.hits["/model.pth"] == 1


def test_a_failed_replacement_keeps_the_old_file_untouched(file_server, tmp_path):
    url = f"{file_server.base}/absent.pth"
    (tmp_path / "model.pth").write_bytes(b"old")
    with pytest.raises(DownloadError):
        fetch(make_entry(url), tmp_path)
    assert leftovers(tmp_path) == ["model.pth"]
    assert (tmp_path / "model.pth").read_bytes() == b"old"


def test_progress_is_called_with_increasing_byte_counts(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    calls: list[tuple[int, int | None]] = []
    fetch(make_entry(url), tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 2
    counts = [done for done, _ in calls]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert counts[-1] == len(PAYLOAD)
    assert {total for _, total in calls} == {len(PAYLOAD)}


def test_file_urls_work(tmp_path):
    src = tmp_path / "mirror" / "model.pth"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    result = fetch(make_entry(src.as_uri()), tmp_path / "models")
    assert result.status == "downloaded"
    assert (tmp_path / "models" / "model.pth").read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="cannot download file://"):
        fetch(make_entry((tmp_path / "mirror" / "absent.pth").as_uri()), tmp_path / "other")


def test_mirror_env_replaces_the_url_base(file_server, tmp_path, monkeypatch):
    file_server.add("model.pth", PAYLOAD)
    entry = make_entry("https://example.invalid/releases/v1.0.0/model.pth")
    monkeypatch.setenv("PHAR_MODELS_MIRROR", file_server.base + "/")
    assert resolve_url(entry) == f"{file_server.base}/model.pth"
    assert fetch(entry, tmp_path).url == f"{file_server.base}/model.pth"
    # A plain folder works too.
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "model.pth").write_bytes(PAYLOAD)
    monkeypatch.setenv("PHAR_MODELS_MIRROR", str(folder))
    assert resolve_url(entry) == (folder / "model.pth").as_uri()
    assert fetch(entry, tmp_path / "b").status == "downloaded"


def test_verify_statuses(tmp_path):
    entry = make_entry()
    assert verify(entry, tmp_path).status == MISSING
    (tmp_path / "model.pth").write_bytes(PAYLOAD)
    ok = verify(entry, tmp_path)
    assert (ok.status, ok.sha256, ok.size, ok.usable) == (OK, DIGEST, len(PAYLOAD), True)
    assert verify(make_entry(sha256=None, prefix=DIGEST[:8]), tmp_path).status == OK
    bad = verify(make_entry(sha256="f" * 64), tmp_path)
    assert (bad.status, bad.usable) == (BAD_CHECKSUM, False)
    assert verify(make_entry(sha256=None, prefix="ffffffff"), tmp_path).status == BAD_CHECKSUM
    unverified = verify(make_entry(sha256=None), tmp_path)
    assert (unverified.status, unverified.usable, unverified.sha256) == (UNVERIFIED, True, DIGEST)
    wrong = verify(make_entry(size=len(PAYLOAD) + 1), tmp_path)
    assert (wrong.status, wrong.usable, wrong.sha256) == (WRONG_SIZE, False, None)


def test_verify_reports_hashing_progress(tmp_path):
    (tmp_path / "model.pth").write_bytes(PAYLOAD)
    calls = []
    verify(make_entry(), tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(calls) == 2


def test_fetch_result_is_path_like(file_server, tmp_path):
    url = file_server.add("model.pth", PAYLOAD)
    result = fetch(make_entry(url), tmp_path)
    assert os.fspath(result) == str(tmp_path / "model.pth")
