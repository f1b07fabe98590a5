"""Named sizes for `blueprint generate --scale`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    accounts: int
    persons: int
    activities: int


SCALES = {
    "tiny": Scale(accounts=40, persons=400, activities=4_000),
    "demo": Scale(accounts=300, persons=3_000, activities=60_000),
    "small": Scale(accounts=2_000, persons=20_000, activities=400_000),
    "medium": Scale(accounts=20_000, persons=200_000, activities=4_000_000),
    "large": Scale(accounts=100_000, persons=1_000_000, activities=20_000_000),
    # A large B2B company's CRM and Marketo: ~31 GB as CSV, ~6 GB with --compress (docs/benchmarks.md).
    "xlarge": Scale(accounts=1_000_000, persons=10_000_000, activities=200_000_000),
}


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; expected one of {', '.join(SCALES)}") from None
