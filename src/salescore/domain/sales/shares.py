"""Seller shares (DOMAIN.md §3): who is credited with which part of an opportunity.

Shares are held as integer hundredths of a percent (100.00 % is 10000), so every split is
exact; the API shows them as decimals with two places. Sellers are kept in the order they
were added: the earliest first."""

from dataclasses import dataclass, replace
from decimal import Decimal

from salescore.domain.errors import Conflict, InvalidInput, NotFound

WHOLE = 10_000


@dataclass(frozen=True, slots=True)
class Seller:
    user_id: int
    share: int


@dataclass(frozen=True, slots=True)
class ShareWarning:
    code: str
    message: str
    total: int


@dataclass(frozen=True, slots=True)
class ShareChange:
    sellers: tuple[Seller, ...]
    warnings: tuple[ShareWarning, ...] = ()


def to_hundredths(share: Decimal, field: str = "share") -> int:
    """A share as given by a user: more than 0, at most 100, at most two decimals."""
    hundredths = share * 100
    if hundredths != hundredths.to_integral_value():
        raise InvalidInput.of(field, "must have at most two decimals")
    if not 0 < hundredths <= WHOLE:
        raise InvalidInput.of(field, "must be above 0 and at most 100")
    return int(hundredths)


def as_percent(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))


def total(sellers: tuple[Seller, ...]) -> int:
    return sum(s.share for s in sellers)


def first_seller(owner_id: int) -> tuple[Seller, ...]:
    """A new opportunity has one seller, its owner, with 100 % (rule 1)."""
    return (Seller(owner_id, WHOLE),)


def follow_owner(sellers: tuple[Seller, ...], new_owner_id: int) -> tuple[Seller, ...]:
    """A sole seller follows the owner when the owner changes; several sellers stay as they
    are (rule 2)."""
    if len(sellers) == 1:
        return (Seller(new_owner_id, WHOLE),)
    return sellers


def split_equally(amount: int, parts: int) -> list[int]:
    """`amount` hundredths in `parts` equal parts, rounded down, the leftover hundredths
    going one each to the first parts (100.00 in three: 33.34, 33.33, 33.33)."""
    base, leftover = divmod(amount, parts)
    return [base + (1 if i < leftover else 0) for i in range(parts)]


def add_seller(sellers: tuple[Seller, ...], user_id: int, share: int) -> ShareChange:
    """A new seller takes `share`; the sellers already there split the rest equally, leftover
    hundredths going to the earliest added (rule 3). A user is a seller once (rule 7), and
    with others present the new share must leave each of them at least 0.01."""
    if any(s.user_id == user_id for s in sellers):
        raise Conflict("this user is a seller on the opportunity already")
    if sellers and share >= WHOLE:
        raise InvalidInput.of("share", "must be below 100 while there are other sellers")
    if sellers and WHOLE - share < len(sellers):
        raise InvalidInput.of("share", "leaves less than 0.01 for each of the other sellers")
    parts = split_equally(WHOLE - share, len(sellers)) if sellers else []
    kept = tuple(replace(s, share=p) for s, p in zip(sellers, parts, strict=True))
    return ShareChange((*kept, Seller(user_id, share)))


def remove_seller(sellers: tuple[Seller, ...], user_id: int) -> ShareChange:
    """Removing a seller: a sole remaining seller gets 100 % (rule 4); several remaining keep
    their shares and the answer warns of the total (rule 5); the last seller stays (rule 7)."""
    _find(sellers, user_id)
    if len(sellers) == 1:
        raise Conflict("the last seller cannot be removed")
    rest = tuple(s for s in sellers if s.user_id != user_id)
    if len(rest) == 1:
        return ShareChange((replace(rest[0], share=WHOLE),))
    return ShareChange(rest, _total_warning(rest))


def change_share(sellers: tuple[Seller, ...], user_id: int, share: int) -> ShareChange:
    """One seller's share changes and nothing else; the answer warns when the total is not
    100 % (rule 6)."""
    _find(sellers, user_id)
    changed = tuple(replace(s, share=share) if s.user_id == user_id else s for s in sellers)
    return ShareChange(changed, _total_warning(changed))


def _find(sellers: tuple[Seller, ...], user_id: int) -> Seller:
    for seller in sellers:
        if seller.user_id == user_id:
            return seller
    raise NotFound("seller")


def _total_warning(sellers: tuple[Seller, ...]) -> tuple[ShareWarning, ...]:
    summed = total(sellers)
    if summed == WHOLE:
        return ()
    side = "below" if summed < WHOLE else "above"
    return (ShareWarning("total_share_not_100",
                         f"the sellers' shares add up to {as_percent(summed)} %, {side} 100 %",
                         summed),)
