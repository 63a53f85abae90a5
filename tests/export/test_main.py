"""``python -m seglight.export``: its config, its one-line errors, --help, and the old
``python -m seglight.predict.export`` that says where the command moved."""

from __future__ import annotations

import pytest

from seglight.errors import ConfigError
from seglight.export.__main__ import export, package_arguments
from tests.bioimageio.conftest import compose_export
from tests.helpers.cli_utils import run_module


def test_free_text_settings_are_taken_as_typed():
    cfg = compose_export([
        "ckpt_path=best.ckpt", "out=lamin.zip", "format=bioimageio",
        "authors=Ada Lovelace,Alan Turing", "tags=lamin-b1,nuclear-envelope",
        "name=Lamin B1 (hiPSC 100x)", "license=CC-BY-4.0", "channel=1",
        """cite=[{"text": "Our paper (2027)", "doi": "10.1234/abcd"}]""",
    ])
    assert package_arguments(cfg) == {
        "authors": ["Ada Lovelace", "Alan Turing"], "tags": ["lamin-b1", "nuclear-envelope"],
        "name": "Lamin B1 (hiPSC 100x)", "license": "CC-BY-4.0", "channel": 1,
        "cite": [{"text": "Our paper (2027)", "doi": "10.1234/abcd"}],
    }
    assert package_arguments(compose_export(["ckpt_path=a", "out=b"])) == {}


@pytest.mark.parametrize("args, message", [
    (["out=model.pt"], "ckpt_path= is missing"),
    (["ckpt_path=best.ckpt"], "out= is missing"),
    (["ckpt_path=best.ckpt", "out=m.pt", "window_zyx=[8,32]"], "three sizes"),
    (["ckpt_path=best.ckpt", "out=m.pt", "format=keras"], "use one of"),
    (["ckpt_path=best.ckpt", "out=m.pt", "license=MIT"], "only with format=bioimageio"),
    (["ckpt_path=best.ckpt", "out=m.zip", "format=bioimageio", "cite=Our paper"], "cite:"),
])
def test_a_bad_setting_is_one_line(args, message):
    with pytest.raises(ConfigError, match=message) as err:
        export(compose_export(args))
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_help_and_the_old_command_saying_where_it_moved(tmp_path):
    helped = run_module("seglight.export", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert "python -m seglight.export ckpt_path=FILE out=FILE" in helped.stdout
    assert "allow_inexact" in helped.stdout
    old = run_module("seglight.predict.export", f"ckpt_path={tmp_path / 'none.ckpt'}",
                     "out=m.pt", cwd=tmp_path)
    lines = old.stderr.strip().splitlines()
    assert old.returncode == 2 and len(lines) == 2, old.stderr
    assert "moved to python -m seglight.export" in lines[0]
    assert lines[1].startswith("error: ckpt_path=") and "none.ckpt" in lines[1]
