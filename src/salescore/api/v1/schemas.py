"""What the request and response bodies of every area are made of: strict bodies, partial
updates, names, ids, text, money and percentages."""

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from salescore.domain.errors import InvalidInput


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 NoNul]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320),
                  NoNul]
Initials = Annotated[str, StringConstraints(min_length=1, max_length=10), NoNul]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=10_000), NoNul]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=200), NoNul]
CENT = Decimal("0.01")


def _two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


_DECIMAL_STRING = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1250.00"]}
# Money, shares and probabilities go out as JSON strings with two decimals ("25.00") ...
Decimal2 = Annotated[Decimal, PlainSerializer(_two_places, return_type=str),
                     WithJsonSchema(_DECIMAL_STRING, mode="serialization")]
# ... and come in as such strings (or JSON numbers) with at most two decimals.
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
PercentIn = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2,
                                     allow_inf_nan=False)]


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

