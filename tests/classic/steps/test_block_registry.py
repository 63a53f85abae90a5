"""The block registry (seglight.classic.steps.block_registry)."""

from __future__ import annotations

import pytest

from seglight.classic import blocks  # noqa: F401 - registers the library's blocks
from seglight.classic.steps import BLOCKS, block, get_block
from seglight.errors import ConfigError


def test_every_block_has_a_family_and_one_help_line():
    assert len(BLOCKS) >= 20
    for blk in BLOCKS.values():
        assert blk.help and "\n" not in blk.help and blk.family


def test_an_unknown_block_is_one_line_naming_the_valid_ones():
    with pytest.raises(ConfigError, match=r"^steps.x: unknown block 'gausian_3d'; choose one"):
        get_block("gausian_3d", "steps.x")


def test_registration_refuses_a_second_name_a_bad_kind_and_an_unannotated_argument():
    def fn(image, *, sigma: float = 1.0):
        """Does nothing."""
        return image

    with pytest.raises(ValueError, match="registered twice"):
        block("gaussian_3d", ("image",), "image")(fn)
    with pytest.raises(ValueError, match="kind 'volume'"):
        block("test_only_bad_kind", ("volume",), "image")(fn)
    assert "test_only_bad_kind" not in BLOCKS

    def untyped(image, *, sigma=1.0):
        return image

    try:
        with pytest.raises(KeyError):
            block("test_only_untyped", ("image",), "image")(untyped)
    finally:
        BLOCKS.pop("test_only_untyped", None)
