"""Callback bodies for the adapters' tests: one member changed by its dotted path, and
arbitrary JSON for fuzzing."""

import copy
from typing import Any

from hypothesis import strategies as st

MISSING = object()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)


def replaced(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the member at `path` (`data.signers.0.name`) set to `value`, or
    removed when `value` is MISSING; unchanged when the path no longer leads anywhere."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = changed
    for part in parents:
        node = _child(node, part)
        if node is None:
            return changed
    if isinstance(node, dict):
        if value is MISSING:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        if value is MISSING:
            del node[int(last)]
        else:
            node[int(last)] = value
    return changed


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None
