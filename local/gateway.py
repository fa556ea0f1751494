"""One aiohttp server playing API Gateway: the HTTP API (JWT authorizer included), the WebSocket
API with its @connections management API, and the local developer tools."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from caseroom.auth import JwtVerifier
from caseroom.clock import Clock
from caseroom.errors import Unauthenticated
from local import apigw_websocket as wsapi
from local.apigw_http import (
    MAX_REQUEST_BODY_BYTES,
    HttpRequest,
    HttpResponse,
    RouteTable,
    build_http_event,
    error_response,
    new_request_id,
    translate_lambda_response,
)
from local.cors import CorsPolicy, is_cors_header
from local.devtools import DevTools
from local.functions import FunctionRegistry
from local.sandboxes import FunctionFailed, FunctionTimedOut, Invocation, NoSandboxInTime, Throttled
from local.tokens import DevIdentityProvider
from local.webapp import WebApp

LOG = logging.getLogger(__name__)
# One line per request and per delivered event: what `make start` shows without --verbose.
CONSOLE = logging.getLogger("local.console")

HTTP_INTEGRATION_TIMEOUT_S = 30  # HTTP API's hard limit
WEBSOCKET_INTEGRATION_TIMEOUT_S = 29  # WebSocket API's


class GatewayTimeout(Exception):
    """API Gateway's own integration timeout passed (the function may still be running)."""


LOOPBACK_ADDRESSES = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
_HOP_BY_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}


@dataclass
class LiveConnection:
    info: wsapi.ConnectionInfo
    socket: web.WebSocketResponse
    last_active_at: datetime
    # Set once the upgrade is answered; the management API waits for it before sending.
    upgraded: asyncio.Event = field(default_factory=asyncio.Event)


