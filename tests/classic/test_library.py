"""The block library: derived from the block registry, a default for every argument, and
which blocks fit at a place of a pipeline."""

from __future__ import annotations

from seglight.classic.library import available_kinds, block_library, blocks_valid_at
from seglight.classic.registry import get_pipeline, list_workflows
from seglight.classic.steps import BLOCKS
from seglight.classic.validation import VALUE_KINDS, _kind


def test_every_registered_block_is_in_the_library_with_its_kinds():
    library = block_library()
    assert sorted(library) == sorted(BLOCKS)
    for name, spec in library.items():
        blk = BLOCKS[name]
        assert spec.inputs == blk.kind_in and spec.outputs == blk.kinds_out, name
        assert [a.name for a in spec.arguments] == list(blk.arguments()), name


def test_every_argument_has_a_default_of_its_kind_and_a_help_line():
    for name, spec in block_library().items():
        assert spec.addable, name
        for arg in spec.arguments:
            assert _kind(arg.default) == VALUE_KINDS[arg.kind], (name, arg)
            if arg.source != "block":  # from a workflow's config: its help and range
                assert arg.help.help, (name, arg)
                if arg.kind in ("int", "float", "list"):
                    assert arg.help.ranges, (name, arg)


def test_a_default_is_the_first_workflow_s_value():
    spec = block_library()["fill_holes_2d"]
    first = next(w for w in list_workflows()
                 if any(s.block == "fill_holes_2d" for s in get_pipeline(w).steps))
    assert spec.argument("max_size").source.startswith(f"{first}.")
    assert block_library()["gaussian_3d"].argument("sigma").source == "block"


def test_blocks_valid_at_a_place_are_those_whose_inputs_exist_there():
    pipeline = get_pipeline("h2b_interphase")  # normalized, smoothed, spots (mask), ...
    first = blocks_valid_at(pipeline, 0)
    assert "gaussian_3d" in first and "auto_threshold" in first
    assert "size_filter" not in first and "watershed_cut" not in first  # no mask yet
    assert available_kinds(pipeline, 0) == {"image": "image"}
    after_spots = blocks_valid_at(pipeline, 3)
    assert {"size_filter", "fill_holes_2d", "watershed_cut"} <= set(after_spots)
    assert "seeded_watershed" not in after_spots  # no labels there
    library = block_library()
    for position in range(len(pipeline.steps) + 1):
        kinds = set(available_kinds(pipeline, position).values())
        assert blocks_valid_at(pipeline, position) == sorted(
            n for n, s in library.items() if set(s.inputs) <= kinds)
