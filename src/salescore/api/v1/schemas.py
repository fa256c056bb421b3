"""What the request and response bodies (and query parameters) of every area are made of:
strict bodies, partial updates, names, ids, text, numbers in their column's range, money and
percentages, dates and times."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

from salescore.domain.errors import InvalidInput


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def _trimmed(text: str) -> str:
    """Surrounding whitespace is dropped; what is left must not be empty."""
    text = text.strip()
    if not text:
        raise ValueError("must not be blank")
    return text


NoNul = AfterValidator(_no_nul)
# Text that is trimmed: its length limits hold for the text as sent, as the spec says, and
# it needs a character that is not whitespace.
Trimmed = AfterValidator(_trimmed)
NOT_BLANK = r"\S"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK),
                 Trimmed, NoNul]
Email = Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=NOT_BLANK),
                  Trimmed, NoNul]
Initials = Annotated[str, StringConstraints(min_length=1, max_length=10), NoNul]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]
# A bigint's range is given in the spec as its format, `int64`: the OpenAPI document holds
# bounds as JSON numbers, which many clients read as doubles, and 2**63 - 1 is not one.
_INT64 = {"type": "integer", "format": "int64"}
Id = Annotated[int, Field(ge=1, le=2**63 - 1), WithJsonSchema({**_INT64, "minimum": 1})]
# JSON true or false only: 0, 1 and "yes" are refused, not read as booleans.
Flag = StrictBool
# Whole numbers as PostgreSQL holds them: `bigint` (ids) and `integer` (positions, counts).
BigInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1), WithJsonSchema(_INT64)]
Integer = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Text = Annotated[str, StringConstraints(max_length=10_000), NoNul]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200,
                                              pattern=NOT_BLANK), Trimmed, NoNul]
CENT = Decimal("0.01")


def _two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


_DECIMAL_STRING = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1250.00"]}
# Money, shares and probabilities go out as JSON strings with two decimals ("25.00") ...
Decimal2 = Annotated[Decimal, PlainSerializer(_two_places, return_type=str),
                     WithJsonSchema(_DECIMAL_STRING, mode="serialization")]
DECIMAL_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class DecimalText:
    """A decimal comes in as a JSON string of plain digits ("1250.00", "-12.5"), never as
    a JSON number: a client's float would already have rounded it (0.1 + 0.2), and a
    generated client should hold it as text or as its own decimal type. In the schema it
    is a string with `example`; the bounds of the type are checked on the number it
    spells."""

    example: str

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_before_validator_function(self._text, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "pattern": DECIMAL_TEXT.pattern, "examples": [self.example]}

    def _text(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        if isinstance(value, str) and DECIMAL_TEXT.fullmatch(value):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            name = f"the {info.field_name}" if info.field_name else "it"
            raise PydanticCustomError("decimal_string", "send {name} as a decimal string, "
                                      "such as {example}, not as a JSON number",
                                      {"name": name, "example": f'"{self.example}"'})
        raise PydanticCustomError("decimal_string", "must be a decimal string, such as "
                                  "{example}", {"example": f'"{self.example}"'})


# ... and come in as such strings with at most two decimals.
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False),
                    DecimalText("1250.00")]
PercentIn = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2,
                                     allow_inf_nan=False), DecimalText("25.00")]
# Filters compare with what a column can hold: numeric(18,2) money, numeric(5,2) percentages.
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2, allow_inf_nan=False),
                  DecimalText("1250.00")]
Percent = Annotated[Decimal, Field(max_digits=5, decimal_places=2, allow_inf_nan=False),
                    DecimalText("25.00")]

_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                        r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def _date_text(value: Any) -> Any:
    """A date comes as `YYYY-MM-DD` text: an epoch number, a time or any other spelling is
    refused, not guessed at (DESIGN.md, Times)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _time_text(value: Any) -> Any:
    """A time comes as RFC 3339 text with its offset (`2026-01-31T09:00:00Z`,
    `...+01:00`): an epoch number, a bare date or a time without offset is refused."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _TIME_TEXT.fullmatch(value):
        raise ValueError("must be a time as RFC 3339 with an offset, "
                         "e.g. 2026-01-31T09:00:00Z")
    return value


def _storable(moment: datetime) -> datetime:
    """Python holds years 1 to 9999 in every offset, so a time near either end may have no
    UTC value to store or compare."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    return moment


DateIn = Annotated[date, BeforeValidator(_date_text)]
TimeIn = Annotated[AwareDatetime, BeforeValidator(_time_text), AfterValidator(_storable)]
_DATES: TypeAdapter[date] = TypeAdapter(DateIn)
_TIMES: TypeAdapter[datetime] = TypeAdapter(TimeIn)


def _time_or_date(value: Any) -> datetime | date:
    """What a time filter takes: a time, or a date (that day's start in the organization's
    zone, which the list works out)."""
    looks_like_a_date = isinstance(value, str) and _DATE_TEXT.fullmatch(value)
    try:
        return _DATES.validate_python(value) if looks_like_a_date else _TIMES.validate_python(
            value)
    except ValidationError as error:
        raise ValueError(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None


TimeOrDateIn = Annotated[datetime | date, PlainValidator(_time_or_date), WithJsonSchema({
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patch(Strict):
    """A partial update: only the fields sent change; `null` only where `NULLABLE` says."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True)
        for field, value in values.items():
            if value is None and field not in self.NULLABLE:
                raise InvalidInput.of(field, "cannot be null")
        return values

