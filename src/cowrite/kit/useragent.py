"""Device type from a User-Agent header: web, desktop or mobile."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"Mobile|Android|iPhone|iPad|iPod|Windows Phone|Opera Mini|IEMobile", re.I)
_DESKTOP_APP = re.compile(r"Electron/|Tauri|cowrite-desktop", re.I)
_BROWSER = re.compile(r"Mozilla/|Chrome/|Safari/|Firefox/|Edg/", re.I)


def device_type(user_agent: str | None) -> str:
    """Mobile browsers and apps are "mobile", desktop app shells are "desktop", the rest "web"."""
    ua = user_agent or ""
    if _MOBILE.search(ua):
        return "mobile"
    if _DESKTOP_APP.search(ua):
        return "desktop"
    if _BROWSER.search(ua) or not ua:
        return "web"
    # Programs that are not browsers (CLI tools, SDKs, native clients) run on a desktop.
    return "desktop"
