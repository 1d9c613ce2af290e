"""WebSocket compression (permessage-deflate) for the Socket.IO sockets: off unless
SOCKETIO_WEBSOCKET_COMPRESSION is set. See docs/realtime.md#websocket-compression.

Why: a broadcast is encoded once, but with permessage-deflate the WebSocket layer compresses
it again for every socket (one zlib stream per connection, about 100 kB of memory each);
with 1,000 readers that compression was half the server's CPU (bench/README.md).

How: simple-websocket (python-engineio's WebSocket server for the gevent and threading
modes) accepts permessage-deflate whenever the client offers it and has no option to refuse
it. It reads the offer from the WSGI environ (`Sec-WebSocket-Extensions`), and the WebSocket
handshake (wsproto) only accepts an extension the client offered. So a WSGI middleware in
front of Socket.IO drops that header from WebSocket upgrade requests: the client's offer is
never seen, the 101 answer carries no `Sec-WebSocket-Extensions`, frames go out plain.
Browsers always offer the extension and connect without it. No third-party code is patched.

At start-up, `install` runs simple-websocket's own handshake (on a stand-in socket, no
network) through the middleware with a request that offers permessage-deflate, and raises if
the answer accepts any extension or the handshake cannot be run; it refuses any other
WebSocket server, whose handling of the header is unknown. If an upgrade changes how the
offer is read, the app fails loudly instead of silently compressing again.
"""
from __future__ import annotations

import functools

from flask import Flask

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


class WithoutWebSocketCompression:
    """WSGI middleware: a WebSocket upgrade request reaches the app without the client's
    `Sec-WebSocket-Extensions` offer, so no extension (no permessage-deflate) is negotiated.
    Every other request passes through untouched."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if OFFER in environ and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            del environ[OFFER]
        return self.wsgi_app(environ, start_response)


class _StandInSocket:
    """Collects what simple-websocket writes during a handshake; reads nothing."""

    def __init__(self):
        self.sent = b""

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def close(self) -> None:
        pass


class _NoThread:
    """simple-websocket starts a reader thread after the handshake; the check needs none."""

    def __init__(self, target=None, **_kwargs):
        self.name = "stand-in"

    def start(self) -> None:
        pass


def _handshake_answer(environ_headers: dict[str, str]) -> str:
    """simple-websocket's 101 answer, as text, to a WebSocket upgrade with these headers
    after `WithoutWebSocketCompression` has seen them."""
    import simple_websocket

    sock = _StandInSocket()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "werkzeug.socket": sock,
               **environ_headers}

    def app(environ, start_response):
        simple_websocket.Server(environ, thread_class=_NoThread)
        return []

    WithoutWebSocketCompression(app)(environ, None)
    return sock.sent.decode("latin-1")


@functools.cache
def check_simple_websocket() -> None:
    """Raises RuntimeError unless simple-websocket's handshake accepts permessage-deflate
    only when the offer reaches it, so that the middleware is what turns it off."""
    headers = {
        "HTTP_HOST": "127.0.0.1",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        OFFER: "permessage-deflate; client_max_window_bits",
    }
    try:
        answer = _handshake_answer(headers)
    except Exception as exc:  # any change in simple-websocket's constructor or handshake
        raise RuntimeError(f"Cannot check simple-websocket's handshake ({exc!r}); WebSocket "
                           "compression could not be turned off as configured "
                           "(SOCKETIO_WEBSOCKET_COMPRESSION).") from exc
    lines = answer.lower().split("\r\n")
    if not lines[0].startswith("http/1.1 101"):
        raise RuntimeError(f"simple-websocket's handshake did not answer 101: {answer!r}")
    if any(line.startswith("sec-websocket-extensions:") for line in lines):
        raise RuntimeError("simple-websocket accepted a WebSocket extension the client's request "
                           f"no longer offered: {answer!r}; WebSocket compression cannot be turned off.")


def _websocket_class(socketio) -> type | None:
    """The class python-engineio uses for WebSocket connections in the chosen async mode."""
    eio = getattr(socketio.server, "eio", None)
    drivers = getattr(eio, "_async", None)
    if not isinstance(drivers, dict) or "websocket" not in drivers:
        raise RuntimeError("Cannot tell which WebSocket server python-engineio uses "
                           "(engineio.Server._async['websocket'] not found); WebSocket "
                           "compression could not be turned off as configured "
                           "(SOCKETIO_WEBSOCKET_COMPRESSION).")
    return drivers["websocket"]


def install(app: Flask, socketio) -> None:
    """After `socketio.init_app(app)`: unless SOCKETIO_WEBSOCKET_COMPRESSION, put the middleware
    in front of Socket.IO, having checked that it turns compression off for the WebSocket
    server in use (RuntimeError otherwise)."""
    if app.config["SOCKETIO_WEBSOCKET_COMPRESSION"]:
        return
    ws_class = _websocket_class(socketio)
    if ws_class is not None:  # None: this async mode has no WebSocket transport
        from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

        if not (isinstance(ws_class, type) and issubclass(ws_class, SimpleWebSocketWSGI)):
            raise RuntimeError(
                f"python-engineio's WebSocket server here is {ws_class!r}, not simple-websocket: "
                "turning WebSocket compression off is only known to work with simple-websocket. "
                "Set SOCKETIO_WEBSOCKET_COMPRESSION=true to leave the server's own behaviour.")
        check_simple_websocket()
    app.wsgi_app = WithoutWebSocketCompression(app.wsgi_app)
