"""Strict JSON ↔ frozen dataclass conversion with errors naming file and field.

Each metadata class is a frozen dataclass whose field types drive the parser:
``bool``, ``int``, ``float`` (int accepted), ``str``, ``Literal``, ``X | None``,
``tuple[X, ...]`` (a JSON list), nested dataclasses, tagged unions of
dataclasses (discriminated by their ``kind`` field) and ``Mapping[str, Any]``
(free-form JSON objects). Range checks come from :func:`spec` metadata. Saving
writes every field, sorted, 2-space indented, with a trailing newline.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from ..exceptions import MetadataError

__all__ = [
    "Check",
    "spec",
    "from_json",
    "to_json",
    "dumps",
    "loads",
    "greater",
    "at_least",
    "between",
    "matches",
    "Context",
]

T = TypeVar("T")
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Check:
    """A value predicate with the words that describe it ("≥ 1", "in (0, 1]")."""

    test: Callable[[Any], bool]
    words: str


def greater(low: float) -> Check:
    return Check(lambda v: v > low, f"> {low:g}")


def at_least(low: float) -> Check:
    return Check(lambda v: v >= low, f"≥ {low:g}")


def between(low: float, high: float, *, open_low: bool = False, open_high: bool = False) -> Check:
    def test(v: float) -> bool:
        above = v > low if open_low else v >= low
        below = v < high if open_high else v <= high
        return above and below

    return Check(test, f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}")


def matches(pattern: str, words: str) -> Check:

    compiled = re.compile(pattern)
    return Check(lambda v: compiled.fullmatch(v) is not None, words)


def spec(default: Any = dataclasses.MISSING, *, check: Check | None = None, finite: bool = True) -> Any:
    """A dataclass field with an optional range check (and finiteness for floats)."""
    meta = {"check": check, "finite": finite}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples or mappings via default_factory-free immutable defaults")
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Context:
    """Where a value sits: the file (as shown to the user) and the dotted field path."""

    source: str
    path: str = ""

    def child(self, name: str | int) -> Context:
        if isinstance(name, int):
            return Context(self.source, f"{self.path}[{name}]")
        return Context(self.source, f"{self.path}.{name}" if self.path else name)

    def error(self, expected: str, got: Any = dataclasses.MISSING) -> MetadataError:
        where = f"field '{self.path}'" if self.path else "document"
        if got is dataclasses.MISSING:
            return MetadataError(f"{self.source}: {where}: {expected}")
        return MetadataError(f"{self.source}: {where}: expected {expected}, got {_show(got)}")


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_words(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if tp is float:
        return "number"
    if tp is str:
        return "string"
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in get_args(tp))
    if origin is tuple:
        return "list"
    if origin in (Mapping, dict) or dataclasses.is_dataclass(tp):
        return "object"
    if origin in (typing.Union, types.UnionType):
        parts = [_type_words(a) for a in get_args(tp) if a is not type(None)]
        words = " or ".join(dict.fromkeys(parts))
        return words + " or null" if type(None) in get_args(tp) else words
    return str(tp)


def _hints(cls: type) -> dict[str, Any]:
    cached = cls.__dict__.get("__schema_hints__")
    if cached is None:
        cached = get_type_hints(cls)
        setattr(cls, "__schema_hints__", cached)
    return cached


def _kind_of(cls: type) -> str | None:
    hint = _hints(cls).get("kind")
    if hint is not None and get_origin(hint) is typing.Literal:
        return get_args(hint)[0]
    return None


def _convert(tp: Any, value: Any, ctx: Context, field: dataclasses.Field[Any] | None = None) -> Any:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise ctx.error(_type_words(tp), value)
        members = [a for a in args if a is not type(None)]
        if all(dataclasses.is_dataclass(m) for m in members) and len(members) > 1:
            return _convert_tagged(members, value, ctx, tp)
        if len(members) == 1:
            return _convert(members[0], value, ctx, field)
        for member in members:
            try:
                return _convert(member, value, ctx, field)
            except MetadataError:
                continue
        raise ctx.error(_type_words(tp), value)
    if tp is Any:
        return value
    custom = getattr(tp, "_from_json", None)
    if custom is not None:
        return custom(value, ctx)
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.error("boolean", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ctx.error(_with_check("integer", field), value)
        _apply_check(value, "integer", ctx, field)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ctx.error(_with_check("number", field), value)
        number = float(value)
        if (field is None or field.metadata.get("finite", True)) and not math.isfinite(number):
            raise ctx.error(_with_check("finite number", field), value)
        _apply_check(number, "number", ctx, field)
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ctx.error(_with_check("string", field), value)
        _apply_check(value, "string", ctx, field)
        return value
    if origin is typing.Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            raise ctx.error(_type_words(tp), value)
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ctx.error(_with_check("list", field), value)
        item_type = args[0]
        items = tuple(_convert(item_type, item, ctx.child(i)) for i, item in enumerate(value))
        _apply_check(items, "list", ctx, field)
        return items
    if origin in (Mapping, dict) or tp is Mapping:
        if not isinstance(value, dict):
            raise ctx.error("object", value)
        return types.MappingProxyType(dict(value))
    if dataclasses.is_dataclass(tp):
        return from_json(tp, value, ctx)
    raise TypeError(f"schema cannot convert type {tp!r}")


def _with_check(words: str, field: dataclasses.Field[Any] | None) -> str:
    check = field.metadata.get("check") if field is not None else None
    return f"{words} {check.words}" if check else words


def _apply_check(value: Any, words: str, ctx: Context, field: dataclasses.Field[Any] | None) -> None:
    check = field.metadata.get("check") if field is not None else None
    if check is not None and not check.test(value):
        raise ctx.error(f"{words} {check.words}", value)


def _convert_tagged(members: list[Any], value: Any, ctx: Context, tp: Any) -> Any:
    if not isinstance(value, dict):
        raise ctx.error("object", value)
    kinds = {_kind_of(m): m for m in members}
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise ctx.child("kind").error("one of " + ", ".join(json.dumps(k) for k in kinds), kind)
    return from_json(kinds[kind], value, ctx)


def from_json(cls: type[T], data: Any, ctx: Context) -> T:
    """Build ``cls`` from parsed JSON, strictly: unknown or missing keys are errors."""
    if not isinstance(data, dict):
        raise ctx.error("object", data)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ctx.child(unknown[0]).error("unknown field (allowed: " + ", ".join(sorted(fields)) + ")")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], ctx.child(name), field)
        elif field.default is dataclasses.MISSING:
            raise ctx.child(name).error("required field is missing")
    obj = cls(**values)
    validate = getattr(obj, "_validate", None)
    if validate is not None:
        validate(ctx)
    return obj


def to_json(obj: Any) -> Any:
    """Plain JSON value of a metadata object, every field included."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        dump = getattr(obj, "_to_json", None)
        if dump is not None:
            return dump()
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_json(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj


def dumps(obj: Any) -> str:
    """The saved form: sorted keys, 2-space indent, trailing newline, shortest floats."""
    return json.dumps(to_json(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


#: Deepest nesting accepted: metadata is a few levels deep; deeper input would only exhaust the stack.
MAX_DEPTH = 64


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _too_deep(value: Any, limit: int) -> bool:
    """True when containers nest deeper than ``limit`` (iterative: never recurses itself)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def loads(text: str | bytes, source: str) -> Any:
    """Parse strict JSON, naming ``source`` on error.

    Strict: no NaN/Infinity (nor numbers that overflow to them) and at most
    :data:`MAX_DEPTH` nested arrays/objects, so a hostile file is a
    :class:`MetadataError`, never a ``RecursionError``.

    Parameters
    ----------
    text
        The JSON document.
    source
        How to name it in messages (a workspace-relative path or an option).

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    MetadataError
        ``<source>: invalid JSON: ...``.

    Examples
    --------
    >>> loads('{"a": [1, 2.5]}', "x.json")
    {'a': [1, 2.5]}
    >>> loads("[" * 100 + "]" * 100, "x.json")
    Traceback (most recent call last):
    ...
    lightlane.exceptions.MetadataError: x.json: invalid JSON: nested deeper than 64 levels
    """
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        value = None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{source}: invalid JSON: {exc}") from None
    else:
        if not _too_deep(value, MAX_DEPTH):
            return value
    raise MetadataError(f"{source}: invalid JSON: nested deeper than {MAX_DEPTH} levels")


def check_schema_version(data: Any, ctx: Context) -> None:
    """Every metadata file carries ``"schema": 1``."""
    if not isinstance(data, dict):
        raise ctx.error("object", data)
    version = data.get("schema", dataclasses.MISSING)
    if version is dataclasses.MISSING:
        raise ctx.child("schema").error(f"required field is missing (expected {SCHEMA_VERSION})")
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise ctx.child("schema").error(f"{SCHEMA_VERSION}", version)
