"""OpenAPI 3.1 -> 3.0 for the bundled Swagger UI.

Powertools emits OpenAPI 3.1, but the offline Swagger UI we can ship (swagger-ui-bundle,
Swagger UI 4.15) only renders 3.0 documents and refuses 3.1 outright. /openapi.json stays
the untouched 3.1 document; /docs reads this down-converted copy. Only the constructs
pydantic/Powertools produce are converted; anything else passes through unchanged.
"""

from __future__ import annotations

from typing import Any


def to_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    converted = _convert(document)
    converted["openapi"] = "3.0.3"
    converted.pop("webhooks", None)
    converted.pop("jsonSchemaDialect", None)
    info = converted.get("info")
    if isinstance(info, dict):
        info.pop("summary", None)
        if isinstance(info.get("license"), dict):
            info["license"].pop("identifier", None)
    return converted


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _convert(value) for key, value in node.items()}
    if "$ref" in result and len(result) > 1:  # 3.0 ignores siblings of $ref (e.g. a default)
        result["allOf"] = [{"$ref": result.pop("$ref")}]
    _nullable_type_list(result)
    for combinator in ("anyOf", "oneOf"):
        _nullable_combinator(result, combinator)
    if isinstance(result.get("examples"), list):  # a schema's examples (3.1); 3.0 has one example
        examples = result.pop("examples")
        if examples:
            result.setdefault("example", examples[0])
    if "const" in result:
        result["enum"] = [result.pop("const")]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(result.get(bound), int | float) and not isinstance(result.get(bound), bool):
            result[limit] = result[bound]
            result[bound] = True
    return result


def _nullable_type_list(schema: dict[str, Any]) -> None:
    types = schema.get("type")
    if isinstance(types, list):
        remaining = [t for t in types if t != "null"]
        if len(remaining) < len(types):
            schema["nullable"] = True
        schema["type"] = remaining[0] if len(remaining) == 1 else remaining or "string"


def _nullable_combinator(schema: dict[str, Any], combinator: str) -> None:
    options = schema.get(combinator)
    if not isinstance(options, list):
        return
    remaining = [o for o in options if o != {"type": "null"}]
    if len(remaining) == len(options):
        return
    schema["nullable"] = True
    if len(remaining) != 1:
        schema[combinator] = remaining
        return
    del schema[combinator]
    only = remaining[0]
    if "$ref" in only:
        schema["allOf"] = [only]  # 3.0 ignores siblings of $ref, so wrap it
    else:
        for key, value in only.items():
            schema.setdefault(key, value)
