"""Messages from templates: Jinja in a sandbox, every token checked at load
(journeys/validate.py), and StrictUndefined here as well, so a missing value is an error and never a
blank in a sent message."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from blueprint_pipeline.config.journeys import Template

ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@cache
def _compiled(source: str, html: bool):
    return (HTML_ENV if html else ENV).from_string(source)


def render(template: Template, tokens: dict) -> Rendered:
    return Rendered(
        subject=_compiled(template.subject, False).render(tokens).strip() if template.subject else "",
        text=_compiled(template.text, False).render(tokens),
        html=_compiled(template.html, True).render(tokens) if template.html else None,
    )
