"""GraphQL over HTTP to a Stash server: the `ApiKey` header or the session cookie Stash hands
to a plugin, a timeout, retries with backoff, and one typed error per way it can fail, each one
line that never contains the key or the cookie.

Stash checks an API key first and the `session` cookie only when no key is sent, so a wrong key
is refused even beside a valid cookie: the key header is sent only when a key is given. Stash
answers a request made with the cookie with the cookie renewed (its age restarts; a plugin's
cookie lasts `max_session_age`, 1 h by default, from its last use), and the renewed one is sent
from then on, so a plugin task that runs for hours keeps its session.

Retries are safe by construction: a query is retried after any transient failure (connection
refused or reset, timeout, HTTP 5xx); a mutation only when it certainly did not run (the
connection was never made, or a proxy answered 502/503/504), because a mutation retried after a
lost answer could run twice. Redirects are not followed: Stash answers /graphql itself, and a
redirect would carry the key to wherever it points.
"""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from phar_cli.errors import InvalidOption, PharError, UsageError

log = logging.getLogger(__name__)

KEY_ENV = "PHAR_STASH_API_KEY"  # where the API key is read from unless a key file is given
DEFAULT_TIMEOUT = 30.0   # seconds per request (connect and read)
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5    # seconds before the first retry; doubled after each
_PROXY_ERRORS = (502, 503, 504)
SESSION_COOKIE = "session"   # the cookie's name in Stash (pkg/session/session.go cookieName)
# RFC 6265 cookie-octets: anything else could not be sent as given (or would split the header)
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+")


class StashError(PharError):
    """A Stash server that could not be asked, or answered with an error."""


class StashUnreachable(StashError):
    """No connection to the server (refused, reset, name not found)."""


class StashTimeout(StashError):
    """The server took longer than the timeout to answer."""


class StashAuthError(StashError):
    """The server refused the API key or the session cookie (HTTP 401/403)."""


class StashServerError(StashError):
    """An HTTP error that is not about the key: 5xx after the retries, or not a Stash endpoint."""


class StashGraphQLError(StashError):
    """The server rejected or failed a query: its GraphQL `errors`."""


def endpoint(url: str) -> str:
    """Stash's GraphQL endpoint from `http://HOST:9999` (or the endpoint itself)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url {url!r}: give the Stash server as http://HOST:PORT")
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _shown(url: str) -> str:
    """The URL as said in messages: no user:password, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def api_key(path: Path | None = None) -> str | None:
    """The API key: the first line of `path` when one is given, else `$PHAR_STASH_API_KEY`."""
    if path is None:
        return os.environ.get(KEY_ENV, "").strip() or None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as ex:
        why = ex.strerror if isinstance(ex, OSError) and ex.strerror else type(ex).__name__
        raise PharError(f"{path}: cannot read the API key file ({why})") from None
    if not text:
        raise PharError(f"{path}: the API key file is empty")
    return text.splitlines()[0].strip()


