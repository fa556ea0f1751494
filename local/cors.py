"""The HTTP API's CORS configuration, answered locally as API Gateway does (AWS API Gateway guide,
"Configure CORS for HTTP APIs"): the gateway itself answers preflight OPTIONS requests, even with
no OPTIONS route, adds the configured headers to every integration response of an allowed origin,
and ignores CORS headers the integration returns. The lists are the stack's (infra/manifest.py);
the origins are the local stage's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra import manifest


@dataclass(frozen=True)
class CorsPolicy:
    allow_origins: tuple[str, ...] = manifest.LOCAL_STAGE.cors_allowed_origins
    allow_methods: tuple[str, ...] = manifest.cors_allowed_methods()
    allow_headers: tuple[str, ...] = manifest.CORS_ALLOWED_HEADERS
    expose_headers: tuple[str, ...] = manifest.CORS_EXPOSED_HEADERS
    max_age_s: int = manifest.CORS_MAX_AGE_S

    def allows(self, origin: str | None) -> bool:
        return origin is not None and ("*" in self.allow_origins or origin in self.allow_origins)

    def preflight(
        self, method: str, origin: str | None, request_method: str | None
    ) -> list[tuple[str, str]] | None:
        """The headers of the gateway's own preflight answer (204), or None when the request is
        not a preflight (it then goes to the routes like any other)."""
        if method.upper() != "OPTIONS" or origin is None or request_method is None:
            return None
        if not self.allows(origin):
            return []  # answered, but without CORS headers: the browser blocks the request
        return [
            ("access-control-allow-origin", _origin_value(self.allow_origins, origin)),
            ("access-control-allow-methods", ",".join(self.allow_methods)),
            ("access-control-allow-headers", ",".join(h.lower() for h in self.allow_headers)),
            ("access-control-max-age", str(self.max_age_s)),
        ]

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """What the gateway adds to an integration response for an allowed origin."""
        if not self.allows(origin):
            return []
        assert origin is not None
        headers = [("access-control-allow-origin", _origin_value(self.allow_origins, origin))]
        if self.expose_headers:
            headers.append(
                ("access-control-expose-headers", ",".join(h.lower() for h in self.expose_headers))
            )
        return headers


def is_cors_header(name: str) -> bool:
    return name.lower().startswith("access-control-")


def _origin_value(allowed: Sequence[str], origin: str) -> str:
    return "*" if "*" in allowed else origin
