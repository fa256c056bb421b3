"""A process's bounded memory of recent clients (rate-limit buckets, failed logins)."""

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The values of the `max_entries` keys stored last: storing one more forgets the one
    stored longest ago, so that a flood of new clients costs bounded memory."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def touch(self, key: K) -> V | None:
        """`get`, counting the key as stored last (it is forgotten last)."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def put_or_drop(self, key: K, value: V | None) -> None:
        if value is None:
            self.drop(key)
        else:
            self.put(key, value)

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)
