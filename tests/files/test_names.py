"""File names and content types, unit by unit."""

from __future__ import annotations

from cowrite.files.names import content_disposition, normalize_content_type, safe_filename


def test_safe_filename_keeps_ordinary_names() -> None:
    for name in ("report.pdf", "Übersicht.docx", "写真 2024.jpg", "a-b_c (1).tar.gz"):
        assert safe_filename(name) == name


def test_safe_filename_never_returns_a_path_or_empty() -> None:
    for raw in ("../../x", "/abs/path/y", "C:\\dir\\z", "..", ".", "", "\x00", "\u202e", "  "):
        name = safe_filename(raw)
        assert name
        assert "/" not in name and "\\" not in name
        assert name not in {".", ".."}


def test_long_names_keep_a_short_extension() -> None:
    assert safe_filename("a" * 300 + ".tar") == "a" * 251 + ".tar"
    assert safe_filename("a" * 300 + "." + "e" * 40) == ("a" * 300 + "." + "e" * 40)[:255]


def test_content_disposition_is_header_safe() -> None:
    header = content_disposition('evil"; filename="x.html\r\nSet-Cookie: a=b')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="')
    assert header.count('"') == 2  # the fallback's own quotes only
    assert content_disposition("日本語") == (
        "attachment; filename=\"download\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E"
    )
    assert content_disposition("日本.txt").startswith('attachment; filename="__.txt"')


def test_content_types() -> None:
    assert normalize_content_type("image/PNG") == "image/png"
    assert normalize_content_type("application/vnd.ms-excel; x=1") == "application/vnd.ms-excel"
    for bad in (None, "", "png", "image/", "/png", "text/html\r\nX-A: b", "a b/c", "é/x"):
        assert normalize_content_type(bad) == "application/octet-stream"
