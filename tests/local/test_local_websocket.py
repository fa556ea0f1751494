"""The WebSocket API and its @connections management API, driven by real clients
(aiohttp for the browser side, boto3's apigatewaymanagementapi for the function side)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.exceptions import ClientError

from local.runtime import LocalRuntime
from tests.local import fake_functions
from tests.local.support import key_structure

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
GOOD_TOKEN = fake_functions.WEBSOCKET_TOKEN


def run(scenario: Callable[[aiohttp.ClientSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with aiohttp.ClientSession() as session:
            return await asyncio.wait_for(scenario(session), timeout=20)

    return asyncio.run(main())


def management_api(runtime: LocalRuntime) -> Any:
    """Exactly what the realtime function builds, pointed at the local endpoint."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=runtime.base_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def connect_event(runtime: LocalRuntime) -> dict[str, Any]:
    (event,) = [
        e for e in fake_functions.invocations("realtime") if e["requestContext"]["eventType"] == "CONNECT"
    ]
    return event


def wait_for_disconnect_event() -> dict[str, Any]:
    """$disconnect runs after the socket closed, on the server's side: poll with a deadline."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [
            e
            for e in fake_functions.invocations("realtime")
            if e["requestContext"]["eventType"] == "DISCONNECT"
        ]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError("no $disconnect event")


class TestConnect:
    def test_connect_event_has_the_sample_shape(self, runtime: LocalRuntime) -> None:
        async def scenario(session: aiohttp.ClientSession) -> None:
            async with session.ws_connect(
                f"{runtime.ws_url}?token={GOOD_TOKEN}", headers={"User-Agent": "ua"}
            ):
                pass

        run(scenario)
        event = connect_event(runtime)
        sample = json.loads((SAMPLES / "websocket_connect.json").read_text())
        open_maps = frozenset({"headers", "multiValueHeaders"})
        assert key_structure(event, open_maps) == key_structure(sample, open_maps)
        context = event["requestContext"]
        assert (context["routeKey"], context["eventType"], context["messageDirection"]) == (
            "$connect",
            "CONNECT",
            "IN",
        )
        assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "ua"}
        assert event["queryStringParameters"] == {"token": GOOD_TOKEN}
        assert event["headers"]["User-Agent"] == "ua"  # WebSocket APIs keep header case

        disconnect = wait_for_disconnect_event()
        assert disconnect["requestContext"]["connectionId"] == context["connectionId"]
        sample = json.loads((SAMPLES / "websocket_disconnect.json").read_text())
        assert key_structure(disconnect, open_maps) == key_structure(sample, open_maps)

    def test_a_refused_connect_is_answered_before_the_upgrade(self, runtime: LocalRuntime) -> None:
        async def scenario(session: aiohttp.ClientSession) -> int:
            try:
                async with session.ws_connect(f"{runtime.ws_url}?token=wrong"):
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status

        assert run(scenario) == 401
        refused_id = connect_event(runtime)["requestContext"]["connectionId"]
        assert refused_id not in runtime.gateway.connection_ids
        # A connection that never opened is never "disconnected" either.
        event_types = [e["requestContext"]["eventType"] for e in fake_functions.invocations("realtime")]
        assert event_types == ["CONNECT"]


class TestMessages:
    def test_route_selection_and_handler_replies(self, runtime: LocalRuntime) -> None:
        async def scenario(session: aiohttp.ClientSession) -> list[Any]:
            async with session.ws_connect(f"{runtime.ws_url}?token={GOOD_TOKEN}") as socket:
                await socket.send_str(json.dumps({"action": "hello", "n": 1}))
                echoed = json.loads(await socket.receive_str())
                await socket.send_str(json.dumps({"action": "boom"}))
                crashed = json.loads(await socket.receive_str())
                return [echoed, crashed]

        echoed, crashed = run(scenario)
        assert echoed == {"echo": {"action": "hello", "n": 1}, "routeKey": "$default"}
        assert crashed["message"] == "Internal server error"
        assert set(crashed) == {"message", "connectionId", "requestId"}
        (message_event, _) = [
            e for e in fake_functions.invocations("realtime") if e["requestContext"]["eventType"] == "MESSAGE"
        ]
        sample = json.loads((SAMPLES / "websocket_message.json").read_text())
        assert key_structure(message_event) == key_structure(sample)
        assert message_event["body"] == json.dumps({"action": "hello", "n": 1})

    def test_a_handler_can_push_through_the_management_api(self, runtime: LocalRuntime) -> None:
        async def scenario(session: aiohttp.ClientSession) -> Any:
            async with session.ws_connect(f"{runtime.ws_url}?token={GOOD_TOKEN}") as socket:
                await socket.send_str(json.dumps({"action": "post-back"}))
                return json.loads(await socket.receive_str())

        assert run(scenario) == {"pushed": True}

    @pytest.mark.parametrize("size", [32 * 1024 + 1, 128 * 1024 + 1])
    def test_oversized_messages_close_with_1009(self, runtime: LocalRuntime, size: int) -> None:
        async def scenario(session: aiohttp.ClientSession) -> int | None:
            async with session.ws_connect(f"{runtime.ws_url}?token={GOOD_TOKEN}") as socket:
                await socket.send_str("x" * size)
                message = await socket.receive()
                assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                return socket.close_code

        assert run(scenario) == 1009

    def test_binary_frames_close_with_1003(self, runtime: LocalRuntime) -> None:
        async def scenario(session: aiohttp.ClientSession) -> int | None:
            async with session.ws_connect(f"{runtime.ws_url}?token={GOOD_TOKEN}") as socket:
                await socket.send_bytes(b"\x00\x01")
                await socket.receive()
                return socket.close_code

        assert run(scenario) == 1003


class TestManagementApi:
    def test_post_get_and_delete_a_live_connection(self, runtime: LocalRuntime) -> None:
        client = management_api(runtime)

        async def scenario(session: aiohttp.ClientSession) -> dict[str, Any]:
            async with session.ws_connect(
                f"{runtime.ws_url}?token={GOOD_TOKEN}", headers={"User-Agent": "ua"}
            ) as ws:
                connection_id = connect_event(runtime)["requestContext"]["connectionId"]
                assert connection_id in runtime.gateway.connection_ids
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=connection_id, Data=b'{"hi": 1}'
                )
                received = await ws.receive_str()
                info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
                await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
                closing = await ws.receive()
                return {"id": connection_id, "received": received, "info": info, "closing": closing.type}

        outcome = run(scenario)
        assert outcome["received"] == '{"hi": 1}'
        assert outcome["info"]["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "ua"}
        assert outcome["info"]["ConnectedAt"] <= outcome["info"]["LastActiveAt"]
        assert outcome["closing"] in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId=outcome["id"], Data=b"late")

    def test_unknown_connections_are_gone(self, runtime: LocalRuntime) -> None:
        client = management_api(runtime)
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="Xa1b2c3d4e5f6g7=", Data=b"hello")
        with pytest.raises(ClientError) as raised:
            client.get_connection(ConnectionId="Xa1b2c3d4e5f6g7=")
        assert raised.value.response["Error"]["Code"] == "GoneException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


class TestRouteResponses:
    def test_without_a_route_response_the_return_value_goes_nowhere(
        self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """As in AWS: a route's reply reaches the client only when the stack gives the route a
        route response; the function must push through @connections otherwise."""
        from infra import manifest
        from local.apigw_websocket import WebSocketRoutes

        silent_routes = WebSocketRoutes(
            tuple(replace(route, returns_response=False) for route in manifest.WEBSOCKET_ROUTES)
        )
        monkeypatch.setattr(runtime.gateway, "_websocket_routes", silent_routes)

        async def scenario(session: aiohttp.ClientSession) -> Any:
            async with session.ws_connect(f"{runtime.ws_url}?token={GOOD_TOKEN}") as socket:
                await socket.send_str(json.dumps({"action": "hello"}))  # replies, but has no route response
                await socket.send_str(json.dumps({"action": "post-back"}))  # pushes
                return json.loads(await socket.receive_str())

        assert run(scenario) == {"pushed": True}  # the first thing received is the push
        messages = [
            e for e in fake_functions.invocations("realtime") if e["requestContext"]["eventType"] == "MESSAGE"
        ]
        assert len(messages) == 2  # the hello reached the function; its reply did not come back

    def test_the_manifest_gives_the_default_route_a_route_response(self) -> None:
        from local.apigw_websocket import WebSocketRoutes

        routes = WebSocketRoutes()
        assert routes.returns_response("$default")
        assert not routes.returns_response("$connect")
