"""Label selectors, parsed exactly as kube-apiserver parses `?labelSelector=`.

Grammar (upstream's): requirements joined by ',' (AND), each one of
  key | !key | key=v | key==v | key!=v | key in (v1,v2) | key notin (v1,v2) | key>n | key<n
Whitespace separates tokens and is otherwise ignored; `in`/`notin` are keywords
only where an operator is expected. Errors raise SelectorError, worded like
upstream, which the HTTP layer turns into a 400 BadRequest.

`from_label_selector_object` turns a metav1.LabelSelector (matchLabels +
matchExpressions, as in Deployments, Services' controllers, webhooks) into the
same LabelSelector type.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.machinery.errors import StatusError
from apiserver.machinery.names import is_qualified_name, is_valid_label_value


class SelectorError(StatusError, ValueError):
    """A selector that cannot be parsed; str() is the upstream-worded message.

    A StatusError (400 BadRequest), so one that escapes a handler still answers right.
    """

    def __init__(self, message: str):
        StatusError.__init__(self, 400, "BadRequest", message)


# Operator names as upstream spells them (selection.Operator values).
EXISTS = "exists"
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
GREATER_THAN = "gt"
LESS_THAN = "lt"

BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        values = ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{symbol}{values}"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """AND of requirements; no requirements selects everything.

    `nothing=True` is the selector that matches no object (a metav1.LabelSelector
    that is null, as some controllers interpret it).
    """

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = field(default=False)

    @property
    def empty(self) -> bool:
        return not self.requirements and not self.nothing

    def matches(self, labels: dict[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def exact_value(self, key: str) -> str | None:
        """The single value `key` must have (`key=v`, `key in (v)`), else None: lets watches be narrowed."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(nothing=True)


def _parse_int64(text: str) -> int | None:
    try:
        value = int(text, 10)
    except ValueError:
        return None
    # Go's ParseInt refuses '_' separators and surrounding spaces that int() accepts.
    if "_" in text or text != text.strip() or not -(2**63) <= value < 2**63:
        return None
    return value


# ---- field-error wording (k8s field.Error) -----------------------------------------


def _quote(value: str) -> str:
    """Go's %q for the ASCII cases selectors meet."""
    out = []
    for ch in value:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _invalid(path: str, value, detail: str) -> str:
    if isinstance(value, str):
        shown = _quote(value)
    else:  # a list of values, shown as JSON like upstream
        shown = "[" + ",".join(_quote(v) for v in value) + "]"
    return f"{path}: Invalid value: {shown}: {detail}"


def _aggregate(errors: list[str]) -> str:
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def label_key_error(key: str, path: str = "<nil>") -> str | None:
    """The upstream message for an invalid label key (None if valid)."""
    errs = is_qualified_name(key)
    return _invalid(path, key, "; ".join(errs)) if errs else None


def label_value_error(key: str, value: str, path: str) -> str | None:
    errs = is_valid_label_value(value)
    return _invalid(f"{path}[{key}]", value, "; ".join(errs)) if errs else None


