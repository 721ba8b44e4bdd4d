"""Issue 18: which proxies may set X-Forwarded-For is a setting (loopback by default), so a client cannot
pick its own address for the per-client limits by sending the header itself."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn

from api.cli import main, proxy_options
from hotline.core.config import Settings


def seen_client(options: dict, peer: str, forwarded: str) -> str:
    """The client address the app is given for a request from `peer` carrying X-Forwarded-For."""
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    config = uvicorn.Config(app, **options)
    config.load()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "client": (peer, 5000),
             "server": ("127.0.0.1", 8000), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    asyncio.run(config.loaded_app(scope, None, None))
    return seen["client"]


def test_only_listed_proxies_are_believed():
    default = proxy_options(Settings(), None)
    assert default == {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}
    assert seen_client(default, "127.0.0.1", "203.0.113.7") == "203.0.113.7"  # the local proxy says who
    assert seen_client(default, "198.51.100.9", "203.0.113.7") == "198.51.100.9"  # a client claiming an address
    none = proxy_options(Settings(forwarded_allow_ips=""), None)
    assert none["proxy_headers"] is False
    assert seen_client(none, "127.0.0.1", "203.0.113.7") == "127.0.0.1"
    ours = proxy_options(Settings(), "10.0.0.5")  # the flag wins over the setting
    assert seen_client(ours, "10.0.0.5", "203.0.113.7") == "203.0.113.7"
    assert seen_client(ours, "127.0.0.1", "203.0.113.7") == "127.0.0.1"


def test_the_serve_command_takes_the_flag(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--forwarded-allow-ips" in capsys.readouterr().out
