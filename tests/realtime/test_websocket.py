"""WebSocket compression off: the middleware hides the client's offer of permessage-deflate
from simple-websocket, and the app refuses to start where that cannot be checked. The
real-server check (a raw WebSocket offering permessage-deflate to gunicorn) is in
test_live_server.py."""
from __future__ import annotations

import pytest
import simple_websocket

from forum import create_app
from forum.extensions import socketio
from forum.realtime import websocket

UPGRADE = {
    "HTTP_HOST": "127.0.0.1",
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
    "HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate; client_max_window_bits",
}


def _seen_by_app(environ: dict) -> dict:
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    websocket.WithoutWebSocketCompression(app)(dict(environ), None)
    return seen


def _extensions_header(answer: str) -> list[str]:
    return [line for line in answer.split("\r\n") if line.lower().startswith("sec-websocket-extensions:")]


def test_a_websocket_upgrade_reaches_the_app_without_the_extensions_offer():
    seen = _seen_by_app(UPGRADE)
    assert "HTTP_SEC_WEBSOCKET_EXTENSIONS" not in seen
    assert seen["HTTP_UPGRADE"] == "websocket" and seen["HTTP_SEC_WEBSOCKET_KEY"] == UPGRADE["HTTP_SEC_WEBSOCKET_KEY"]


def test_other_requests_pass_untouched():
    # Not an upgrade (a polling request that happens to carry the header): left alone.
    plain = {"HTTP_HOST": "127.0.0.1", "HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate",
             "HTTP_ACCEPT_ENCODING": "gzip"}
    assert _seen_by_app(plain) == plain


def test_simple_websocket_accepts_deflate_when_offered_and_not_through_the_middleware():
    """What the middleware is for: simple-websocket itself accepts the offer."""
    sock = websocket._StandInSocket()
    simple_websocket.Server({**UPGRADE, "werkzeug.socket": sock}, thread_class=websocket._NoThread)
    assert _extensions_header(sock.sent.decode("latin-1")) == [
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15"]

    answer = websocket._handshake_answer(UPGRADE)
    assert answer.startswith("HTTP/1.1 101") and _extensions_header(answer) == []
    websocket.check_simple_websocket()  # the start-up check agrees


@pytest.mark.parametrize("setting, wrapped", [(False, True), (True, False)], ids=["off", "on"])
def test_the_app_is_wrapped_unless_compression_is_configured(setting, wrapped):
    app = create_app({"TESTING": True, "SOCKETIO_WEBSOCKET_COMPRESSION": setting})
    layers = []
    layer = app.wsgi_app
    while layer is not None:
        layers.append(type(layer))
        layer = getattr(layer, "wsgi_app", None)
    assert (websocket.WithoutWebSocketCompression in layers) is wrapped
    if wrapped:  # in front of Socket.IO, so that engineio never sees the offer
        assert layers.index(websocket.WithoutWebSocketCompression) < layers.index(type(socketio.sockio_mw))


def test_start_up_fails_loudly_with_another_websocket_server(monkeypatch):
    app = create_app({"TESTING": True})
    eio = socketio.server.eio
    monkeypatch.setattr(eio, "_async", {**eio._async, "websocket": type("OtherWebSocket", (), {})})
    with pytest.raises(RuntimeError, match="not simple-websocket"):
        websocket.install(app, socketio)


def test_start_up_fails_loudly_when_engineio_hides_its_websocket_server(monkeypatch):
    app = create_app({"TESTING": True})
    monkeypatch.delattr(socketio.server.eio, "_async")
    with pytest.raises(RuntimeError, match="Cannot tell which WebSocket server"):
        websocket.install(app, socketio)


def test_start_up_fails_loudly_when_simple_websocket_accepts_an_extension_not_offered(monkeypatch):
    """As if an upgrade of simple-websocket read the offer from somewhere else."""
    monkeypatch.setattr(websocket, "_handshake_answer", lambda headers: (
        "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
    websocket.check_simple_websocket.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="cannot be turned off"):
            websocket.check_simple_websocket()
    finally:
        websocket.check_simple_websocket.cache_clear()


def test_no_websocket_transport_means_nothing_to_check(monkeypatch):
    app = create_app({"TESTING": True})
    eio = socketio.server.eio
    monkeypatch.setattr(eio, "_async", {**eio._async, "websocket": None})
    before = app.wsgi_app
    websocket.install(app, socketio)
    assert isinstance(app.wsgi_app, websocket.WithoutWebSocketCompression) and app.wsgi_app.wsgi_app is before
