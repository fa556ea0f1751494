"""The local runtime serves the built web app at / with security headers, and nothing else from disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from local.webapp import WebApp


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>CaseRoom</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "sw.js").write_text("self")
    (tmp_path.parent / "secret.txt").write_text("nope")
    return tmp_path


async def _client(dist: Path) -> AsyncIterator[TestClient]:
    app = web.Application()
    WebApp("http://127.0.0.1:5000", dist=dist).register(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def test_index_assets_and_service_worker_are_served_with_a_strict_csp(dist: Path) -> None:
    async def run() -> None:
        async for client in _client(dist):
            # When the browser asks for the app, a hashed asset and the service worker
            index = await client.get("/")
            asset = await client.get("/assets/index-abc.js")
            worker = await client.get("/sw.js")
            # Then each is served, with the CSP and the right caching
            assert index.status == 200 and "CaseRoom" in await index.text()
            csp = index.headers["Content-Security-Policy"]
            assert (
                "script-src 'self'" in csp
                and "connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:5000" in csp
            )
            # (frames only for PDF previews, which the app fetches and frames as blob: URLs)
            assert "frame-src blob:" in csp and "object-src 'none'" in csp
            assert index.headers["Cache-Control"] == "no-cache"
            assert asset.status == 200 and "immutable" in asset.headers["Cache-Control"]
            assert asset.headers["Content-Type"].startswith("text/javascript")
            assert worker.status == 200
            # and the runtime configuration says: same origin, dev sign-in
            config = await client.get("/config.json")
            assert await config.json() == {"apiUrl": "", "websocketUrl": None, "cognito": None}

    asyncio.run(run())


def test_nothing_outside_dist_is_reachable(dist: Path) -> None:
    async def run() -> None:
        async for client in _client(dist):
            for path in (
                "/assets/..%2Fsecret.txt",
                "/assets/%2E%2E%2F..%2Fsecret.txt",
                "/assets/.hidden",
                "/assets/missing.js",
            ):
                response = await client.get(path)
                # Then: 404 with the error contract, never the file
                assert response.status == 404, path
                assert "nope" not in await response.text()

    asyncio.run(run())


def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    async def run() -> None:
        async for client in _client(tmp_path):
            response = await client.get("/")
            assert response.status == 503
            assert "make setup" in await response.text()

    asyncio.run(run())
