"""Label and field selectors: parsing (string and object forms) and matching.

Follows apimachinery `labels` and `fields`: the same grammar (`a=b`, `a!=b`, `a in (x,y)`,
`a notin (x)`, `a`, `!a`, `a>1`), the same matching rules, and `BadRequest` with
upstream-shaped messages on bad syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.kube.machinery.errors import BadRequest

IN, NOT_IN, EXISTS, DOES_NOT_EXIST = "in", "notin", "exists", "!"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GT, LT = "=", "==", "!=", "gt", "lt"

_QNAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY_RE = re.compile(rf"^({_PREFIX}/)?{_QNAME}$")
_VALUE_RE = re.compile(rf"^({_QNAME})?$")
_SPECIAL = "!=(),<>"


@dataclass(frozen=True)
class Requirement:
    """One `key op values` clause of a label selector."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op, present = self.operator, self.key in labels
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op == EXISTS:
            return present
        if op == DOES_NOT_EXIST:
            return not present
        if not present:  # gt / lt
            return False
        try:
            have, want = int(labels[self.key]), int(self.values[0])
        except ValueError:
            return False
        return have > want if op == GT else have < want

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({','.join(self.values)})"
        symbol = {GT: ">", LT: "<"}.get(op, op)
        return f"{self.key}{symbol}{self.values[0]}"


def _requirement(key: str, op: str, values: Iterable[str]) -> Requirement:
    """Validate like upstream `labels.NewRequirement` and build the clause."""
    vals = tuple(values)
    if not _KEY_RE.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise BadRequest(f"key: Invalid value: {key!r}: name part must consist of alphanumeric "
                         "characters, '-', '_' or '.', and must start and end with an alphanumeric character")
    if op in (IN, NOT_IN) and not vals:
        raise BadRequest("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
    if op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(vals) != 1:
        raise BadRequest(f"values: Invalid value: {list(vals)}: exact-match compatibility requires one single value")
    if op in (EXISTS, DOES_NOT_EXIST) and vals:
        raise BadRequest(f"values: Invalid value: {list(vals)}: values set must be empty for exists and does not exist")
    if op in (GT, LT):
        if len(vals) != 1 or not re.match(r"^-?[0-9]+$", vals[0]):
            raise BadRequest(f"values[0]: Invalid value: {list(vals)}: for 'Gt', 'Lt' operators, "
                             "the value must be an integer")
    for v in vals:
        if len(v) > 63 or not _VALUE_RE.match(v):
            raise BadRequest(f"values[0][{key}]: Invalid value: {v!r}: a valid label must be an empty string "
                             "or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                             "with an alphanumeric character")
    if op in (IN, NOT_IN):
        vals = tuple(sorted(set(vals)))
    return Requirement(key, op, vals)


def _tokens(text: str) -> list[str]:
    """Split a selector string: identifiers, and the operators `! = == != ( ) , < >`."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _SPECIAL:
            two = text[i:i + 2]
            if two in ("==", "!="):
                out.append(two)
                i += 2
            else:
                out.append(c)
                i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            out.append(text[i:j])
            i = j
    return out


class _Parser:
    """Recursive-descent parser over the token list, as upstream `labels.Parser`."""

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def fail(self, found: str | None, expected: str) -> BadRequest:
        shown = "EOS" if found is None else found
        return BadRequest(f"unable to parse requirement: found '{shown}', expected: {expected}")

    def identifier(self, what: str) -> str:
        tok = self.take()
        if tok is None or tok in _SPECIAL or tok in ("==", "!="):
            raise self.fail(tok, what)
        return tok

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        if self.peek() is None:
            return reqs
        while True:
            reqs.append(self.requirement())
            tok = self.take()
            if tok is None:
                return reqs
            if tok != ",":
                raise self.fail(tok, "',' or 'end of string'")

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            return _requirement(self.identifier("identifier"), DOES_NOT_EXIST, ())
        key = self.identifier("identifier")
        op = self.peek()
        if op is None or op == ",":
            return _requirement(key, EXISTS, ())
        self.take()
        if op in ("=", "==", "!=", "<", ">"):
            value = self.peek()
            if value is None or value == ",":
                value = ""
            else:
                value = self.identifier("identifier")
            return _requirement(key, {"<": LT, ">": GT}.get(op, op), (value,))
        if op in (IN, NOT_IN):
            return _requirement(key, op, self.value_set())
        raise self.fail(op, "'=', '!=', '==', 'in', notin'")

    def value_set(self) -> list[str]:
        tok = self.take()
        if tok != "(":
            raise self.fail(tok, "'('")
        values: list[str] = []
        while True:
            tok = self.take()
            if tok == ")":
                return values  # `a in ()` is caught by the empty-set check
            if tok == ",":
                values.append("")  # upstream: an empty value between commas
                continue
            if tok is None or tok in _SPECIAL:
                raise self.fail(tok, "',', ')' or identifier")
            values.append(tok)
            nxt = self.take()
            if nxt == ")":
                return values
            if nxt != ",":
                raise self.fail(nxt, "',' or ')'")


class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        return cls(_Parser(text or "").parse())

    @classmethod
    def from_labels(cls, labels: Mapping[str, str] | None) -> LabelSelector:
        """Equality on every pair (a Service's or ReplicationController's `spec.selector`)."""
        return cls(_requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items())

    @classmethod
    def from_object(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """A `metav1.LabelSelector`; `None` matches nothing and `{}` everything (as upstream)."""
        if selector is None:
            return cls(nothing=True)
        reqs = [_requirement(k, EQUALS, (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
        for expr in selector.get("matchExpressions") or []:
            op = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}.get(
                expr.get("operator", ""))
            if op is None:
                raise BadRequest(f"{expr.get('operator')!r} is not a valid label selector operator")
            reqs.append(_requirement(str(expr.get("key", "")), op, expr.get("values") or ()))
        return cls(reqs)

    @property
    def empty(self) -> bool:
        return not self.requirements and not self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        lbls = labels or {}
        return all(r.matches(lbls) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"LabelSelector({str(self)!r})"


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # "=" or "!="
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.operator == EQUALS else have != self.value


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` not preceded by a backslash (upstream escapes `\\`, `,` and `=`)."""
    parts, cur, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if text[i] == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(text[i])
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class FieldSelector:
    """`k=v,k!=v` over the flat field set a resource exposes (`metadata.name`, `spec.nodeName`)."""

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        self.requirements = tuple(requirements)

    @classmethod
    def parse(cls, text: str | None) -> FieldSelector:
        reqs: list[FieldRequirement] = []
        for part in _split_unescaped(text or "", ","):
            if not part.strip():
                continue
            req = _field_requirement(part)
            if req is None:
                raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
            reqs.append(req)
        return cls(reqs)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def requires_exact(self, field: str) -> str | None:
        """The value `field` must equal, if the selector pins it (for index lookups)."""
        for r in self.requirements:
            if r.field == field and r.operator == EQUALS:
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(f"{r.field}{r.operator}{r.value}" for r in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"


def _field_requirement(part: str) -> FieldRequirement | None:
    for op in ("!=", "==", "="):
        idx = _find_unescaped(part, op)
        if idx > 0 and part[:idx].strip():
            value = part[idx + len(op):]
            return FieldRequirement(_unescape(part[:idx].strip()), NOT_EQUALS if op == "!=" else EQUALS,
                                    _unescape(value))
    return None


def _find_unescaped(text: str, op: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(op, i):
            return i
        i += 1
    return -1
