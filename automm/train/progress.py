"""Progress of a run: the progress bar, per-epoch callbacks and the run's stopwatch."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

EpochCallback = Callable[[dict[str, Any]], None]
"""Called with each epoch's record (e.g. to print it)."""


class RunProgress:
    """One progress bar on stderr over all epochs of a run: the current epoch, the elapsed and
    the remaining time of the whole run (advancing per batch; a resumed run starts at its
    epoch). ``enabled=None`` shows it only when stderr is a terminal; ``up_to``: the run may stop
    before ``epochs`` (a stop rule), so the remaining time is that of up to ``epochs`` epochs."""

    FORMAT = "{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"

    def __init__(self, epochs: int, done: int, enabled: bool | None, *, up_to: bool = False) -> None:
        self.epochs = epochs
        bar_format = self.FORMAT + (f" (up to {epochs} epochs)" if up_to else "") + "{postfix}"
        self.bar = tqdm(total=epochs, initial=done, bar_format=bar_format, leave=False,
                        dynamic_ncols=True, smoothing=0, disable=None if enabled is None else not enabled)

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the bar."""
        self.bar.close()

    @contextlib.contextmanager
    def epoch(self, epoch: int, batches: int) -> Iterator[EpochProgress]:
        """Progress within epoch ``epoch`` (1-based) of ``batches`` batches."""
        self.bar.set_description_str(f"epoch {epoch}/{self.epochs}", refresh=False)
        try:
            yield EpochProgress(self.bar, 1 / max(batches, 1))
        except BaseException:
            self.close()  # the error message gets a clean line
            raise
        self.bar.n = epoch  # exact, whatever the rounding of the per-batch steps
        self.bar.refresh()


@dataclass
class EpochProgress:
    """The per-batch view of a :class:`RunProgress`."""

    bar: tqdm
    step: float

    def update(self, batches: int = 1) -> None:
        """Advance by ``batches`` batches."""
        self.bar.update(batches * self.step)

    def set_postfix(self, refresh: bool = False, **values: Any) -> None:
        """Show ``values`` (e.g. the running loss) after the times (drawn now if ``refresh``)."""
        self.bar.set_postfix(values, refresh=refresh)


class Stopwatch:
    """Seconds accumulated across resumed runs."""

    def __init__(self, elapsed: float = 0.0) -> None:
        self._start = time.perf_counter()
        self._base = elapsed

    @property
    def seconds(self) -> float:
        """Seconds so far, including those of earlier runs."""
        return self._base + time.perf_counter() - self._start
