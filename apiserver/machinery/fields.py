"""Field selectors, parsed as kube-apiserver parses `?fieldSelector=`.

Terms `field=value`, `field==value`, `field!=value` joined by ','. In a value,
`\\,` `\\=` `\\\\` stand for the literal characters; an unescaped ',' or '=' in a
value is an error. There is no whitespace trimming (upstream has none either).

Which fields a resource supports is the registry's business: it walks
`.requirements` and refuses unknown names with one of the two upstream messages
below. Errors raise SelectorError (HTTP 400 BadRequest).
"""
from __future__ import annotations

from dataclasses import dataclass

from apiserver.machinery.labels import SelectorError

__all__ = ["FieldSelector", "FieldRequirement", "SelectorError", "parse_field_selector",
           "escape_value", "unescape_value", "not_a_known_field_selector", "field_label_not_supported",
           "DEFAULT_FIELDS", "object_meta_fields"]

EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
# Upstream tries these at each position, in this order: '!=' before '=' so `a!=b`
# is not read as field `a!` equals `b`.
_TERM_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    op: str  # "=", "==" or "!="
    value: str

    def matches(self, fields: dict[str, str]) -> bool:
        have = fields.get(self.field, "")  # a missing field reads as "" (upstream's Fields.Get)
        return have != self.value if self.op == NOT_EQUALS else have == self.value

    def __str__(self) -> str:
        return f"{self.field}{self.op}{escape_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: dict[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def exact_value(self, field: str) -> str | None:
        """The value `field` must equal (`field=v`), else None: lets `metadata.name=x` watches be narrowed."""
        for r in self.requirements:
            if r.field == field and r.op != NOT_EQUALS:
                return r.value
        return None

    def fields(self) -> set[str]:
        return {r.field for r in self.requirements}

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = FieldSelector()


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v, i.e. as its code point number.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not escaped by a backslash."""
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse a `fieldSelector=` query value; '' or None selects everything."""
    if not text:
        return EVERYTHING
    requirements: list[FieldRequirement] = []
    for part in sorted(_split_terms(text)):  # upstream sorts terms for a deterministic form
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        requirements.append(FieldRequirement(lhs, op, unescape_value(rhs)))
    return FieldSelector(tuple(requirements))


# ---- what the registry tells a client that asked for an unsupported field ------------------

def not_a_known_field_selector(field: str, supported: list[str] | tuple[str, ...] = ()) -> str:
    """The generic wording (CRDs, most built-in kinds): `"x" is not a known field selector: only "a", "b"`."""
    names = supported or ("metadata.name", "metadata.namespace")
    return f'"{field}" is not a known field selector: only ' + ", ".join(f'"{n}"' for n in names)


def field_label_not_supported(field: str) -> str:
    """The wording core/v1 kinds (pods, events, secrets, ...) use."""
    return f"field label not supported: {field}"


DEFAULT_FIELDS = ("metadata.name", "metadata.namespace")


def object_meta_fields(obj: dict, namespaced: bool = True) -> dict[str, str]:
    """The field set every resource supports, from an object's metadata."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": meta.get("name", "")}
    if namespaced:
        fields["metadata.namespace"] = meta.get("namespace", "")
    return fields
