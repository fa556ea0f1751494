"""The web app (web/dist, built by `make setup`) served at `/`, same origin as the API.

Only the app's own files are routed here: `/`, `/index.html`, `/assets/*`, the service worker,
the manifest and the icons. The app's screens are hash routes (`/#/cases/...`), so they never
reach the server and no app path can shadow an API path. Every app response carries the same
security headers the CloudFront distribution sends (a strict Content-Security-Policy); locally
`connect-src` also allows the S3 emulator on 127.0.0.1, where presigned uploads go.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from local.paths import REPO_ROOT

WEB_DIST = REPO_ROOT / "web" / "dist"
# Files at the root of web/dist (from web/public) that the app needs by name.
ROOT_FILES = ("sw.js", "manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png")
_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html",
}


def security_headers(storage_origin: str) -> dict[str, str]:
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            f"connect-src 'self' ws://127.0.0.1:* {storage_origin}",
            # PDF previews: the app fetches the file and frames it as a blob: URL.
            "frame-src blob:",
            "worker-src 'self'",
            "manifest-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


class WebApp:
    def __init__(self, storage_origin: str, dist: Path = WEB_DIST) -> None:
        self._dist = dist
        self._headers = security_headers(storage_origin)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/index.html", self.index)
        app.router.add_get("/assets/{name}", self.asset)
        for name in ROOT_FILES:
            app.router.add_get(f"/{name}", self.root_file)
        app.router.add_get("/config.json", self.config)

    def _file(self, path: Path, cache: str) -> web.StreamResponse:
        if not path.is_file():
            return web.json_response(
                {"code": "NOT_FOUND", "message": "No such file in the web app."}, status=404
            )
        headers = {**self._headers, "Cache-Control": cache}
        content_type = _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return web.Response(body=path.read_bytes(), content_type=content_type, headers=headers)

    async def index(self, _request: web.Request) -> web.StreamResponse:
        index = self._dist / "index.html"
        if not index.is_file():
            return web.Response(
                status=503,
                text="The web app is not built: run `make setup` (npm ci and vite build in web/).",
                content_type="text/plain",
            )
        return self._file(index, "no-cache")

    async def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if "/" in name or "\\" in name or name.startswith("."):
            return web.json_response(
                {"code": "NOT_FOUND", "message": "No such file in the web app."}, status=404
            )
        # Hashed names: immutable.
        return self._file(self._dist / "assets" / name, "public, max-age=31536000, immutable")

    async def config(self, _request: web.Request) -> web.StreamResponse:
        # Same origin for the API and the WebSocket, no Cognito: the app uses the dev sign-in.
        body = {"apiUrl": "", "websocketUrl": None, "cognito": None}
        return web.json_response(body, headers={**self._headers, "Cache-Control": "no-cache"})

    async def root_file(self, request: web.Request) -> web.StreamResponse:
        return self._file(self._dist / request.path.lstrip("/"), "no-cache")
