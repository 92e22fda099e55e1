"""pycrdt-websocket under uvicorn with its defaults: the Python peer of the y-websocket protocol.

Run with the peer's own interpreter: `python pycrdt_server.py PORT`.
"""

import sys

import anyio
import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer


def main() -> None:
    port = int(sys.argv[1])
    websocket_server = WebsocketServer()
    app = ASGIServer(websocket_server)

    async def serve() -> None:
        async with websocket_server:
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            await uvicorn.Server(config).serve()

    anyio.run(serve)


if __name__ == "__main__":
    main()
