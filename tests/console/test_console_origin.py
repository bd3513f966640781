"""Which requests come from this server's own pages (the only ones the console cookie is good for)."""

from __future__ import annotations

import pytest
from support.console import request

from xentara_ws.console.headers import is_same_origin, own_origin


@pytest.mark.parametrize(
    ("host", "secure", "origin", "same"),
    [
        ("127.0.0.1:8080", False, "http://127.0.0.1:8080", True),
        ("127.0.0.1:8080", True, "https://127.0.0.1:8080", True),
        ("127.0.0.1:8080", True, "http://127.0.0.1:8080", False),
        ("127.0.0.1:8080", False, "http://127.0.0.1:8081", False),
        ("127.0.0.1:8080", False, "http://localhost:8080", False),
        ("Plant.Example:8080", False, "http://plant.example:8080", True),
        ("plant.example", True, "https://plant.example", True),
        ("plant.example:443", True, "https://plant.example", True),
        ("plant.example", False, "http://plant.example:80", True),
        ("plant.example", False, "http://plant.example.evil.example", False),
        ("[::1]:8080", False, "http://[::1]:8080", True),
        ("127.0.0.1:8080", False, "null", False),
        ("127.0.0.1:8080", False, None, False),
        (None, False, "http://127.0.0.1:8080", False),
        ("evil/..", False, "http://evil/..", False),
    ],
)
def test_same_origin_means_scheme_host_and_port(host: str | None, secure: bool, origin: str | None, same: bool) -> None:
    assert is_same_origin(request("GET", "/api/ws", host=host, origin=origin, secure=secure)) is same


def test_the_own_origin_follows_tls() -> None:
    assert own_origin(request("GET", "/", host="h:1")) == "http://h:1"
    assert own_origin(request("GET", "/", host="h:1", secure=True)) == "https://h:1"
