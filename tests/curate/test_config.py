"""The curate configuration: every mistake caught, in one line, before any work."""

import pytest

from seglight.curate import curate
from seglight.curate.config import CurateConfig
from seglight.errors import ConfigError

# --- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": "sort"}, "choose mode=takeall, sorting or merging"),
        ({"seg": None}, "mode=takeall needs seg="),
        ({"mode": "sorting"}, "mode=sorting needs decisions="),
        ({"mode": "merging", "seg": None, "seg1": "SEG", "seg2": "SEG"},
         "needs decisions=FILE.csv"),
        ({"raw": "nope"}, "raw=nope: no such folder"),
        ({"out": "RAW"}, "the Curator never writes into its inputs"),
        ({"normalize": True}, "normalize=true needs a recipe"),
        ({"normalize": True, "normalization": [{"op": "nope"}]}, "unknown op 'nope'"),
        ({"prefix": "a/b"}, "prefix='a/b'"),
        ({"seg1": "SEG"}, "are for mode=merging"),
    ],
)
def test_config_errors_are_caught_before_any_work(folders, overrides, message):
    values = {"raw": str(folders["raw"]), "seg": str(folders["seg"]), "out": str(folders["out"])}
    aliases = {"RAW": values["raw"], "SEG": values["seg"]}
    for key, value in overrides.items():
        values[key] = aliases.get(value, value) if isinstance(value, str) else value
    with pytest.raises(ConfigError, match=message):
        curate(values, progress=False)
    assert not folders["out"].exists()


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['sgement'\]"):
        CurateConfig.from_mapping({"sgement": "x"})
