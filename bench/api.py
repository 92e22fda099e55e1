"""A small stdlib client of cowrite's REST contract, for setting up benchmark data."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any

from bench.procs import BenchError


class ApiError(BenchError):
    """A REST call answered with an unexpected status."""


class CowriteApi:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: object | None = None, expect: int = 200) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        if status != expect:
            raise ApiError(f"{method} {path} -> {status}: {raw[:200]!r}")
        return json.loads(raw) if raw else None

    def sign_up(self, name: str = "bench") -> str:
        """Register and log in a fresh user; keep and return its access token."""
        email = f"{name}-{uuid.uuid4().hex[:10]}@bench.example.com"
        password = "Bench-" + uuid.uuid4().hex
        self.call(
            "POST",
            "/api/v1/auth/register",
            {"email": email, "password": password, "full_name": name},
            expect=201,
        )
        login = self.call("POST", "/api/v1/auth/login", {"email": email, "password": password})
        self.token = str(login["access_token"])
        self.email = email
        return self.token

    def create_workspace(self, name: str = "bench") -> str:
        return str(self.call("POST", "/api/v1/workspaces", {"name": name}, expect=201)["id"])

    def create_document(
        self, workspace_id: str, title: str, content: str | None = None, fmt: str = "markdown"
    ) -> str:
        body: dict[str, object] = {"title": title}
        if content is not None:
            body["content"] = content
        if fmt != "markdown":
            body["format"] = fmt
        path = f"/api/v1/workspaces/{workspace_id}/documents"
        return str(self.call("POST", path, body, expect=201)["id"])

    def add_member(self, workspace_id: str, email: str, role: str = "editor") -> None:
        path = f"/api/v1/workspaces/{workspace_id}/members"
        self.call("POST", path, {"email": email, "role": role}, expect=201)

    def document_content(self, document_id: str) -> str:
        return str(self.call("GET", f"/api/v1/documents/{document_id}")["content"] or "")


def http_paths(base_url: str) -> set[str]:
    """The REST paths the server's OpenAPI document lists (empty when it has none)."""
    try:
        with urllib.request.urlopen(base_url + "/openapi.json", timeout=10) as resp:
            return set(json.loads(resp.read()).get("paths", {}))
    except (OSError, ValueError):
        return set()


def websocket_accepts(host: str, port: int, path: str) -> bool:
    """Whether an upgrade request on `path` (with valid credentials) is accepted (101)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(request.encode())
            status_line = sock.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError:
        return False
    parts = status_line.split()
    return len(parts) >= 2 and parts[1] == "101"
