"""Answers written straight to JSON bytes from plain values, as their response model would
write them, without making the model first.

Making a response model validates every field (some 3 µs for an opportunity's 33), only
for the model to be written out again; on a list page that is done for every row. A
`JsonBody` writes the same bytes from a dict of the model's fields: a TypedDict made from
the model (the same types, the same serializers, `Decimal2`'s two places included, nested
models in turn), written by pydantic's core. Nothing is validated: the values come from
the domain, whose types are the model's; the response model stays the contract of the
OpenAPI document, and tests check that the bytes are the model's.

The dict must hold the model's fields in the model's order (a TypedDict is written in the
dict's order); `JsonBody.fields` gives it."""

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response
from typing_extensions import TypedDict

JSON = "application/json"


def _plain(annotation: Any) -> Any:
    """The annotation with every model in it replaced by its TypedDict."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return typed_dict_of(annotation)
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return Annotated[(_plain(inner), *metadata)]
    if origin is Union or origin is UnionType:
        return Union[tuple(_plain(arg) for arg in get_args(annotation))]  # noqa: UP007
    if origin is list:
        return list[_plain(get_args(annotation)[0])]  # type: ignore[misc]
    if origin is not None and any(_has_model(arg) for arg in get_args(annotation)):
        raise TypeError(f"no plain form for {annotation!r}")
    return annotation


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_has_model(arg) for arg in get_args(annotation))


_NOT_CARRIED = {"ser_json_timedelta", "ser_json_temporal", "ser_json_bytes",
                "ser_json_inf_nan", "use_enum_values", "json_encoders", "alias_generator",
                "serialize_by_alias"}
_TYPED_DICTS: dict[type[BaseModel], Any] = {}


def typed_dict_of(model: type[BaseModel]) -> Any:
    """A TypedDict with the model's fields, each of the field's type and metadata."""
    if model not in _TYPED_DICTS:
        fields = {}
        for name, field in model.model_fields.items():
            if field.alias not in (None, name) or field.serialization_alias not in (None, name):
                raise TypeError(f"{model.__name__}.{name}: aliases are not supported")
            annotation: Any = field.annotation
            if field.metadata:
                annotation = Annotated[(annotation, *field.metadata)]
            fields[name] = _plain(annotation)
        _TYPED_DICTS[model] = TypedDict(f"{model.__name__}Values", fields)  # type: ignore[operator]
    return _TYPED_DICTS[model]


class JsonBody:
    """The JSON of one response model, written from a dict of its fields."""

    def __init__(self, model: type[BaseModel]) -> None:
        if model.model_computed_fields or set(model.model_config) & _NOT_CARRIED:
            raise TypeError(f"{model.__name__}: computed fields and serialization settings "
                            "of the model's own are not carried over")
        self.model = model
        self.fields = tuple(model.model_fields)
        self._adapter: TypeAdapter[Any] = TypeAdapter(typed_dict_of(model))

    def dump(self, values: dict[str, Any]) -> bytes:
        return self._adapter.dump_json(values)

    def response(self, values: dict[str, Any], status_code: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
        return Response(self._adapter.dump_json(values), status_code, headers, media_type=JSON)
