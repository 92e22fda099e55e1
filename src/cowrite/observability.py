"""Structured logs and Prometheus metrics: one log line and one observation per request."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_log = logging.getLogger("cowrite.request")

# A path's query string, as servers print it ("GET /ws/yjs/…?token=…"): tokens ride in it.
_QUERY_STRING = re.compile(r"(/[^\s\"'?]*)\?[^\s\"']*")


def without_query_strings(message: str) -> str:
    """The message with every path's query string cut off, whoever logged it."""
    return _QUERY_STRING.sub(r"\1", message) if "?" in message else message


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra={"fields": {...}}` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": without_query_strings(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One readable line: time, level, message, then the `fields` as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname.lower():<7} {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += "  " + " ".join(f"{key}={value}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def wants_text(log_format: str) -> bool:
    """Readable lines for a person at a terminal, JSON for log collectors."""
    if log_format == "auto":
        return sys.stderr.isatty()
    return log_format == "text"


def configure_logging(level: str, log_format: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if wants_text(log_format) else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would print query strings (tokens); ours prints route templates.
    logging.getLogger("uvicorn.access").disabled = True
    # Start-up speaks through the banner; uvicorn's own start-up lines and Alembic's step
    # by step lines would repeat it. Their warnings and errors still show.
    logging.getLogger("uvicorn.error").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))


class Metrics:
    """The process's metrics, in a registry of its own (several apps may live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cowrite_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cowrite_http_request_duration_seconds",
            "HTTP request duration",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.ws_connections = Gauge(
            "cowrite_ws_connections",
            "Open WebSocket connections",
            ["channel"],
            registry=self.registry,
        )
        self.ws_catch_ups = Counter(
            "cowrite_ws_catch_ups_total",
            "Readers that fell behind and were sent what they missed as one merged frame",
            ["channel"],
            registry=self.registry,
        )
        self.yjs_commit_lag = Histogram(
            "cowrite_yjs_commit_lag_seconds",
            "Time from a Yjs update's arrival to its commit",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 5),
        )
        self.lean_requests = Counter(
            "cowrite_http_lean_requests_total",
            "HTTP requests answered by a lean path in front of the framework",
            ["route"],
            registry=self.registry,
        )
        # Looking up a labelled child takes a lock and builds a key; the set of (method,
        # route template, status) is small and fixed, so each child is looked up once.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    def observe_request(self, method: str, template: str, status: int, duration: float) -> None:
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = self.requests.labels(method, template, str(status))
            self._counters[(method, template, status)] = counter
        counter.inc()
        timer = self._timers.get((method, template))
        if timer is None:
            timer = self.latency.labels(method, template)
            self._timers[(method, template)] = timer
        timer.observe(duration)


def record_request(
    metrics: Metrics, method: str, template: str, status: int, duration: float
) -> None:
    """The request's observation and its log line (never its query string)."""
    metrics.observe_request(method, template, status, duration)
    if request_log.isEnabledFor(logging.INFO):
        request_log.info(
            "request",
            extra={
                "fields": {
                    "method": method,
                    "path": template,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                }
            },
        )


class RequestLogMiddleware:
    """Pure ASGI: logs method, route template, status and duration; never query strings."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            record_request(self.metrics, scope["method"], template, status, duration)
