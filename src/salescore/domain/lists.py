"""Organization-defined lists: opportunity types, sources and loss reasons (DOMAIN.md §1)."""

from enum import StrEnum


class ListKind(StrEnum):
    OPPORTUNITY_TYPE = "opportunity_type"
    SOURCE = "source"
    LOSS_REASON = "loss_reason"
