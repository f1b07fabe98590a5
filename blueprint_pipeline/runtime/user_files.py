"""The data files a config directory holds beside its YAML (link decisions, a frozen person-match
model, static account lists,
buying-group overrides, stage changes), all read and checked before a run starts (`blueprint run`,
`blueprint validate-config`), so a bad line stops nothing half-way."""

from __future__ import annotations

from blueprint_pipeline.audiences.membership import read_static_list, static_list_path
from blueprint_pipeline.buying_groups.groups import read_overrides
from blueprint_pipeline.buying_groups.stages import read_stage_changes
from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.identity.links import decisions_for
from blueprint_pipeline.identity.matching.decisions import person_decisions_for
from blueprint_pipeline.identity.matching.model import read_model_file, version


def check_user_files(loaded: LoadedConfig) -> list[str]:
    """One line per file found (for validate-config); raises ConfigError on the first bad one."""
    found = []
    decisions = decisions_for(loaded)
    if decisions.path:
        found.append(f"account link decisions: {decisions.path} ({len(decisions.frame)} pairs)")
    matching = loaded.config.identity.person_matching
    if matching.model_file:
        path = loaded.user_file(matching.model_file)
        model = read_model_file(path, matching.model_file)
        found.append(f"person match model: {path} (version {version(model)})")
    person_decisions = person_decisions_for(loaded)
    if person_decisions.path:
        found.append(f"person match decisions: {person_decisions.path} ({len(person_decisions.frame)} pairs)")
    for name, audience in sorted(loaded.config.audiences.audiences.items()):
        if audience.static_list:
            path = static_list_path(loaded, audience.static_list)
            found.append(f"audience {name}: {path} ({len(read_static_list(path, name))} accounts)")
    buying_groups = loaded.config.buying_groups
    overrides = read_overrides(loaded.user_file(buying_groups.overrides_file), buying_groups)
    if overrides.path:
        found.append(f"buying-group overrides: {overrides.path} ({len(overrides.frame)} lines)")
    stages = loaded.config.stages
    changes_path = loaded.user_file(stages.changes_file)
    if changes_path and changes_path.exists():
        changes = read_stage_changes(changes_path, stages, buying_groups)
        found.append(f"stage changes: {changes_path} ({len(changes)} lines)")
    return found
