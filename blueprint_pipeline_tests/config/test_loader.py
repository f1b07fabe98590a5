"""Config loading: defaults, overrides, clear errors naming the file and key, the config version."""

from __future__ import annotations

import pytest
import yaml

from blueprint_pipeline.config import load_config
from blueprint_pipeline.errors import ConfigError
from blueprint_pipeline.paths import DEFAULT_CONFIG_DIR


def test_defaults_load():
    loaded = load_config()
    assert loaded.config.sources.file_names["salesforce"]["accountData.csv"] == "Account"
    assert len(loaded.version) == 12


def test_override_replaces_a_section_and_changes_the_version(tmp_path):
    (tmp_path / "sources.yaml").write_text("file_names:\n  salesforce:\n    accts.csv: Account\n")
    loaded = load_config(tmp_path)
    assert loaded.config.sources.file_names == {"salesforce": {"accts.csv": "Account"}}
    assert loaded.version != load_config().version
    assert loaded.sources["sources"] == str(tmp_path / "sources.yaml")


def test_same_meaning_same_version(tmp_path):
    # The shipped defaults reformatted, comments dropped, keys reordered: the same config.
    shipped = yaml.safe_load((DEFAULT_CONFIG_DIR / "sources.yaml").read_text())
    reordered = dict(reversed(list(shipped.items())))
    (tmp_path / "sources.yaml").write_text("# mine\n" + yaml.safe_dump(reordered, default_flow_style=True))
    assert load_config(tmp_path).version == load_config().version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file_names: [1, 2]\n", r"sources.yaml: key 'file_names': Input should be a valid dictionary"),
        ("filenames: {}\n", r"sources.yaml: key 'filenames': Extra inputs are not permitted"),
        ("file_names: {salesforce: {a.csv: [x]}}\n", r"key 'file_names.salesforce.a.csv'"),
        ("file_names: {salesforce: [\n", r"sources.yaml line 2: not valid YAML"),
    ],
)
def test_bad_file_names_file_and_key(tmp_path, text, message):
    (tmp_path / "sources.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_unknown_file_and_missing_dir(tmp_path):
    (tmp_path / "scorring.yaml").write_text("{}")
    with pytest.raises(
        ConfigError, match=r"scorring.yaml: unknown config file; expected one of sources.yaml"
    ):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope")
