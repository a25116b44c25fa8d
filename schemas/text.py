"""Text normalisation applied to article titles and bodies before anything else reads them.

Unicode NFC; HTML tags dropped (block elements become line breaks) and entities decoded;
whitespace tidied (runs of spaces collapsed, at most one blank line between paragraphs).
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})
# Something that looks like markup: a tag opener, a closing tag, a comment or an entity.
_MARKUP = re.compile(r"<[A-Za-z!/?]|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Most rounds of markup stripping; each round decodes one level of escaping (&amp;lt; -> &lt; -> <).
MAX_MARKUP_PASSES = 8


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_markup(text: str) -> str:
    """Reduce HTML to its text; plain text (no tag or entity) is returned unchanged."""
    if not _MARKUP.search(text):
        return text
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    # convert_charrefs leaves nothing escaped, but a double-escaped entity (&amp;amp;) stays
    # one level escaped by design: it is what the publisher wrote.
    return "".join(parser.parts)


def normalise_text(text: str) -> str:
    """NFC, markup reduced to text, control characters removed, whitespace tidied.

    Idempotent (``normalise_text(normalise_text(t)) == normalise_text(t)``), so an
    :class:`~schemas.Article` survives a JSON round trip unchanged and evidence offsets stay
    valid: markup is stripped until none is left, because decoding ``&lt;b&gt;`` yields a
    ``<b>`` that a second pass would otherwise remove. The passes are bounded
    (:data:`MAX_MARKUP_PASSES`); only text escaped more deeply than that stays non-idempotent.
    """
    for _ in range(MAX_MARKUP_PASSES):
        # NFC inside the loop: NFC can turn a character into ASCII (U+212A KELVIN SIGN -> K),
        # which can complete a tag opener such as "<K".
        text = unicodedata.normalize("NFC", text)
        if not _MARKUP.search(text):
            break
        stripped = strip_markup(text)
        if stripped == text:
            break
        text = stripped
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    # A str can hold surrogate code points (e.g. from a "\ud800" JSON escape); they cannot be
    # encoded as UTF-8, so they would make the event impossible to serialise.
    text = _SURROGATE.sub("\ufffd", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
