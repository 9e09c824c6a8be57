"""A small reader of the report's HTML (stdlib only): elements, tables and headline figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedTable:
    classes: str
    caption: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Figure:
    key: str
    raw: str
    text: str


class Page(HTMLParser):
    """Collects every start tag with its attributes, the tables and the ``data-key`` figures."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.tables: list[ParsedTable] = []
        self.figures: list[Figure] = []
        self.text_parts: list[str] = []
        self._stack: list[ParsedTable] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False
        self._caption: list[str] | None = None
        self._figure: tuple[str, str, list[str]] | None = None
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(self.text_parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, values))
        if tag == "table":
            self._stack.append(ParsedTable(values.get("class", "")))
        elif tag == "caption":
            self._caption = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        if "data-key" in values:
            self._figure = (values["data-key"], values.get("data-value", ""), [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
        elif tag == "caption" and self._caption is not None and self._stack:
            self._stack[-1].caption = "".join(self._caption).strip()
            self._caption = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._stack:
            if self._in_head:
                self._stack[-1].header = self._row
            else:
                self._stack[-1].rows.append(self._row)
            self._row = None
        elif tag == "strong" and self._figure is not None:
            key, raw, text = self._figure
            self.figures.append(Figure(key, raw, "".join(text)))
            self._figure = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        for sink in (self._cell, self._caption, self._figure[2] if self._figure else None):
            if sink is not None:
                sink.append(data)

    def table(self, caption_part: str) -> ParsedTable:
        """The one data table whose caption contains ``caption_part``."""
        found = [t for t in self.tables if caption_part in t.caption and "data" in t.classes]
        assert len(found) == 1, f"{len(found)} tables with caption containing {caption_part!r}"
        return found[0]
