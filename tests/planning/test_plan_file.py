"""plan.yaml: written readable, read back, and applied under the user's overrides."""

from __future__ import annotations

import pytest
import yaml

from seglight.errors import ConfigError
from seglight.planning.plan_file import (
    expand_plan_argument,
    hydra_value,
    merge_plan,
    read_overrides,
    write_plan,
)

ROWS = [("model", "unet_xy_padded", "anisotropic"), ("model.net.width", 8, "fits"),
        ("data.patch_zyx", [16, 48, 48], "context"), ("data.batch_size", 4, "memory"),
        ("model.scheduler", {"_target_": "a.b", "_partial_": True}, "spans the run")]


def test_hydra_values():
    assert hydra_value([16, 48, 48]) == "[16,48,48]"
    assert hydra_value(None) == "null" and hydra_value(True) == "true"
    assert hydra_value({"_target_": "a.b", "n": 2}) == "{_target_:a.b,n:2}"
    assert hydra_value("/data/my images") == "'/data/my images'"


def test_plan_file_round_trip_with_reasons(tmp_path):
    path = write_plan(tmp_path / "plan.yaml", ROWS, ["a plan"], {"fingerprint": {"n": 1}})
    text = path.read_text()
    assert "data.batch_size: 4" in text and "# memory" in text  # one line, with its reason
    assert yaml.safe_load(text)["fingerprint"] == {"n": 1}
    assert read_overrides(path) == [(k, v) for k, v, _ in ROWS]


def test_user_overrides_come_after_the_plan_and_win():
    merged, dropped = merge_plan([(k, v) for k, v, _ in ROWS], ["data.batch_size=2", "seed=1"])
    assert merged[-2:] == ["data.batch_size=2", "seed=1"]
    assert "data.batch_size=4" not in merged     # one value per key
    assert merged[0] == "model=unet_xy_padded" and not dropped


def test_another_network_drops_the_planned_network_settings():
    merged, dropped = merge_plan([(k, v) for k, v, _ in ROWS], ["model=dynunet"])
    assert "model.net.width=8" not in merged and "model=unet_xy_padded" not in merged
    assert "data.patch_zyx=[16,48,48]" in merged
    assert dropped == ["model.net.width=8 (planned for another network)"]


def test_plan_argument_expands_and_stays_recorded(tmp_path):
    path = write_plan(tmp_path / "plan.yaml", ROWS, [], {})
    args = expand_plan_argument([f"plan={path}", "data.batch_size=1"])
    assert args[0] == "model=unet_xy_padded"
    assert args.index("data.batch_size=1") > args.index("data.patch_zyx=[16,48,48]")
    assert args[-1] == f"plan={path}"
    assert expand_plan_argument(["seed=1"]) == ["seed=1"]


def test_missing_or_foreign_plan_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        read_overrides(tmp_path / "nope.yaml")
    (tmp_path / "other.yaml").write_text("model: x\n")
    with pytest.raises(ConfigError, match="no 'overrides:'"):
        read_overrides(tmp_path / "other.yaml")
