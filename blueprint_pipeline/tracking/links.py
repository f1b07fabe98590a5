"""Tracking links: each carries the message's token, the person's id and an HMAC signature, so
the endpoint records events without reading the warehouse and refuses forged links (a click
link redirects only to the URL it was signed for: no open redirect)."""

from __future__ import annotations

import hashlib
import hmac
import html as markup
import re
from urllib.parse import quote, urlencode

SIGNATURE_LENGTH = 24
HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)


def signature(secret: str, *parts: str) -> str:
    digest = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_LENGTH]


def valid(secret: str, given: str, *parts: str) -> bool:
    return hmac.compare_digest(signature(secret, *parts), given or "")


def _link(base: str, kind: str, token: str, query: dict[str, str]) -> str:
    return f"{base.rstrip('/')}/{kind}/{quote(token)}?{urlencode(query)}"


def unsubscribe_url(base: str, secret: str, token: str, person_id: str) -> str:
    return _link(base, "u", token, {"p": person_id, "s": signature(secret, "u", token, person_id)})


def open_url(base: str, secret: str, token: str, person_id: str) -> str:
    return _link(base, "o", token, {"p": person_id, "s": signature(secret, "o", token, person_id)})


def click_url(base: str, secret: str, token: str, person_id: str, url: str) -> str:
    query = {"p": person_id, "u": url, "s": signature(secret, "c", token, person_id, url)}
    return _link(base, "c", token, query)


def tracked_html(html: str, base: str, secret: str, token: str, person_id: str) -> str:
    """Links go through the click endpoint (not our own: the unsubscribe link stays as it is); an
    open pixel goes at the end of the body.

    An href is HTML: `?a=1&amp;b=2` means `?a=1&b=2`, the URL a browser would follow. So the URL
    is decoded before it is signed (the click redirects where the link pointed) and the tracked
    link is encoded again to go back into the attribute."""

    def tracked(match: re.Match) -> str:
        url = markup.unescape(match.group(1))
        return (
            match.group(0)
            if url.startswith(base)
            else f'href="{markup.escape(click_url(base, secret, token, person_id, url))}"'
        )

    html = HREF.sub(tracked, html)
    pixel_url = markup.escape(open_url(base, secret, token, person_id))
    pixel = f'<img src="{pixel_url}" width="1" height="1" alt="">'
    closing = html.lower().rfind("</body>")
    return html[:closing] + pixel + html[closing:] if closing >= 0 else html + pixel
