"""Collect every problem of one input and report them together, as CONVENTIONS.md asks."""

from __future__ import annotations


class Problems:
    """Accumulates problems of one construct's props; ``raise_if_any`` raises them as one error."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._items: list[str] = []

    def add(self, message: str) -> None:
        self._items.append(message)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.add(message)

    def raise_if_any(self) -> None:
        if not self._items:
            return
        if len(self._items) == 1:
            raise ValueError(f"{self._owner}: {self._items[0]}")
        lines = "\n".join(f"  - {item}" for item in self._items)
        raise ValueError(f"{self._owner}: {len(self._items)} problems:\n{lines}")
