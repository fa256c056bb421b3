"""Access tokens: the one module that imports python-jose.

HS256 only, named explicitly on both sides; `exp`, `iat`, `iss`, `aud` and `sub` are all
required (python-jose would otherwise accept a token without `aud` or `exp`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from jose import JWTError, jwk, jwt

from salescore.domain.errors import NotAuthenticated

ALGORITHM = "HS256"
_REQUIRED = ("exp", "iat", "iss", "aud", "sub")
_OPTIONS = {f"require_{claim}": True for claim in _REQUIRED} | {"leeway": 0}


@dataclass(frozen=True, slots=True)
class TokenSettings:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class TokenClaims:
    organization_id: int
    user_id: int
    expires_at: int  # `exp`: seconds since the epoch


def issue_token(settings: TokenSettings, *, organization_id: int, user_id: int,
                now: datetime) -> str:
    claims = {
        "sub": str(user_id), "org": organization_id, "iss": settings.issuer,
        "aud": settings.audience, "iat": int(now.timestamp()),
        "exp": int((now + settings.ttl).timestamp()),
    }
    return str(jwt.encode(claims, settings.secret, algorithm=ALGORITHM))


@lru_cache(maxsize=4)
def _verifying_key(secret: str) -> Any:
    """The HS256 key, made once: python-jose would otherwise rebuild it for every token."""
    return jwk.construct(secret, ALGORITHM)


def read_token(settings: TokenSettings, token: str) -> TokenClaims:
    """The claims of a valid token; anything else is NotAuthenticated."""
    try:
        claims = jwt.decode(token, _verifying_key(settings.secret), algorithms=[ALGORITHM],
                            audience=settings.audience, issuer=settings.issuer,
                            options=_OPTIONS)
        return TokenClaims(organization_id=int(claims["org"]), user_id=int(claims["sub"]),
                           expires_at=int(claims["exp"]))
    except (JWTError, KeyError, TypeError, ValueError) as error:
        raise NotAuthenticated("the token is invalid or expired") from error
