"""Password hashing runs beside the event loop, not on it: an argon2 hash takes a tenth of
a second at its defaults, which every other request would wait through."""

import asyncio
import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, profiles

from salescore.services.access.credentials import (
    hash_password,
    password_matches,
    use_password_hasher,
)


class WaitingHasher(PasswordHasher):
    """Hashes and verifies only once `go` is set: from the event loop, while it works."""

    def __init__(self, go: threading.Event) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.go = go

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        assert self.go.wait(5), "the loop did not run while the hash was made"
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        assert self.go.wait(5), "the loop did not run while the password was checked"
        return super().verify(hash, password)


@pytest.fixture
def cheap_again() -> Iterator[None]:
    yield
    use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


async def test_hashing_and_checking_leave_the_loop_free(cheap_again: None) -> None:
    go = threading.Event()
    use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    stored = await hash_password("secret password")
    go.set()  # the hash to check unknown e-mails against is made as the hasher is set
    use_password_hasher(WaitingHasher(go))
    go.clear()

    async def release() -> None:
        await asyncio.sleep(0)
        go.set()

    made, _ = await asyncio.gather(hash_password("another one"), release())
    go.clear()
    right, _ = await asyncio.gather(password_matches(stored, "secret password"), release())
    go.clear()
    wrong, _ = await asyncio.gather(password_matches(None, "secret password"), release())
    assert made.startswith("$argon2id$")
    assert (right, wrong) == (True, False)
