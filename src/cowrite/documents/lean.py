"""The common document read, answered in front of the framework.

`GET /api/v1/documents/{id}` (with `as` absent or `markdown`) from a bearer access token this
process has already verified, whose login it knows to be live, or from a live personal API
token (found by the full route's own lookup): the document, the caller's roles on it, its tags
and whether the update log is ahead of the saved content come in the grant's own statement
(`access.document_with_role`), run straight on the driver (`cowrite.rawreads`), and are judged
by the one visibility rule (`access.grant_role`). The answer is the full route's, byte for
byte, with its log line and metrics.

Whatever this path cannot prove goes on to the full route, untouched, which answers it as
always, errors included: an access token not seen yet, a login not known live, an unknown or
revoked API token, a hidden, trashed or missing document, a body to be built from the update
log, a database error.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from cowrite.apitokens import repository as api_token_repository
from cowrite.apitokens.service import is_api_token, lookup_hash, secret_matches
from cowrite.auth.front import bearer_token, live_access_user
from cowrite.documents.access import document_with_role, grant_role, split_tags
from cowrite.documents.schemas import shown_format, shown_visibility
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import AppError
from cowrite.models import ApiToken, Document
from cowrite.observability import record_request
from cowrite.rawreads import RawReader, RawStatement, raw_reader
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)

PREFIX = "/api/v1/documents/"
TEMPLATE = PREFIX + "{document_id}"
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PATH_LENGTH = len(PREFIX) + 36
_MARKDOWN_QUERIES = (b"", b"as=markdown")
_HEADERS_TYPE = (b"content-type", b"application/json")
# The answer's datetimes as the full route's serializer writes them ("…Z").
JSON_OPTIONS = orjson.OPT_UTC_Z


def wanted(scope: Scope) -> bool:
    """A request of the one shape this path may answer (the rest is checked on the way)."""
    if scope["type"] != "http":
        return False
    path = scope["path"]
    return (
        scope["method"] == "GET"
        and len(path) == _PATH_LENGTH
        and path.startswith(PREFIX)
        and scope["query_string"] in _MARKDOWN_QUERIES
        and not scope.get("root_path")
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class DocumentReads:
    """The statements, their reader and the state of one running app (started by its lifespan;
    the reader connects on first use)."""

    def __init__(self) -> None:
        self.state: AppState | None = None
        self._reader: RawReader | None = None
        self._statement: RawStatement | None = None
        self._token_statement: RawStatement | None = None
        self._token_index: dict[str, int] = {}
        self._dialect = ""
        self._index: dict[str, int] = {}
        self._taken: Any = None  # the counter of requests answered here

    def start(self, state: AppState) -> None:
        if not state.settings.lean_document_reads:
            return
        self._reader = raw_reader(state.settings.resolved_database_url)
        if self._reader is None:
            return
        dialect = state.engine.dialect
        self._dialect = dialect.name
        self._statement = RawStatement(document_with_role(dialect.name, with_tags=True), dialect)
        document_columns = len(Document.__table__.columns)
        self._index = {key: i for i, key in enumerate(self._statement.columns[:document_columns])}
        roles = document_columns
        self._index |= {
            "@workspace_role": roles,
            "@document_role": roles + 1,
            "@tags": roles + 2,
            "@behind": roles + 3,
        }
        self._token_statement = RawStatement(api_token_repository.LIVE_TOKEN, dialect)
        token_columns = len(ApiToken.__table__.columns)
        self._token_index = {
            key: i for i, key in enumerate(self._token_statement.columns[:token_columns])
        }
        self._taken = state.metrics.lean_requests.labels(TEMPLATE)
        self.state = state

    async def close(self) -> None:
        self.state = None
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Answer the request and return True, or return False having sent nothing."""
        state = self.state
        if state is None:
            return False
        start = time.perf_counter()
        try:
            body = await self._body(state, scope)
        except AppError:
            return False  # the full route says why, in its own words
        except Exception:
            log.debug("lean document read fell back to the full route", exc_info=True)
            return False
        if body is None:
            return False
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), _HEADERS_TYPE],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self._taken.inc()
        record_request(state.metrics, "GET", TEMPLATE, 200, time.perf_counter() - start)
        return True

    async def _caller(self, state: AppState, token: str) -> tuple[Any, Any] | None:
        """(user id, API token id or None) of a caller this path may answer, else None."""
        if not is_api_token(token):
            user_id = live_access_user(state, token)
            return None if user_id is None else (user_id, None)
        # A personal API token: looked up as the full route does (its one lookup for unknown,
        # revoked and expired tokens alike); a GET is a read, which every token may do.
        assert self._reader is not None and self._token_statement is not None
        values = {"token_hash": lookup_hash(token), "now": utcnow()}
        row = await self._reader.first(self._token_statement, values)
        at = self._token_index
        if row is None or not secret_matches(token, row[at["token_hash"]]):
            return None
        return row[at["user_id"]], row[at["id"]]

    async def _body(self, state: AppState, scope: Scope) -> bytes | None:
        token = bearer_token(scope)
        segment = scope["path"][len(PREFIX) :]
        if token is None or not _ID.fullmatch(segment):
            return None
        caller = await self._caller(state, token)
        if caller is None:
            return None
        user_id, api_token_id = caller
        document_id = uuid.UUID(segment)
        assert self._reader is not None and self._statement is not None
        row = await self._reader.first(
            self._statement, {"document_id": document_id, "user_id": user_id}
        )
        if row is None:
            return None
        at = self._index
        role = grant_role(
            row[at["visibility"]],
            row[at["@workspace_role"]],
            row[at["@document_role"]],
            row[at["deleted_at"]],
            Role.VIEWER,
        )
        content: str = row[at["content"]]
        collab = state.collab
        if collab is not None:
            live = collab.live_markdown(document_id)
            if live is None and row[at["@behind"]]:
                return None  # the body is built from the update log on the full route
            if live is not None:
                content = live
            collab.note_read(document_id, content)
        answer = {
            "id": str(row[at["id"]]),
            "workspace_id": str(row[at["workspace_id"]]),
            "title": row[at["title"]],
            "tags": split_tags(self._dialect, row[at["@tags"]]),
            "version": row[at["version"]],
            "created_by": _text(row[at["created_by"]]),
            "updated_by": _text(row[at["updated_by"]]),
            "created_at": row[at["created_at"]],
            "updated_at": row[at["updated_at"]],
            "deleted_at": row[at["deleted_at"]],
            "format": shown_format(row[at["format"]]),
            "visibility": shown_visibility(row[at["visibility"]]),
            "content": content,
            "role": role.value,
        }
        body = orjson.dumps(answer, option=JSON_OPTIONS)
        if api_token_id is not None and state.token_usage is not None:
            state.token_usage.note(api_token_id)
        return body


class LeanDocumentReads:
    """ASGI wrapper: the document reads it can answer, answered; everything else to `app`."""

    def __init__(self, app: ASGIApp, reads: DocumentReads) -> None:
        self.app = app
        self.reads = reads

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if self.reads.state is not None and wanted(scope):
            return self._lean(scope, receive, send)
        return self.app(scope, receive, send)

    async def _lean(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.reads.answer(scope, send):
            await self.app(scope, receive, send)
