"""The config schema. Every model forbids unknown keys so that a typo is an error, not a no-op."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcesConfig(StrictModel):
    """How landing files map to source objects (see docs/sources.md)."""

    file_names: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            "Per system, extra file names (exact, case-insensitive) mapped to an object, for exports "
            "whose names do not follow `<Object>.csv`, e.g. the Data Loader's accountData.csv."
        ),
    )

    header_aliases: dict[str, dict[str, dict[str, list[str]]]] = Field(
        default_factory=dict,
        description=(
            "Per system and object, other header names for a contract field, e.g. the Marketo field "
            "that holds SMS consent, or a LinkedIn form's own label for the email question."
        ),
    )

    def aliases_for(self, system: str, obj: str) -> dict[str, list[str]]:
        return self.header_aliases.get(system, {}).get(obj, {})


class BlueprintConfig(StrictModel):
    """The whole config; each field is one YAML file `<field>.yaml` in the config directory."""

    sources: SourcesConfig = Field(default_factory=SourcesConfig)
