"""Config helpers: the working-directory resolver and plain values from OmegaConf."""

from __future__ import annotations

import os

from omegaconf import OmegaConf

from seglight.config import to_plain


def test_to_plain_turns_configs_inside_anything_into_dicts_and_lists():
    cfg = OmegaConf.create({"a": [1, 2], "b": {"c": "${a}"}})
    value = to_plain({"cfg": cfg, "t": (OmegaConf.create([3]), 4)})
    assert value == {"cfg": {"a": [1, 2], "b": {"c": [1, 2]}}, "t": [[3], 4]}
    assert type(value["cfg"]["b"]) is dict
    assert to_plain(None) is None and to_plain(2.5) == 2.5


def test_seglight_cwd_resolves_to_the_working_directory():
    assert OmegaConf.create({"root": "${seglight_cwd:}"}).root == os.getcwd()