class Gateway:
    def __init__(
        self,
        functions: FunctionRegistry,
        identity: DevIdentityProvider,
        clock: Clock,
        enforce_timeouts: bool = True,
        cors: CorsPolicy | None = None,
        devtools: DevTools | None = None,
        on_change: Callable[[], None] | None = None,
        storage_origin: str = "",
    ) -> None:
        """on_change: called after a request that may have written (anything but GET/HEAD/OPTIONS)
        and after each WebSocket message; the runtime wakes its stream relay with it."""
        self._on_change = on_change
        self._functions = functions
        self._cors = cors or CorsPolicy()
        self._identity = identity
        self._clock = clock
        self._enforce_timeouts = enforce_timeouts
        self._routes = RouteTable()
        self._websocket_routes = wsapi.WebSocketRoutes()
        self._verifier = JwtVerifier(issuer=identity.issuer, audience=identity.audience, jwks=identity.jwks())
        self._connections: dict[str, LiveConnection] = {}
        self._devtools = devtools or DevTools(identity)
        self._webapp = WebApp(storage_origin)

    @property
    def connection_ids(self) -> list[str]:
        return list(self._connections)

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BODY_BYTES)
        # Registration order is match order: local tools and the WebSocket paths come before the
        # catch-all that emulates the HTTP API.
        self._devtools.register(app)
        self._webapp.register(app)
        app.router.add_get("/ws", self.handle_websocket)
        for prefix in ("", "/{stage}"):
            path = prefix + "/@connections/{connectionId}"
            app.router.add_post(path, self.handle_post_to_connection)
            app.router.add_get(path, self.handle_get_connection)
            app.router.add_delete(path, self.handle_delete_connection)
        # [\s\S], not ".": a path whose segments decode to a line break is still the API's
        # (API Gateway passes it on), not aiohttp's own text/plain 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle_http)
        app.on_shutdown.append(self._close_all_connections)
        return app

    # -- invoking functions --------------------------------------------------------------------

    async def _invoke(self, function_name: str, event: dict[str, Any], limit_s: float) -> Invocation:
        """A synchronous invocation. Raises GatewayTimeout when the gateway's own limit passes,
        FunctionTimedOut when the function's does, Throttled, or the handler's error."""
        if self._functions.sandboxes is None:  # inline: the function's timeout is enforced here
            call = asyncio.to_thread(self._functions.invoke_detailed, function_name, event)
            if not self._enforce_timeouts:
                return await call
            timeout_s = self._functions.function(function_name).timeout_s
            try:
                return await asyncio.wait_for(call, min(timeout_s, limit_s))
            except TimeoutError:
                if timeout_s <= limit_s:
                    raise FunctionTimedOut(f"Task timed out after {timeout_s:.2f} seconds") from None
                raise GatewayTimeout(function_name) from None
        call = asyncio.to_thread(self._functions.invoke_detailed, function_name, event, wait_limit_s=limit_s)
        if not self._enforce_timeouts:
            return await call
        try:
            return await asyncio.wait_for(call, limit_s)
        except (TimeoutError, NoSandboxInTime):
            raise GatewayTimeout(function_name) from None

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # -- HTTP API ------------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = new_request_id()
        origin = request.headers.get("Origin")
        preflight = self._cors.preflight(
            request.method, origin, request.headers.get("Access-Control-Request-Method")
        )
        served: tuple[HttpResponse, Invocation | None, str | None]
        if preflight is not None:  # API Gateway answers CORS preflight itself; no route, no function
            served = HttpResponse(204, preflight, b""), None, None
        else:
            served = await self._serve_http(request, request_id)
        response, invocation, function_name = served
        if function_name is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            self._changed()
        CONSOLE.info(
            "%s %s %d %s %.0f ms%s",
            request.method,
            request.path,
            response.status,
            function_name or "-",
            (time.perf_counter() - started) * 1000,
            "" if invocation is None else " cold" if invocation.cold else " warm",
        )
        out = web.Response(status=response.status, body=response.body)
        for name, value in response.headers:
            if name.lower() in _HOP_BY_HOP_HEADERS:  # the server frames the body itself
                continue
            if preflight is None and is_cors_header(name):  # the gateway's CORS settings win
                continue
            out.headers.add(name, value)
        if preflight is None:
            for name, value in self._cors.response_headers(origin):
                out.headers[name] = value
        return out

    async def _serve_http(
        self, request: web.Request, request_id: str
    ) -> tuple[HttpResponse, Invocation | None, str | None]:
        raw_path, _, raw_query = request.raw_path.partition("?")
        match = self._routes.match(request.method, raw_path)
        if match is None:
            return error_response(404, "Not Found", request_id), None, None
        if request.content_length is not None and request.content_length > MAX_REQUEST_BODY_BYTES:
            return error_response(413, "Request Entity Too Large", request_id), None, None
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_response(413, "Request Entity Too Large", request_id), None, None

        http_request = HttpRequest(
            method=request.method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=[(k.decode("latin-1"), v.decode("utf-8", "replace")) for k, v in request.raw_headers],
            body=body,
            source_ip=request.remote or "127.0.0.1",
            protocol=f"HTTP/{request.version.major}.{request.version.minor}",
        )
        claims = None
        if not match.route.public:
            claims = self._authorize(http_request.header("authorization"))
            if claims is None:
                return error_response(401, "Unauthorized", request_id), None, None

        function_name = match.route.function
        event = build_http_event(
            http_request, match, request_id=request_id, now=self._clock.now(), claims=claims
        )
        invocation: Invocation | None = None
        try:
            invocation = await self._invoke(function_name, event, limit_s=HTTP_INTEGRATION_TIMEOUT_S)
            return translate_lambda_response(invocation.result, request_id), invocation, function_name
        except GatewayTimeout:
            # HTTP API's 30 s integration timeout: 503, and the function may still be running.
            LOG.error("%s: no answer within the gateway's %d s", function_name, HTTP_INTEGRATION_TIMEOUT_S)
            return error_response(503, "Service Unavailable", request_id), None, function_name
        except FunctionTimedOut:
            timeout_s = self._functions.function(function_name).timeout_s
            LOG.error("%s timed out (function timeout %d s)", function_name, timeout_s)
            return error_response(500, "Internal Server Error", request_id), None, function_name
        except Throttled:
            # Lambda answers 429 TooManyRequestsException; API Gateway turns a rejected invocation
            # into a 500 (AWS Lambda guide, "Handling Lambda errors with an API Gateway API").
            LOG.warning("%s throttled: reserved concurrency in use", function_name)
            return error_response(500, "Internal Server Error", request_id), None, function_name
        except FunctionFailed as failure:
            if failure.error_type == "Runtime.Stopped":  # the runtime is stopping: nothing to report
                LOG.info("%s on %s: %s", function_name, match.route.route_key, failure)
            elif failure.error_type.startswith("Runtime."):  # the sandbox, not the handler
                LOG.error("%s on %s: %s", function_name, match.route.route_key, failure)
            else:
                LOG.error("%s failed on %s:\n%s", function_name, match.route.route_key, failure.trace)
            return error_response(500, "Internal Server Error", request_id), invocation, function_name
        except Exception:
            LOG.exception("%s failed on %s", function_name, match.route.route_key)
            return error_response(500, "Internal Server Error", request_id), invocation, function_name

    def _authorize(self, authorization: str | None) -> dict[str, Any] | None:
        """API Gateway's JWT authorizer: identity source $request.header.Authorization."""
        if not authorization:
            return None
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            return self._verifier.verify(token, now=self._clock.now().timestamp())
        except Unauthenticated:
            return None

    # -- WebSocket API -------------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"message": "Expected a WebSocket upgrade"}, status=426)
        now = self._clock.now()
        info = wsapi.ConnectionInfo(
            connection_id=wsapi.new_connection_id(),
            connected_at=now,
            domain_name=request.host,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
        )
        headers = [(k.decode("latin-1"), v.decode("utf-8", "replace")) for k, v in request.raw_headers]
        _, _, raw_query = request.raw_path.partition("?")
        refusal, subprotocol = await self._connect(info, wsapi.connect_event(info, headers, raw_query, now))
        if refusal is not None:
            return refusal

        socket = web.WebSocketResponse(
            max_msg_size=wsapi.MAX_MESSAGE_BYTES, protocols=(subprotocol,) if subprotocol else ()
        )
        # Registered before the 101 goes out: once the client sees it, the connection is postable.
        live = LiveConnection(info, socket, last_active_at=now)
        self._connections[info.connection_id] = live
        try:
            await socket.prepare(request)
            live.upgraded.set()
            LOG.info("websocket %s connected", info.connection_id)
            await self._receive_loop(live)
        finally:
            self._connections.pop(info.connection_id, None)
            await self._disconnect(live)
        return socket

    async def _connect(
        self, info: wsapi.ConnectionInfo, event: dict[str, Any]
    ) -> tuple[web.Response | None, str]:
        """Runs $connect before upgrading: a 4xx/5xx from the handler refuses the connection."""
        function_name = self._websocket_routes.function_for("$connect")
        if function_name is None:
            return None, ""
        try:
            result = (await self._invoke(function_name, event, WEBSOCKET_INTEGRATION_TIMEOUT_S)).result
        except Exception:
            LOG.exception("$connect of %s failed", info.connection_id)
            return web.json_response({"message": "Internal server error"}, status=500), ""
        if not isinstance(result, dict):
            return None, ""
        status = int(result.get("statusCode", 200))
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        if status >= 400:
            LOG.info("websocket $connect refused with %d", status)
            body = result.get("body")
            text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
            return web.Response(status=status, text=text, content_type="application/json"), ""
        subprotocol = next((v for k, v in headers.items() if k.lower() == "sec-websocket-protocol"), "")
        return None, subprotocol

    async def _receive_loop(self, live: LiveConnection) -> None:
        socket = live.socket
        while not socket.closed:
            try:
                message = await socket.receive(timeout=wsapi.IDLE_TIMEOUT_S)
            except TimeoutError:
                await socket.close(code=1001, message=b"Going away")  # API Gateway's 10 min idle timeout
                return
            if message.type == WSMsgType.TEXT:
                text = str(message.data)
                if len(text.encode()) > wsapi.MAX_FRAME_BYTES:
                    # aiohttp hides framing; clients send a message as one frame, so a message over
                    # 32 KB is a frame over 32 KB, which API Gateway answers with 1009.
                    await socket.close(code=wsapi.MESSAGE_TOO_BIG, message=b"Message too big")
                    return
                live.last_active_at = self._clock.now()
                await self._on_message(live, text)
            elif message.type == WSMsgType.BINARY:
                await socket.close(code=1003, message=b"Binary frames are not supported")
                return
            else:  # CLOSE, CLOSING, CLOSED, ERROR (aiohttp already closed a too-big message with 1009)
                return

    async def _on_message(self, live: LiveConnection, body: str) -> None:
        route_key = self._websocket_routes.select(body)
        event = wsapi.message_event(live.info, route_key or "$default", body, self._clock.now())
        request_id = event["requestContext"]["requestId"]
        if route_key is None:
            await self._send_error(live, "Forbidden", request_id)
            return
        function_name = self._websocket_routes.function_for(route_key) or ""
        started = time.perf_counter()
        try:
            invocation = await self._invoke(function_name, event, WEBSOCKET_INTEGRATION_TIMEOUT_S)
        except Exception:
            LOG.exception("websocket route %s failed", route_key)
            await self._send_error(live, "Internal server error", request_id)
            return
        CONSOLE.info(
            "WS %s %s %.0f ms %s",
            route_key,
            function_name,
            (time.perf_counter() - started) * 1000,
            "cold" if invocation.cold else "warm",
        )
        self._changed()
        if not self._websocket_routes.returns_response(route_key):
            return  # as in AWS: without a route response the return value goes nowhere
        result = invocation.result
        body_out = result.get("body") if isinstance(result, dict) else None
        if body_out is not None and not live.socket.closed:
            await live.socket.send_str(body_out if isinstance(body_out, str) else json.dumps(body_out))

    async def _send_error(self, live: LiveConnection, message: str, request_id: str) -> None:
        if not live.socket.closed:
            payload = {"message": message, "connectionId": live.info.connection_id, "requestId": request_id}
            await live.socket.send_str(json.dumps(payload))

    async def _disconnect(self, live: LiveConnection) -> None:
        code = live.socket.close_code or 1006
        LOG.info("websocket %s disconnected (%d)", live.info.connection_id, code)
        function_name = self._websocket_routes.function_for("$disconnect")
        if function_name is None:
            return
        event = wsapi.disconnect_event(live.info, code, "", self._clock.now())
        try:
            await self._invoke(function_name, event, WEBSOCKET_INTEGRATION_TIMEOUT_S)
        except FunctionFailed as failure:
            if failure.error_type in ("Runtime.Stopped", "Runtime.ExitError"):  # the runtime is stopping
                LOG.info("$disconnect of %s not run: %s", live.info.connection_id, failure)
            else:
                LOG.exception("$disconnect of %s failed", live.info.connection_id)
        except Exception:
            LOG.exception("$disconnect of %s failed", live.info.connection_id)

    async def _close_all_connections(self, _app: web.Application) -> None:
        for live in list(self._connections.values()):
            await live.socket.close(code=1001, message=b"Server shutting down")

    # -- @connections management API -----------------------------------------------------------

    async def _live(self, request: web.Request) -> LiveConnection | None:
        live = self._connections.get(request.match_info["connectionId"])
        if live is None:
            return None
        try:
            await asyncio.wait_for(live.upgraded.wait(), timeout=5)
        except TimeoutError:
            return None
        return None if live.socket.closed else live

    async def handle_post_to_connection(self, request: web.Request) -> web.StreamResponse:
        if request.remote not in LOOPBACK_ADDRESSES:
            return _management_error(403, "ForbiddenException", "Forbidden")
        live = await self._live(request)
        if live is None:
            return _gone()
        data = await request.read()
        if len(data) > wsapi.MAX_MESSAGE_BYTES:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        try:
            await live.socket.send_str(data.decode("utf-8"))
        except UnicodeDecodeError:
            await live.socket.send_bytes(data)
        except ConnectionError:
            return _gone()
        return web.Response(status=200)

    async def handle_get_connection(self, request: web.Request) -> web.StreamResponse:
        if request.remote not in LOOPBACK_ADDRESSES:
            return _management_error(403, "ForbiddenException", "Forbidden")
        live = await self._live(request)
        if live is None:
            return _gone()
        return web.json_response(
            {
                "connectedAt": _iso(live.info.connected_at),
                "identity": {"sourceIp": live.info.source_ip, "userAgent": live.info.user_agent},
                "lastActiveAt": _iso(live.last_active_at),
            }
        )

    async def handle_delete_connection(self, request: web.Request) -> web.StreamResponse:
        if request.remote not in LOOPBACK_ADDRESSES:
            return _management_error(403, "ForbiddenException", "Forbidden")
        live = await self._live(request)
        if live is None:
            return _gone()
        await live.socket.close(code=1000)
        return web.Response(status=204)


def _management_error(status: int, error_type: str, message: str) -> web.Response:
    # boto3 reads the error code from x-amzn-ErrorType (rest-json), so GoneException is raised.
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _gone() -> web.Response:
    return _management_error(410, "GoneException", "GoneException")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
