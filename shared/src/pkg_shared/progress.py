"""Progress for long work: a bar on a terminal, a periodic one-line status otherwise, nothing when quiet.

``progress(iterable, desc=..., total=...)`` is what every package's loop uses. On a terminal it is a tqdm
bar on stderr; when stderr is a pipe or a CI log it prints ``desc: i/total (p%) elapsed 1m02s`` at most
every ``interval`` seconds (and at the end), so a long command is never silent for minutes; with
``quiet`` it prints nothing. ``status(text)`` prints one such line at once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
INTERVAL = 20.0


def _clock(seconds: float) -> str:
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes}m{s:02d}s" if minutes else f"{s}s"


def status(text: str, *, quiet: bool = False) -> None:
    """Print one status line on stderr (unless ``quiet``), flushed at once."""
    if not quiet:
        print(text, file=sys.stderr, flush=True)


class _Lines:
    """The non-terminal progress: one line every ``interval`` seconds."""

    def __init__(
        self, iterable: Iterable[T], desc: str, total: int | None, interval: float, initial: int
    ) -> None:
        self.iterable, self.desc, self.total, self.interval = iterable, desc, total, interval
        self.n, self.postfix = initial, ""
        self.t0 = self.last = time.monotonic()

    def set_postfix(self, values: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in {**(values or {}), **kwargs}.items())

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def _line(self) -> str:
        done = f"{self.n}/{self.total} ({100 * self.n / self.total:.0f}%)" if self.total else f"{self.n}"
        extra = f" {self.postfix}" if self.postfix else ""
        return f"{self.desc}: {done} elapsed {_clock(time.monotonic() - self.t0)}{extra}"

    def __iter__(self) -> Iterator[T]:
        for item in self.iterable:
            yield item
            self.n += 1
            now = time.monotonic()
            if now - self.last >= self.interval:
                self.last = now
                status(self._line())
        if time.monotonic() - self.t0 >= self.interval:
            status(self._line())

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass


class _Silent(_Lines):
    def __iter__(self) -> Iterator[T]:
        yield from self.iterable


def progress(
    iterable: Iterable[T],
    *,
    quiet: bool = False,
    desc: str = "",
    total: int | None = None,
    initial: int = 0,
    interval: float = INTERVAL,
    **kwargs: Any,
) -> Any:
    """Wrap ``iterable`` with progress (see the module docstring); supports ``set_postfix``."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable) + initial  # type: ignore[arg-type]
    if quiet:
        return _Silent(iterable, desc, total, interval, initial)
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(
            iterable, desc=desc, total=total, initial=initial, leave=False, dynamic_ncols=True, **kwargs
        )
    return _Lines(iterable, desc, total, interval, initial)