class StashClient:
    """One Stash server. `query` and `mutate` return the answer's `data`."""

    def __init__(self, url: str, api_key: str | None = None, *,
                 session_cookie: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if timeout <= 0:
            raise InvalidOption("timeout", "must be > 0")
        if retries < 0:
            raise InvalidOption("retries", "must be >= 0")
        if session_cookie and not _COOKIE_VALUE.fullmatch(session_cookie):
            # said without the value: it is a credential
            raise InvalidOption("session_cookie", "is not a cookie value (RFC 6265)")
        self.url = endpoint(url)
        self.shown = _shown(self.url)
        self.where = f"Stash at {self.shown}"
        self._key = api_key or None
        self._cookie = session_cookie or None
        self._secrets = [s for s in (self._key, self._cookie) if s]   # blanked in messages
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"Content-Type": "application/json",
                                      "Accept": "application/json"})
        if self._key:
            self._session.headers["ApiKey"] = self._key
        if self._cookie:
            # a header, not the cookie jar: sent to this server only as given, never merged
            self._session.headers["Cookie"] = f"{SESSION_COOKIE}={self._cookie}"

    def __repr__(self) -> str:
        return f"StashClient({self.shown!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> StashClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._execute(document, variables, mutation=False)

    def mutate(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._execute(document, variables, mutation=True)

    # -- one request, retried ---------------------------------------------------------------

    def _execute(self, document: str, variables: dict[str, Any] | None,
                 mutation: bool) -> dict[str, Any]:
        body = {"query": document, "variables": variables or {}}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._session.post(self.url, json=body, timeout=self.timeout,
                                              allow_redirects=False)
            except requests.exceptions.RequestException as ex:
                error, retry = self._transport_error(ex, mutation)
                if last or not retry:
                    raise error from None
                log.debug("%s; retrying in %.1f s", error, delay)
            else:
                self._renewed(response)
                status = response.status_code
                retry = status >= 500 and (not mutation or status in _PROXY_ERRORS)
                if not (retry and not last):
                    return self._answer(response)
                log.debug("%s answered HTTP %d; retrying in %.1f s", self.where, status, delay)
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _transport_error(self, ex: Exception, mutation: bool) -> tuple[StashError, bool]:
        """The error to raise for a failed request, and whether trying again is safe."""
        never_sent = isinstance(ex, requests.exceptions.ConnectTimeout) or isinstance(
            getattr(ex.args[0] if ex.args else None, "reason", None),
            (NewConnectionError, ConnectTimeoutError))
        if isinstance(ex, requests.exceptions.Timeout):
            what = "did not connect" if never_sent else "did not answer"
            error: StashError = StashTimeout(
                f"{self.where} {what} within {self.timeout:g} s (--timeout)")
        elif isinstance(ex, requests.exceptions.ConnectionError) and never_sent:
            error = StashUnreachable(f"{self.where} cannot be reached ({_reason(ex)}); "
                                     "is Stash running there?")
        elif isinstance(ex, requests.exceptions.ConnectionError):
            error = StashUnreachable(f"{self.where} dropped the connection ({_reason(ex)})")
        else:
            error = StashUnreachable(f"{self.where}: request failed ({type(ex).__name__})")
        return error, never_sent or not mutation

    def _renewed(self, response: requests.Response) -> None:
        """Stash renews the session cookie on each use: send the new one from now on."""
        if not self._cookie:
            return
        values = [c.value for c in response.cookies if c.name == SESSION_COOKIE and c.value]
        if values and values[-1] != self._cookie and _COOKIE_VALUE.fullmatch(values[-1]):
            self._cookie = values[-1]
            self._secrets.append(self._cookie)
            self._session.headers["Cookie"] = f"{SESSION_COOKIE}={self._cookie}"

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403) and self._cookie and not self._key:
            raise StashAuthError(f"{self.where} answered HTTP {status}: it refused the session "
                                 "cookie (expired? it lasts max_session_age after its last use)")
        if status in (401, 403):
            how = "no API key was given" if not self._key else "it refused the API key"
            raise StashAuthError(f"{self.where} answered HTTP {status}: {how} (set "
                                 "PHAR_STASH_API_KEY or --api-key-file to the key in Stash's "
                                 "Settings > Security)")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            raise StashGraphQLError(self._clean(f"{self.where} rejected the request: "
                                                f"{_messages(errors)}"))
        if status != 200:
            hint = " (is this Stash's address?)" if 300 <= status < 500 else ""
            raise StashServerError(f"{self.where} answered HTTP {status}{hint}")
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            raise StashServerError(f"{self.where} did not answer with GraphQL data "
                                   "(is this Stash's address?)")
        return payload["data"]

    def _clean(self, text: str) -> str:
        """A server message, one line, with the key and cookies blanked should it echo them."""
        text = " ".join(text.split())
        for secret in sorted(self._secrets, key=len, reverse=True):   # longest first: one may
            text = text.replace(secret, "***")                       # hold another
        return text


def _messages(errors: Any) -> str:
    items = errors if isinstance(errors, list) else [errors]
    first = items[0].get("message") if isinstance(items[0], dict) else str(items[0])
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return f"{first}{more}"


def _reason(ex: Exception) -> str:
    """The socket's own words ('Connection refused'), not requests' nest of wrappers and URLs."""
    text = str(ex)
    found = re.search(r"\[Errno -?\d+\] ([^'\"()\]]+)", text) or re.search(r"\('([^']+)'\)", text)
    return found.group(1).strip().rstrip(".") if found else type(ex).__name__
