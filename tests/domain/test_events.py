"""The registry of event types: every event the domain records is of a registered type."""

import ast
from pathlib import Path

import pytest

from salescore.domain.events import EVENT_TYPES, DomainEvent

SOURCE = Path(__file__).resolve().parents[2] / "src" / "salescore"


def test_an_event_of_an_unregistered_type_is_refused():
    with pytest.raises(ValueError, match="not a registered event type"):
        DomainEvent("opportunity.teleported", "opportunity", 1)


def test_every_event_type_named_in_the_code_is_registered():
    """Each type written out as the first argument of a DomainEvent (the ones made from a
    kind, such as `f"{kind.value}.created"`, are made in the tests that use them)."""
    named = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DomainEvent"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                named.add(node.args[0].value)
    assert len(named) > 30
    assert named - set(EVENT_TYPES) == set()


def test_every_type_has_a_description_and_the_feed_s_shape():
    for name, description in EVENT_TYPES.items():
        assert name.count(".") == 1 and name == name.lower(), name
        assert description.endswith("."), name