def new_requirement(key: str, operator: str, values: list[str], path: str = "") -> Requirement:
    """Validate like upstream's NewRequirement; raise SelectorError with its aggregated message."""
    errors: list[str] = []
    key_path = f"{path}.key" if path else "key"
    values_path = f"{path}.values" if path else "values"
    err = label_key_error(key, key_path)
    if err:
        errors.append(err)
    if operator in (IN, NOT_IN):
        if not values:
            errors.append(_invalid(values_path, values, "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errors.append(_invalid(values_path, values, "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if values:
            errors.append(_invalid(values_path, values, "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errors.append(_invalid(values_path, values, "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errors.append(_invalid(f"{values_path}[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(f'"{o}"' for o in (*BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST))
        op_path = f"{path}.operator" if path else "operator"
        errors.append(f"{op_path}: Unsupported value: {_quote(operator)}: supported values: {supported}")
    for i, v in enumerate(values):
        err = label_value_error(key, v, f"{values_path}[{i}]")
        if err:
            errors.append(err)
    if errors:
        raise SelectorError(_aggregate(errors))
    return Requirement(key, operator, tuple(values))


# ---- the lexer ---------------------------------------------------------------------

_IDENT, _END, _OPEN, _CLOSE, _COMMA, _NOT, _EQ, _DEQ, _NEQ, _IN, _NOTIN, _GT, _LT, _ERROR = range(14)

_SYMBOLS = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DEQ, "=": _EQ, ">": _GT,
            "<": _LT, "!=": _NEQ, "(": _OPEN}
_KEYWORDS = {"in": _IN, "notin": _NOTIN, **_SYMBOLS}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            tokens.append((_END, ""))
            return tokens
        if text[i] in _SPECIAL:
            # Longest run of special characters that still spells an operator.
            buf, last, j = "", None, i
            while j < n and text[j] in _SPECIAL:
                buf += text[j]
                if buf in _SYMBOLS:
                    last = (_SYMBOLS[buf], buf)
                elif last is not None:
                    break
                j += 1
            if last is None:
                tokens.append((_ERROR, f"error expected: keyword found '{buf}'"))
                i = j
            else:
                tokens.append(last)
                i += len(last[1])
            continue
        j = i
        while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
            j += 1
        word = text[i:j]
        tokens.append((_KEYWORDS.get(word, _IDENT), word))
        i = j


# ---- the parser ------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.items = _lex(text)
        self.pos = 0

    def _token(self, index: int, as_value: bool) -> tuple[int, str]:
        tok, lit = self.items[index]
        if as_value and tok in (_IN, _NOTIN):
            tok = _IDENT  # `in`/`notin` are plain words where a value is expected
        return tok, lit

    def peek(self, as_value: bool = True) -> tuple[int, str]:
        return self._token(self.pos, as_value)

    def take(self, as_value: bool = True) -> tuple[int, str]:
        self.pos += 1
        return self._token(self.pos - 1, as_value)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.peek()
            if tok == _END:
                return requirements
            if tok not in (_IDENT, _NOT):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorError as e:
                raise SelectorError(f"unable to parse requirement: {e.message}") from None
            tok, lit = self.take()
            if tok == _END:
                return requirements
            if tok != _COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in (_IDENT, _NOT):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator = None
        tok, lit = self.take()
        if tok == _NOT:
            operator = DOES_NOT_EXIST
            tok, lit = self.take()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        err = label_key_error(key)
        if err:
            raise SelectorError(err)
        if operator == DOES_NOT_EXIST or self.peek()[0] in (_END, _COMMA):
            # `!key=v` stops after `!key`; the caller then trips over the `=`, as upstream does.
            return new_requirement(key, operator or EXISTS, [])
        operator = self.operator()
        if operator in (IN, NOT_IN):
            values = self.value_set()
        else:
            values = self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def operator(self) -> str:
        tok, lit = self.take(as_value=False)
        ops = {_IN: IN, _EQ: EQUALS, _DEQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
               _NOTIN: NOT_IN, _NEQ: NOT_EQUALS}
        if tok not in ops:
            raise SelectorError(f"found '{lit}', expected: {', '.join(BINARY_OPERATORS)}")
        return ops[tok]

    def value_set(self) -> set[str]:
        tok, lit = self.take()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == _CLOSE:  # `()` is the set holding the empty string
            self.take()
            return {""}
        if tok not in (_IDENT, _COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self.identifier_list()
        if self.take()[0] != _CLOSE:
            raise SelectorError(f"found '{lit}', expected: ')'")
        return values

    def identifier_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.peek()
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                # Empty members: `(,a)`, `(a,,b)`, `(a,)` each contain "".
                if not values:
                    values.add("")
                tok2, _ = self.peek()
                if tok2 == _CLOSE:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    self.take()
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.peek()
        if tok in (_END, _COMMA):
            return {""}  # `key=` means the empty value
        tok, lit = self.take()
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a `labelSelector=` query value; '' or None selects everything."""
    if not text:
        return EVERYTHING
    requirements = _Parser(text).parse()
    requirements.sort(key=lambda r: r.key)  # upstream sorts for a deterministic form
    return LabelSelector(tuple(requirements))


# ---- metav1.LabelSelector objects ------------------------------------------------------------

_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def from_label_selector_object(obj: dict | None) -> LabelSelector:
    """metav1.LabelSelector -> LabelSelector. None selects nothing, {} everything (upstream's rule)."""
    if obj is None:
        return NOTHING
    requirements: list[Requirement] = []
    for key, value in sorted((obj.get("matchLabels") or {}).items()):
        requirements.append(new_requirement(key, EQUALS, [value]))
    for expr in obj.get("matchExpressions") or ():
        op = _EXPRESSION_OPERATORS.get(expr.get("operator", ""))
        if op is None:
            raise SelectorError(f'"{expr.get("operator", "")}" is not a valid label selector operator')
        values = list(expr.get("values") or ())
        requirements.append(new_requirement(expr.get("key", ""), op, values))
    requirements.sort(key=lambda r: r.key)
    return LabelSelector(tuple(requirements))


def selector_from_labels(labels: dict[str, str] | None) -> LabelSelector:
    """`key=value` for each entry, no validation: a Service's or RC's `spec.selector` map."""
    reqs = tuple(Requirement(k, EQUALS, (v,)) for k, v in sorted((labels or {}).items()))
    return LabelSelector(reqs)
