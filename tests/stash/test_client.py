"""The Stash client: the ApiKey header, retries only where they are safe, one line per failure
that never holds the key."""
from __future__ import annotations

import socket
import time

import pytest

from phar_cli.stash.client import (StashAuthError, StashClient, StashGraphQLError,
                                   StashServerError, StashTimeout, StashUnreachable, endpoint)
from tests.stash.conftest import KEY

QUERY = "query { findTags { count } }"
MUTATION = ('mutation { tagCreate(input: {name: "x"}) { id } }')


def client(url, key=KEY, **kw):
    return StashClient(url, key, backoff=0.01, **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_is_the_graphql_path():
    assert endpoint("http://nas:9999") == "http://nas:9999/graphql"
    assert endpoint("http://nas:9999/graphql/") == "http://nas:9999/graphql"
    assert endpoint("https://x/stash") == "https://x/stash/graphql"


def test_the_key_goes_in_the_apikey_header_and_nowhere_else(stash):
    assert client(stash.url).query(QUERY) == {"findTags": {"count": 0}}
    with pytest.raises(StashAuthError) as info:
        client(stash.url, "not-the-key").query(QUERY)
    assert "refused the API key" in str(info.value) and "not-the-key" not in str(info.value)
    with pytest.raises(StashAuthError, match="no API key was given"):
        client(stash.url, None).query(QUERY)
    assert KEY not in repr(client(stash.url))


def test_queries_are_retried_after_5xx_and_mutations_only_after_proxy_errors(stash):
    stash.flaky(2, 500)
    assert client(stash.url, retries=2).query(QUERY) == {"findTags": {"count": 0}}
    stash.flaky(1, 500)   # a 500 may come after the mutation ran: not tried again
    with pytest.raises(StashServerError, match="answered HTTP 500"):
        client(stash.url, retries=2).mutate(MUTATION)
    assert stash.tag_named("x") is None
    stash.flaky(2, 503)   # a proxy saying Stash is not there: the mutation never ran
    client(stash.url, retries=2).mutate(MUTATION)
    assert stash.tag_named("x") is not None
    stash.flaky(3, 503)
    with pytest.raises(StashServerError, match="answered HTTP 503"):
        client(stash.url, retries=2).query(QUERY)


def test_graphql_errors_are_one_line_with_the_servers_message(stash):
    with pytest.raises(StashGraphQLError, match="Cannot query field 'nope'"):
        client(stash.url).query("query { findTags { nope } }")
    stash.break_field("findTags", "database is locked")
    with pytest.raises(StashGraphQLError, match="rejected the request: database is locked"):
        client(stash.url).query(QUERY)


def test_unreachable_is_quick_and_says_where():
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(StashUnreachable) as info:
        client(f"http://127.0.0.1:{port}", retries=2, timeout=1).query(QUERY)
    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{port}/graphql cannot be reached (Connection refused)" in str(info.value)


def test_a_slow_server_times_out(stash):
    stash.delay = 1.0
    started = time.monotonic()
    with pytest.raises(StashTimeout, match=r"did not answer within 0.2 s \(--timeout\)"):
        client(stash.url, retries=0, timeout=0.2).query(QUERY)
    assert time.monotonic() - started < 1.0


def test_not_a_stash_address(stash):
    with pytest.raises(StashServerError, match="answered HTTP 404 \\(is this Stash's address\\?\\)"):
        client(stash.url + "/elsewhere/x").query(QUERY)
