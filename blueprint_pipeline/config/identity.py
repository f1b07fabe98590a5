"""Config section `identity.person_matching`: probabilistic person matching (docs/identity.md)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel

# Local parts of addresses a team shares: such an address says nothing about who wrote in.
ROLE_MAILBOXES = (
    "admin", "billing", "contact", "enquiries", "events", "finance", "hello", "help", "hr", "info",
    "inquiries", "it", "jobs", "marketing", "media", "office", "orders", "press", "procurement",
    "purchasing", "reception", "sales", "service", "support", "team",
)  # fmt: skip


class PersonMatchingPolicy(StrictModel):
    """Splink scores pairs of records the deterministic edges left apart. At or above
    `merge_threshold` they are one person; from `review_floor` up to it they go to
    person_match_review; below it they stay apart. The decisions file wins over the model."""

    enabled: bool = Field(default=True, description="off: only the deterministic edges (ids, email)")
    merge_threshold: float = Field(
        default=0.99, gt=0, lt=1, description="match probability at or above which two records are one person"
    )
    review_floor: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="match probability from which a pair below the threshold is reviewed",
    )
    decisions_file: str = Field(
        default="person_match_decisions.csv",
        description="CSV in the config directory: source_key, other_key, decision (same/different), "
        "decided_by, decided_at, note.",
    )
    model_file: str | None = Field(
        default=None,
        description="A Splink model (JSON) in the config directory used as it is, instead of training "
        "one on each build: frozen parameters, the same weights whatever the data.",
    )
    retrain_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="the trained model is reused until more than this share of the records it was "
        "trained on are new, changed or gone (then retrained: a new version re-scores every pair); "
        "0 retrains on any change",
    )
    seed: int = Field(
        default=7, description="seed of the records sampled to estimate u (training is deterministic)"
    )
    max_pairs_for_u: int = Field(
        default=1_000_000,
        ge=1000,
        description="u is estimated on a sample of the records giving about this many pairs "
        "(chosen by the md5 of each record's id and the seed: the same sample on every warehouse)",
    )
    max_block_records: int = Field(
        default=50,
        ge=2,
        description="a name (or name and city) held by more live records than this is no blocking key "
        "on its own: its records are compared only where a second key agrees (company, work domain, "
        "phone); more finds namesakes without a firm, at a cost growing with its square",
    )

    role_mailboxes: list[str] = Field(
        default=list(ROLE_MAILBOXES),
        description="Local parts of shared role addresses (info@, sales@, ...): such an address never "
        "joins two records by email; a list here replaces the shipped one.",
    )

    @field_validator("role_mailboxes")
    @classmethod
    def _local_parts(cls, value: list[str]) -> list[str]:
        parts = [v.strip().lower() for v in value]
        bad = sorted({v for v in parts if not v or "@" in v or " " in v or "+" in v})
        if bad:
            raise ValueError(
                f"role_mailboxes {bad} are not an address's local part (info, sales, ...; a +tag is "
                "ignored in addresses, so none belongs here)"
            )
        return sorted(set(parts))

    @model_validator(mode="after")
    def _floor_below_threshold(self) -> PersonMatchingPolicy:
        if self.review_floor > self.merge_threshold:
            raise ValueError(
                f"review_floor {self.review_floor} is above merge_threshold {self.merge_threshold}: "
                "set review_floor at or below the threshold too (the shipped one is 0.8)"
            )
        return self
