"""Small helpers the GUI tests share: typing like a user, counting what is written."""

from __future__ import annotations

from typing import Any


def type_into(qtbot: Any, spin: Any, text: str) -> None:
    """Replace a spin box's text by typing, as a user selecting all and typing would."""
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def count_writes(window: Any, monkeypatch: Any) -> list[Any]:
    """The changes the window's host client is asked to write, recorded as they go."""
    calls: list[Any] = []
    client = window.session.client
    original = client.set_memory

    def counting(vm: Any, change: Any) -> Any:
        calls.append(change)
        return original(vm, change)

    monkeypatch.setattr(client, "set_memory", counting)
    return calls
