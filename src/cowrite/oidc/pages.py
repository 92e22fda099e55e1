"""The page a person sees when single sign-on fails: what happened, and a way back."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · cowrite</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}}
h1{{font-size:1.4rem}}code{{color:#666}}</style></head>
<body><h1>{title}</h1><p>{message}</p><p><a href="/">Back to sign-in</a></p>
<p><code>{code}</code></p></body></html>"""


def error_page(status: int, title: str, message: str, code: str) -> HTMLResponse:
    body = _PAGE.format(title=escape(title), message=escape(message), code=escape(code))
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
