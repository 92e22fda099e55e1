"""The notification mail: one notification, or a digest of several, as plain text and HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from cowrite.kit.clock import utcnow
from cowrite.notifications.kinds import Kind
from cowrite.notifications.schemas import NotificationOut

KIND_LABELS = {
    "mention": "mentioned you",
    "reply": "replied in a thread",
    "comment": "commented",
    "document_updated": "edited a document",
    "added_to_workspace": "added you to a workspace",
    "role_changed": "changed your role",
    "document_shared": "shared a document with you",
    "webhook_turned_off": "turned off a webhook",
}


@dataclass(frozen=True, slots=True)
class Letter:
    sender: str
    recipient: str
    recipient_name: str
    items: list[NotificationOut]
    public_url: str
    unsubscribe_url: str
    unsubscribe_what: str  # "mentions", "all notification emails"…


def link(public_url: str, item: NotificationOut) -> str:
    """Where the web app shows what the notification is about."""
    base = public_url.rstrip("/")
    if item.kind is Kind.WEBHOOK_TURNED_OFF:
        return f"{base}/w/{item.workspace_id}/webhooks"
    if item.document_id is None:
        return f"{base}/"
    url = f"{base}/d/{item.document_id}"
    return f"{url}?comment={item.comment_id}" if item.comment_id else url


def _line(item: NotificationOut) -> str:
    if item.kind is Kind.WEBHOOK_TURNED_OFF:
        return f"A webhook of {item.title} was turned off: {item.excerpt}"
    who = item.actor.full_name if item.actor else "Someone"
    return f"{who} {KIND_LABELS.get(item.kind.value, item.kind.value)}: {item.title}"


def subject(items: list[NotificationOut]) -> str:
    if len(items) == 1:
        return _line(items[0])
    return f"{len(items)} new notifications on cowrite"


def _text(letter: Letter) -> str:
    lines = [f"Hello {letter.recipient_name},", ""]
    for item in letter.items:
        lines.append(_line(item))
        if item.excerpt:
            lines.append(f"  {item.excerpt}")
        lines.append(f"  {link(letter.public_url, item)}")
        lines.append("")
    lines += [
        "You get this mail because these notifications were still unread.",
        f"Stop {letter.unsubscribe_what}: {letter.unsubscribe_url}",
        f"Notification settings: {letter.public_url.rstrip('/')}/settings",
    ]
    return "\n".join(lines) + "\n"


def _html(letter: Letter) -> str:
    esc = html.escape
    rows = []
    for item in letter.items:
        excerpt = f"<br><span style='color:#555'>{esc(item.excerpt)}</span>" if item.excerpt else ""
        rows.append(
            f"<li style='margin-bottom:12px'><a href=\"{esc(link(letter.public_url, item))}\">"
            f"{esc(_line(item))}</a>{excerpt}</li>"
        )
    return (
        "<!doctype html><html><body style='font-family:sans-serif'>"
        f"<p>Hello {esc(letter.recipient_name)},</p><ul style='padding-left:18px'>"
        + "".join(rows)
        + "</ul><p style='color:#777;font-size:12px'>You get this mail because these "
        "notifications were still unread. "
        f'<a href="{esc(letter.unsubscribe_url)}">Stop {esc(letter.unsubscribe_what)}</a>.</p>'
        "</body></html>"
    )


def compose(letter: Letter) -> str:
    """The whole message, ready for SMTP."""
    message = EmailMessage()
    message["From"] = letter.sender
    message["To"] = letter.recipient
    message["Subject"] = subject(letter.items)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="cowrite")
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_text(letter))
    message.add_alternative(_html(letter), subtype="html")
    return message.as_string()
