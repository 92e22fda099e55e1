"""What an import will create, read from the upload before anything is written: documents
(title, tags, Markdown) and the archive entries that become their attachments."""

from __future__ import annotations

import json
import posixpath
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdownify import markdownify

from cowrite.collab.formats import MARKDOWN, RICH
from cowrite.documents.members import MAX_DOCUMENT_MEMBERS
from cowrite.documents.schemas import normalize_tag
from cowrite.documents.visibility import DOCUMENT_ROLES, Visibility
from cowrite.kit.ids import new_id
from cowrite.transfer.exporter import FORMAT, MANIFEST
from cowrite.transfer.links import file_url, is_relative, replace_link_targets, resolve
from cowrite.transfer.names import title_from_path
from cowrite.transfer.zipsafe import ZipRefused

TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_TAGS = 50


@dataclass
class PlannedFile:
    id: uuid.UUID
    path: str
    filename: str
    content_type: str | None
    size: int
    document: int | None  # index into the plan's documents; None: a loose file


@dataclass
class PlannedDocument:
    title: str
    tags: list[str]
    content: str
    format: str = MARKDOWN
    visibility: str = Visibility.WORKSPACE
    # (email, document role) of the people listed on it, from cowrite's manifest.
    people: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ImportPlan:
    documents: list[PlannedDocument] = field(default_factory=list)
    files: dict[str, PlannedFile] = field(default_factory=dict)

    def file_for(
        self, path: str, size: int, document: int | None, known: dict[str, Any] | None = None
    ) -> PlannedFile:
        """The planned file for an archive entry; `known`: what cowrite's manifest says of it."""
        known = known or {}
        planned = self.files.get(path)
        if planned is None:
            planned = PlannedFile(
                id=new_id(),
                path=path,
                filename=known.get("filename") or posixpath.basename(path) or "file",
                content_type=known.get("content_type"),
                size=size,
                document=document,
            )
            self.files[path] = planned
        return planned


def decode_text(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ZipRefused(f"{name!r} is not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\x00", "")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML between leading `---` lines, and the body after it."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0:
        return {}, text
    try:
        meta = yaml.safe_load(text[4 : end + 1])
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[end + 5 :]


def clean_tags(raw: object) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list):
        return []
    tags: list[str] = []
    for value in raw:
        tag = normalize_tag(str(value))
        if tag and len(tag) <= 64 and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


def document_from_text(path: str, text: str, title: str | None = None) -> PlannedDocument:
    """A document from one file's text: HTML becomes Markdown; front matter gives title, tags."""
    if path.lower().endswith((".html", ".htm")):
        text = markdownify(text, heading_style="ATX").strip() + "\n"
    meta, body = split_front_matter(text)
    found_title = title or meta.get("title")
    return PlannedDocument(
        title=str(found_title).strip()[:500] if found_title else title_from_path(path),
        tags=clean_tags(meta.get("tags")),
        content=body,
        format=RICH if meta.get("format") == RICH else MARKDOWN,
        visibility=_visibility(meta.get("visibility")),
    )


def _visibility(raw: object) -> str:
    return Visibility.RESTRICTED if raw == Visibility.RESTRICTED else Visibility.WORKSPACE


def clean_people(raw: object) -> list[tuple[str, str]]:
    """The manifest's listed people: well-formed entries with a document role, each email once."""
    if not isinstance(raw, list):
        return []
    roles = {role.value for role in DOCUMENT_ROLES}
    people: dict[str, str] = {}
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        email, role = entry.get("email"), entry.get("role")
        if isinstance(email, str) and "@" in email and len(email) <= 320 and role in roles:
            people.setdefault(email.strip().lower(), str(role))
    return list(people.items())[:MAX_DOCUMENT_MEMBERS]


def _manifest(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    info = entries.get(MANIFEST)
    if info is None:
        return {}
    try:
        data = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile):
        raise ZipRefused(f"{MANIFEST} is not valid JSON") from None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else {}


def plan_archive(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]) -> ImportPlan:
    """Documents from cowrite's own manifest when there is one, else every text file; relative
    links to other entries become attachments of the document that links them first."""
    plan = ImportPlan()
    manifest = _manifest(archive, entries)
    listed = manifest.get("documents") if manifest else None
    sources: list[tuple[str, dict[str, Any]]] = []
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, dict) and item.get("path") in entries:
                sources.append((str(item["path"]), item))
    else:
        sources = [(name, {}) for name in sorted(entries) if name.lower().endswith(TEXT_SUFFIXES)]
    document_paths = {path for path, _ in sources}
    for index, (path, item) in enumerate(sources):
        info = entries[path]
        try:
            raw = archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ZipRefused(f"The archive entry {path!r} is damaged ({exc})") from None
        document = document_from_text(path, decode_text(raw, path), item.get("title"))
        if "tags" in item:
            document.tags = clean_tags(item["tags"])
        if "format" in item:
            document.format = RICH if item["format"] == RICH else MARKDOWN
        if "visibility" in item:
            document.visibility = _visibility(item["visibility"])
        document.people = clean_people(item.get("people"))
        base = posixpath.dirname(path)

        def target(link: str, index: int = index, base: str = base) -> str | None:
            if not is_relative(link):
                return None
            found = resolve(base, link)
            if found is None or found not in entries or found in document_paths:
                return None
            return file_url(plan.file_for(found, entries[found].file_size, index).id)

        document.content = replace_link_targets(document.content, target)
        for attachment in item.get("attachments") or []:
            if isinstance(attachment, dict) and attachment.get("path") in entries:
                found = str(attachment["path"])
                plan.file_for(found, entries[found].file_size, index, attachment)
        plan.documents.append(document)
    for loose in manifest.get("files") or []:
        if isinstance(loose, dict) and loose.get("path") in entries:
            found = str(loose["path"])
            plan.file_for(found, entries[found].file_size, None, loose)
    return plan
