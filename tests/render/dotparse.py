"""A small structural parser of DOT source (the subset the python graphviz package writes).

It reads statements, not text patterns: ``graph``/``node``/``edge`` attribute lists, ``a = b``
statements, node statements, edge chains and (nested) subgraphs. Quoted ids keep their
escape sequences except ``\\"`` (so a label reads ``step 1\\nattention``).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

_TOKEN = re.compile(r"""
    (?P<skip>\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<edgeop>->|--)
  | (?P<punct>[{}\[\];,=])
  | (?P<id>-?[\w.]+)
""", re.X | re.S | re.M)


@dataclass
class Dot:
    """What a DOT document declares."""

    name: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    subgraphs: dict[str, dict[str, str]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def edge_pairs(self) -> list[tuple[str, str]]:
        """(tail, head) of every drawn edge, in order (repeats kept; invisible edges left out)."""
        return [(t, h) for t, h, a in self.edges if a.get("style") != "invis"]

    def invisible_pairs(self) -> list[tuple[str, str]]:
        """(tail, head) of every invisible edge (those that only order the layout), in order."""
        return [(t, h) for t, h, a in self.edges if a.get("style") == "invis"]

    def cluster_of(self, node: str) -> str | None:
        """The innermost subgraph declaring ``node``."""
        found = [s for s, nodes in self.members.items() if node in nodes]
        return found[-1] if found else None


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"DOT syntax error at offset {pos}: {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "skip":
            continue
        value = m.group()
        if kind == "str":
            value = value[1:-1].replace('\\"', '"')
            kind = "id"
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.dot = Dot()

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        if self.pos >= len(self.tokens):
            raise ValueError("DOT ended early")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if expected is not None and value != expected:
            raise ValueError(f"expected {expected!r}, got {value!r}")
        if expected is None and kind != "id":
            raise ValueError(f"expected an id, got {value!r}")
        return value

    def parse(self) -> Dot:
        head = self.take()
        if head == "strict":
            head = self.take()
        if head not in ("digraph", "graph"):
            raise ValueError(f"not a graph: {head!r}")
        if self.peek() != "{":
            self.dot.name = self.take()
        self.take("{")
        self.statements(None)
        self.take("}")
        if self.pos != len(self.tokens):
            raise ValueError("text after the graph")
        return self.dot

    def statements(self, sub: str | None) -> None:
        attrs = self.dot.attrs if sub is None else self.dot.subgraphs[sub]
        while self.peek() != "}":
            if self.peek() == ";":
                self.take(";")
                continue
            if self.peek() in ("{", "subgraph"):
                name = f"_anonymous_{self.pos}"
                if self.peek() == "subgraph":
                    self.take("subgraph")
                    if self.peek() != "{":
                        name = self.take()
                self.dot.subgraphs.setdefault(name, {})
                self.take("{")
                self.statements(name)
                self.take("}")
                continue
            first = self.take()
            if first in ("graph", "node", "edge") and self.peek() == "[":
                defaults = self.attr_list()
                if first == "graph":
                    attrs.update(defaults)
            elif self.peek() == "=":
                self.take("=")
                attrs[first] = self.take()
            elif self.peek() in ("->", "--"):
                chain = [first]
                while self.peek() in ("->", "--"):
                    self.pos += 1
                    chain.append(self.take())
                edge_attrs = self.attr_list()
                for tail, head in itertools.pairwise(chain):
                    self.dot.edges.append((tail, head, dict(edge_attrs)))
            else:
                self.dot.nodes.setdefault(first, {}).update(self.attr_list())
                if sub is not None:
                    self.dot.members[sub].append(first)

    def attr_list(self) -> dict[str, str]:
        out: dict[str, str] = {}
        while self.peek() == "[":
            self.take("[")
            while self.peek() != "]":
                if self.peek() in (",", ";"):
                    self.pos += 1
                    continue
                key = self.take()
                self.take("=")
                out[key] = self.take()
            self.take("]")
        return out


def parse_dot(text: str) -> Dot:
    """Parse DOT source; raises ValueError on syntax outside the supported subset."""
    return _Parser(text).parse()
