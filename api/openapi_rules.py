"""The rules every text field follows, written into the OpenAPI document (issue 18, defect 10): the strict
input schemas (`hotline.core.schemas.Strict`) refuse control and direction-override characters, strip white
space before counting, and want a visible letter in a name; a path or query value may not hold a NUL. A
document that did not say so called requests valid that the API refuses. Field-specific rules (phones,
dates, consent, opening hours) are written beside their fields; the patterns come from
`hotline.core.patterns`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from hotline.core.patterns import filled_text_pattern, name_pattern, text_pattern
from hotline.core.schemas import Strict

NAME_TEXT = "NameText"
NO_NUL = "^[^\\u0000]*$"  # api.middleware.RefuseNul: a NUL in the path or the query is refused (422)
_SAYS_ALREADY = {"pattern", "format", "enum", "const", "$ref"}


def describe(spec: dict[str, Any]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas[NAME_TEXT] = {
        "type": "string", "pattern": name_pattern(),
        "description": "이름: 보이는 글자(문자나 숫자)가 하나 이상, 제어 문자 없이, 결합 문자는 한 글자에 4개까지 / "
                       "a name: at least one visible letter or digit, no control characters, at most four "
                       "combining marks on a letter",
    }
    for model in _strict_models():
        component = schemas.get(model.__name__)
        if not component or component.get("title") != model.__name__:
            continue
        properties = component.get("properties", {})
        for name, field in model.model_fields.items():
            prop = properties.get(field.alias or name)
            if prop is None:
                continue
            if field.annotation is str and _is_a_name(field.metadata):
                prop["allOf"] = [{"$ref": f"#/components/schemas/{NAME_TEXT}"}]
                continue
            for node in _string_nodes(prop):
                if not _SAYS_ALREADY & node.keys():
                    node["pattern"] = filled_text_pattern() if node.get("minLength", 0) >= 1 else text_pattern()
    for methods in spec.get("paths", {}).values():
        for op in methods.values():
            for parameter in op.get("parameters", []):
                if parameter.get("in") in ("path", "query"):
                    for node in _string_nodes(parameter.get("schema", {})):
                        if not _SAYS_ALREADY & node.keys():
                            node["pattern"] = NO_NUL


def _strict_models() -> Iterator[type[BaseModel]]:
    seen: set[type] = set()
    todo = list(Strict.__subclasses__())
    while todo:
        model = todo.pop()
        if model not in seen:
            seen.add(model)
            todo.extend(model.__subclasses__())
            yield model


def _is_a_name(metadata: list[Any]) -> bool:
    """Whether the field's own validators want a visible letter: asked of them, not guessed from a name."""
    if not metadata:
        return False
    adapter = TypeAdapter(Annotated[str, *metadata])
    try:
        adapter.validate_python("\u3164")  # HANGUL FILLER: a letter that shows nothing
    except ValidationError:
        try:
            adapter.validate_python("가")
        except ValidationError:
            return False
        return True
    return False


def _string_nodes(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The string schemas in a property's schema: itself, its anyOf branches, array items, map values."""
    if schema.get("type") == "string":
        yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            yield from _string_nodes(branch)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _string_nodes(schema[key])
