"""Dev-only: install patches on moto's classes for the length of a `with` block, and restore them after."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Wrap = tuple[type, str, Callable[[Any], Any]]
Addition = tuple[type, str, Callable[..., Any]]
_ABSENT = object()


@contextlib.contextmanager
def patched(wrapped: Iterable[Wrap] = (), added: Iterable[Addition] = ()) -> Iterator[None]:
    """Each (owner, name, wrap) in WRAPPED replaces owner.name with wrap(owner.name); each (owner, name,
    function) in ADDED gives owner a method moto lacks. On exit each class is as it was, so blocks nest (a
    session's moto server inside which a test starts another with the same patches)."""
    wrapped, added = list(wrapped), list(added)
    saved = [(owner, name, vars(owner).get(name, _ABSENT)) for owner, name, _ in wrapped + added]
    for owner, name, wrap in wrapped:
        setattr(owner, name, wrap(getattr(owner, name)))
    for owner, name, function in added:
        setattr(owner, name, function)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
