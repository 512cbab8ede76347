"""A marshmallow schema's `load`, compiled into one plain loop over its fields.

The hot paths (ingest, and the processor's re-validation) load one small schema per event;
most of marshmallow's cost there is its machinery (error stores, hook lookups, partial and
unknown handling), not the checks. `CompiledSchema` keeps the schema as the source of truth
(the OpenAPI document is still made from it) and runs the same checks with the same
messages, in fewer steps:

- a plain `fields.String`: a type check, then its validators;
- any other field: its own `_deserialize`, then its validators;
- missing, null, `load_default` and unknown keys as marshmallow decides them;
- `@validates_schema` methods through marshmallow, after the fields, as it runs them.

Schemas with other hooks (pre/post load, per-field `@validates`) are refused at compile
time rather than run differently. `tests/unit/test_compiled_schemas.py` proves, with
hypothesis, that both loaders accept and refuse the same inputs with the same errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.error_store import ErrorStore
from marshmallow.utils import missing

Step = Callable[[Any], Any]


def _string_step(field: fields.String) -> Step:
    invalid = field.error_messages["invalid"]
    validators = list(field.validators)

    def step(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError(invalid)
        messages = []
        for validator in validators:
            try:
                validator(value)
            except ValidationError as exc:
                messages.extend(exc.messages if isinstance(exc.messages, list) else [exc.messages])
        if messages:
            raise ValidationError(messages)
        return value

    return step


def _field_step(field: fields.Field, name: str) -> Step:
    def step(value: Any) -> Any:
        result = field._deserialize(value, name, None)
        field._validate(result)
        return result

    return step


class CompiledSchema:
    """`CompiledSchema(schema).load(data)`: what `schema.load(data)` returns or raises."""

    def __init__(self, schema: Schema) -> None:
        unsupported = [hook for hook in (PRE_LOAD, POST_LOAD, VALIDATES) if schema._hooks[hook]]
        if unsupported or schema.unknown != RAISE or schema.many or schema.partial:
            raise ValueError(f"{type(schema).__name__}: not compilable ({unsupported})")
        self._schema = schema
        self._unknown_message = schema.error_messages["unknown"]
        self._has_schema_validators = bool(schema._hooks[VALIDATES_SCHEMA])
        self._fields = [
            (name, field.data_key or name, field, self._step(field, name))
            for name, field in schema.load_fields.items()
        ]
        self._known = {data_key for _, data_key, _, _ in self._fields}

    @staticmethod
    def _step(field: fields.Field, name: str) -> Step:
        if type(field) is fields.String:
            return _string_step(field)
        return _field_step(field, name)

    def load(self, data: Any) -> dict[str, Any]:
        """The loaded data; raises `ValidationError` with marshmallow's messages."""
        if not isinstance(data, dict):
            raise ValidationError({"_schema": [self._schema.error_messages["type"]]})
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, data_key, field, step in self._fields:
            value = data.get(data_key, missing)
            try:
                loaded = self._one(field, value, step)
            except ValidationError as exc:
                errors[data_key] = exc.messages
                continue
            if loaded is not missing:
                result[name] = loaded
        for key in data.keys() - self._known:
            errors[key] = [self._unknown_message]
        if self._has_schema_validators:
            store = ErrorStore()
            store.errors = errors
            self._schema._invoke_schema_validators(
                error_store=store, pass_collection=False, data=result, original_data=data,
                many=False, partial=None, unknown=RAISE, field_errors=bool(errors),
            )  # fmt: skip
            errors = store.errors
        if errors:
            raise ValidationError(errors, data=data, valid_data=result)
        return result

    @staticmethod
    def _one(field: fields.Field, value: Any, step: Step) -> Any:
        """One field as `Field.deserialize` decides it: missing, null, or a value."""
        if value is missing:
            if field.required:
                raise ValidationError(field.error_messages["required"])
            default = field.load_default
            return default() if callable(default) else default
        if value is None:
            if field.allow_none:
                return None
            raise ValidationError(field.error_messages["null"])
        return step(value)


class CompiledLoad:
    """Mixin for a `Schema` on a hot path: a plain `load(data)` runs the schema's
    `CompiledSchema` (built on first use); a load with options goes through marshmallow.
    Everything else (the OpenAPI document, dumping) is the schema's as before."""

    def load(
        self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None
    ) -> Any:
        if many is None and partial is None and unknown is None:
            compiled = self.__dict__.get("_compiled")
            if compiled is None:
                compiled = self.__dict__["_compiled"] = CompiledSchema(self)  # type: ignore[arg-type]
            return compiled.load(data)
        return super().load(data, many=many, partial=partial, unknown=unknown)  # type: ignore[misc]
