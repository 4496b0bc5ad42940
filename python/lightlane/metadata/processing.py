"""ProcessingParameters (SPEC §5.3): how both datasets of a comparison are analysed."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from ..store.hashing import sha256_json
from .documents import Document
from .schema import Check, Context, at_least, between, greater, spec, to_json
from .values import Band, id_check, seed_check

__all__ = ["METRICS", "Metric", "RandomWidths", "ListWidths", "Crop", "Mask", "ProcessingParameters"]

Metric = Literal["ev", "evs", "fel", "feg", "vea", "vesa", "oec", "fvar", "fvar_err", "nxs", "fadj"]
METRICS: tuple[str, ...] = ("ev", "evs", "fel", "feg", "vea", "vesa", "oec", "fvar", "fvar_err", "nxs", "fadj")
DEFAULT_TEST_METRICS = ("ev", "evs", "fel", "feg", "vea", "vesa", "oec")


@dataclass(frozen=True)
class RandomWidths:
    """``count`` widths drawn once from the WIDTHS stream between from_s and to_s."""

    kind: Literal["random"] = "random"
    from_s: float = spec(20.0, check=greater(0))
    to_s: float = spec(300.0, check=greater(0))
    count: int = spec(30, check=between(1, 1000))
    distribution: Literal["uniform", "log-uniform"] = "uniform"

    def _validate(self, ctx: Context) -> None:
        if not self.from_s < self.to_s:
            raise ctx.child("to_s").error(f"number > from_s ({self.from_s!r})", self.to_s)


def _distinct(values: tuple[float, ...]) -> bool:
    return len(set(values)) == len(values)


@dataclass(frozen=True)
class ListWidths:
    """An explicit list of time-bin widths [s]."""

    widths_s: tuple[float, ...] = spec(
        check=Check(lambda v: 1 <= len(v) <= 1000 and _distinct(v) and all(w > 0 for w in v),
                    "1–1000 distinct positive values")
    )
    kind: Literal["list"] = "list"


@dataclass(frozen=True)
class Crop:
    """Circular selection in sky pixels."""

    x_px: float
    y_px: float
    radius_px: float = spec(check=greater(0))


@dataclass(frozen=True)
class Mask:
    """Drop events near the ``top_pixels`` brightest sky pixels."""

    top_pixels: int = spec(1000, check=at_least(1))
    half_size_px: int = spec(3, check=at_least(0))


def _unique_non_empty(values: tuple[str, ...]) -> bool:
    return len(values) >= 1 and _distinct(values)


@dataclass(frozen=True)
class ProcessingParameters(Document):
    """Every analysis choice; its hash (without ``id``) keys caches and baselines.

    ``bootstrap_resamples`` is kept for compatibility and ignored: P1b/P1c use the
    exact (ideal) bootstrap of SPEC §11.3 rev 2, which draws no resamples. Files
    still carry it, it is still validated (100–100 000) and it still counts in
    the hash, so existing processing ids and cache keys are unchanged.
    """

    FOLDER: ClassVar[str] = "processing"

    id: str = spec(check=id_check())
    band: Band = Band(0.1, 1.0, 100)
    time_bins: RandomWidths | ListWidths = RandomWidths()
    chunk_length: int = spec(12, check=Check(lambda v: v % 2 == 0 and 4 <= v <= 1000, "even, 4 ≤ L ≤ 1000"))
    chunk_count: int = spec(100_000, check=between(100, 100_000_000))
    min_exposure: float = spec(0.99, check=between(0, 1, open_low=True))
    tail_fraction: float = spec(0.001, check=between(0, 0.5, open_low=True, open_high=True))
    top_fraction: float = spec(0.01, check=between(0, 0.5, open_low=True))
    significance_level: float = spec(0.01, check=between(0, 0.5, open_low=True, open_high=True))
    ci_level: float = spec(0.95, check=between(0.5, 1, open_low=True, open_high=True))
    bootstrap_resamples: int = spec(1000, check=between(100, 100_000))  # ignored (exact bootstrap), see above
    primary_metric: Metric = "vesa"
    test_metrics: tuple[Metric, ...] = spec(DEFAULT_TEST_METRICS, check=Check(_unique_non_empty, "non-empty, no repeats"))
    crop: Crop | None = None
    mask: Mask | None = None
    seed: int = spec(0, check=seed_check)
    # P3 (SPEC §11.9): time resolution (None: max(1 s, the frame time TIMEDEL)), ln f steps, slope grid [1/nm]
    p3_dt_s: float | None = spec(None, check=Check(lambda v: v is None or v > 0, "> 0"))
    p3_log_bins: int = spec(512, check=between(2, 100_000))
    p3_slope_min: float = spec(-1.0)
    p3_slope_max: float = spec(4.0)
    p3_slope_count: int = spec(251, check=between(1, 100_000))
    schema: Literal[1] = 1

    def _validate(self, ctx: Context) -> None:
        if not self.p3_slope_min <= self.p3_slope_max:
            raise ctx.child("p3_slope_max").error(f"number ≥ p3_slope_min ({self.p3_slope_min!r})", self.p3_slope_max)

    def _to_json(self) -> dict:
        """Every field, but the P3 settings only where they differ from their defaults: files and
        hashes of processings made before P3 existed stay as they were."""
        document = {f.name: to_json(getattr(self, f.name)) for f in fields(self)}
        for name in _P3_FIELDS:
            if document[name] == _P3_DEFAULTS[name]:
                del document[name]
        return document

    def content_json(self) -> dict:
        """The canonical JSON without ``id``: every field a result depends on (hashes, cache keys)."""
        document = to_json(self)
        del document["id"]
        return document

    def processing_hash(self) -> str:
        """SHA-256 of the canonical JSON without ``id``: every other field counts."""
        return sha256_json(self.content_json())


_P3_FIELDS = ("p3_dt_s", "p3_log_bins", "p3_slope_min", "p3_slope_max", "p3_slope_count")
_P3_DEFAULTS = {f.name: to_json(f.default) for f in fields(ProcessingParameters) if f.name in _P3_FIELDS}
