"""Download and check model files: stream to a temp file, hash while streaming, then rename.

A download that is cut off, has the wrong size or the wrong checksum leaves nothing behind: the
bytes go to `<dest_dir>/.<file>.<random>.part` and only a verified file is moved to its final
name (`os.replace`, after fsync). Plain urllib, so `file://` URLs (mirrors, tests) work too.
`PHAR_MODELS_MIRROR` (a URL or a local folder) replaces the base of every manifest URL.
"""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from phar_cli.version import __version__
from phar_cli.errors import DownloadError
from phar_cli.models.pins import LOCK_NAME, pin, read_pins, sha256_file
from phar_cli.models.registry import ModelEntry
from phar_cli.atomic import fsync_dir

CHUNK = 1 << 20  # 1 MiB
MIRROR_ENV = "PHAR_MODELS_MIRROR"

Progress = Callable[[int, "int | None"], None]

# VerifyResult.status values
OK = "ok"
MISSING = "missing"
BAD_CHECKSUM = "bad-checksum"
UNVERIFIED = "unverified-no-checksum"
PINNED = "pinned"  # no full published checksum, and the sha256 pinned at fetch still holds
WRONG_SIZE = "wrong-size"


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found for one model file."""

    name: str
    path: Path
    status: str  # ok | pinned | missing | bad-checksum | unverified-no-checksum | wrong-size
    size: int | None = None  # bytes on disk
    sha256: str | None = None  # computed, when the file was hashed
    expected: str | None = None  # full sha256 or published prefix compared with, if any
    message: str = ""

    @property
    def usable(self) -> bool:
        """True for a file that can be loaded: verified, or present with nothing to check."""
        return self.status in (OK, PINNED, UNVERIFIED)


@dataclass(frozen=True)
class FetchResult:
    """What `fetch` did. Behaves as the file's path (`os.fspath`, `Path(result)`)."""

    name: str
    path: Path
    status: str  # "downloaded" | "already present"
    verified: str  # "sha256" | "sha256-prefix" | "unverified"
    size: int
    sha256: str
    url: str
    lock: Path | None = None  # where its sha256 is pinned

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    @property
    def message(self) -> str:
        check = {"sha256": "sha256 ok", "sha256-prefix": "sha256 prefix ok"}.get(
            self.verified, "unverified: no published checksum"
        )
        pinned = f"; sha256 {self.sha256} pinned in {self.lock}" if self.lock else ""
        return f"{self.name}: {self.path} {self.status} ({self.size} bytes, {check}{pinned})"


def resolve_url(entry: ModelEntry) -> str:
    """The URL to fetch: the manifest's, or its file name under `$PHAR_MODELS_MIRROR`."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return entry.url
    if "://" not in mirror:  # a local folder
        mirror = Path(mirror).expanduser().resolve().as_uri()
    basename = urllib.parse.urlsplit(entry.url).path.rsplit("/", 1)[-1] or entry.file
    return mirror.rstrip("/") + "/" + basename


def _digest_matches(entry: ModelEntry, digest: str) -> bool:
    if entry.sha256:
        return digest == entry.sha256
    if entry.sha256_prefix:
        return digest.startswith(entry.sha256_prefix)
    return True


def _verified_kind(entry: ModelEntry) -> str:
    if entry.sha256:
        return "sha256"
    if entry.sha256_prefix:
        return "sha256-prefix"
    return "unverified"


def verify(entry: ModelEntry, dest_dir: str | Path, *, progress: Progress | None = None) -> VerifyResult:
    """Check `dest_dir/entry.file`: present, of the stated size, with the published checksum and
    the one pinned when it was fetched (`sha256.lock`)."""
    path = Path(dest_dir) / entry.file
    if not path.is_file():
        return VerifyResult(entry.name, path, MISSING, message=f"{entry.file} is not in {path.parent}")
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        return VerifyResult(
            entry.name, path, WRONG_SIZE, size=size,
            message=f"{entry.file} is {size} bytes, expected {entry.size}",
        )
    digest = sha256_file(path, progress)
    expected = entry.expected_digest
    pinned = read_pins(path.parent).get(entry.file)
    if pinned is not None and digest != pinned:
        return VerifyResult(
            entry.name, path, BAD_CHECKSUM, size=size, sha256=digest, expected=pinned,
            message=f"{entry.file}: changed since it was fetched: sha256 {digest}, pinned "
                    f"{pinned} in {LOCK_NAME}",
        )
    if expected is not None and not _digest_matches(entry, digest):
        return VerifyResult(
            entry.name, path, BAD_CHECKSUM, size=size, sha256=digest, expected=expected,
            message=f"{entry.file}: sha256 {digest} does not match the published {expected}",
        )
    if entry.sha256 is None and pinned is not None:
        return VerifyResult(entry.name, path, PINNED, size=size, sha256=digest, expected=pinned,
                            message=f"{entry.file}: sha256 matches the one pinned at fetch "
                                    f"({LOCK_NAME})")
    if expected is None:
        return VerifyResult(
            entry.name, path, UNVERIFIED, size=size, sha256=digest,
            message=f"{entry.file}: no published checksum and none pinned (sha256 {digest}; "
                    f"{entry.fetch_command} pins it)",
        )
    return VerifyResult(entry.name, path, OK, size=size, sha256=digest, expected=expected,
                        message=f"{entry.file}: sha256 ok")


def _open(url: str, timeout: float):
    import http.client  # here, not at the top: keeps `import phar_cli...` fast for the CLI
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": f"phar/{__version__}"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http/https/file only)
    except urllib.error.HTTPError as ex:
        ex.close()  # it holds the response's socket
        raise DownloadError(f"download of {url} failed: HTTP {ex.code} {ex.reason}") from ex
    except urllib.error.URLError as ex:
        reason = ex.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise DownloadError(f"download of {url} timed out after {timeout:g} s") from ex
        text = getattr(reason, "strerror", None) or str(reason)
        raise DownloadError(f"cannot download {url}: {text}") from ex
    except (TimeoutError, socket.timeout) as ex:
        raise DownloadError(f"download of {url} timed out after {timeout:g} s") from ex
    except (OSError, http.client.HTTPException, ValueError) as ex:
        raise DownloadError(f"cannot download {url}: {ex}") from ex


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def fetch(
    entry: ModelEntry,
    dest_dir: str | Path,
    *,
    progress: Progress | None = None,
    timeout: float = 30,
    force: bool = False,
) -> FetchResult:
    """Download `entry` into `dest_dir` unless a sound copy is already there.

    `progress(done, total)` is called after each chunk; total is the Content-Length (or the
    manifest size), None when unknown. Returns a FetchResult, usable as the file's path.
    Raises DownloadError; on failure nothing is left at the final path that was not there before.
    """
    import http.client

    dest_dir = Path(dest_dir)
    final = dest_dir / entry.file
    url = resolve_url(entry)

    if not force and final.is_file():
        found = verify(entry, dest_dir)
        if found.usable:  # trusted on first use: pinned now if it was not
            return FetchResult(entry.name, final, "already present", _verified_kind(entry),
                               found.size or 0, found.sha256 or "", url,
                               _pin(entry, dest_dir, found.sha256 or ""))
        # A wrong-size or bad-checksum file is replaced by a fresh download below.

    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise DownloadError(f"cannot create {dest_dir}: {ex.strerror or ex}") from ex

    response = _open(url, timeout)
    tmp_path: Path | None = None
    try:
        with response:
            expected_len = _content_length(response)
            total = expected_len if expected_len is not None else entry.size
            fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{entry.file}.", suffix=".part")
            tmp_path = Path(tmp_name)
            h = hashlib.sha256()
            done = 0
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (TimeoutError, socket.timeout) as ex:
                        raise DownloadError(
                            f"download of {url} timed out after {timeout:g} s ({done} bytes received)"
                        ) from ex
                    except (http.client.IncompleteRead, ConnectionError) as ex:
                        raise DownloadError(_cut_off(url, expected_len, done)) from ex
                    except (OSError, http.client.HTTPException) as ex:
                        raise DownloadError(f"download of {url} failed: {ex}") from ex
                    if not chunk:
                        break
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                out.flush()
                os.fsync(out.fileno())

        if expected_len is not None and done != expected_len:
            raise DownloadError(_cut_off(url, expected_len, done))
        if entry.size is not None and done != entry.size:
            raise DownloadError(
                f"download of {url} has the wrong size: expected {entry.size} bytes, got {done}"
            )
        digest = h.hexdigest()
        if not _digest_matches(entry, digest):
            raise DownloadError(
                f"checksum mismatch for {entry.file} from {url}: "
                f"expected sha256 {entry.expected_digest}, got {digest}"
            )
        os.replace(tmp_path, final)
        tmp_path = None
        fsync_dir(dest_dir)
    except OSError as ex:  # disk full, permissions: not a DownloadError yet
        raise DownloadError(f"cannot write {final}: {ex.strerror or ex}") from ex
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)

    return FetchResult(entry.name, final, "downloaded", _verified_kind(entry), done, digest, url,
                       _pin(entry, dest_dir, digest))


def _pin(entry: ModelEntry, dest_dir: Path, digest: str) -> Path | None:
    """Pin a fetched file's sha256 where the manifest publishes no full one (none, or only a
    prefix that was checked): later loads and `verify` compare with it."""
    if entry.sha256 is not None or not digest:
        return None
    try:
        return pin(dest_dir, entry.file, digest)
    except OSError as ex:
        raise DownloadError(f"cannot write {dest_dir / LOCK_NAME}: {ex.strerror or ex}") from ex


def _cut_off(url: str, expected: int | None, got: int) -> str:
    if expected is None:
        return f"download of {url} was cut off after {got} bytes"
    return f"download of {url} was cut off: expected {expected} bytes, got {got}"
