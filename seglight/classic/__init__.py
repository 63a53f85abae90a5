"""Classic structure workflows (Allen Cell Structure Segmenter style) as binarizers.

Each of the 26 structures (``list_workflows()``: the reference's 25, and ``nucleus``, filled
nuclei in a DNA / H2B stain) is a declarative pipeline of steps
(:mod:`seglight.classic.steps`; the pipelines in :mod:`seglight.classic.workflows`, the
blocks they use in :mod:`seglight.classic.blocks`), with all its parameters, their help and
slider ranges in ``conf/model/classic/<name>.yaml``. The command line and the napari editor
run the same pipelines. This module is the facade:

>>> from seglight.classic import run_workflow, ClassicBinarizer
>>> mask = run_workflow("tomm20", image_zyx)                        # uint8 0/255, ZYX
>>> mask = run_workflow("tomm20", image_zyx, vesselness_cutoff=0.2)  # override a parameter
>>> binarizer = ClassicBinarizer("tomm20", {"min_size": 20})        # seglight.binarizer.Binarizer
>>> custom = ClassicBinarizer("sec61b", steps={"smoothed": {"block": "gaussian_3d"},
...                                            "size_filtered_2d": {"enabled": False}})
>>> outputs = custom.run_steps(image_zyx, cache=StepCache(), on_step=print)  # every step
>>> save_workflow_config("tuned.yaml", "sec61b", {"vesselness_cutoff": 0.2}, custom.steps)
>>> load_workflow_config("tuned.yaml").predict_proba(image_zyx)

:func:`describe` lists a workflow's steps with their parameters (help, kind, slider
ranges) and :func:`workflow_info` its one-line description, for an editor.

Bad input (2D, empty, NaN, non-numeric) is refused with one line before any filter runs
(:mod:`seglight.classic.validation`); a constant image gives an empty mask. An image outside
a workflow's tuned intensity range gets the reference's result and one warning line naming
the parameter to tune, or with ``strict=True`` (``model.params.strict=true``) is refused.
"""

from seglight.classic.binarizer import ClassicBinarizer, run_workflow
from seglight.classic.catalog import (
    ParamInfo,
    Range,
    StepInfo,
    WorkflowInfo,
    describe,
    list_blocks,
    workflow_info,
)
from seglight.classic.registry import (
    config_path,
    list_reference_workflows,
    list_workflows,
    load_params,
)
from seglight.classic.saved_config import TARGET, load_workflow_config, save_workflow_config
from seglight.classic.steps import Cancelled, StepCache, StepEvent, StepOverride

__all__ = [
    "TARGET",
    "Cancelled",
    "ClassicBinarizer",
    "ParamInfo",
    "Range",
    "StepCache",
    "StepEvent",
    "StepInfo",
    "StepOverride",
    "WorkflowInfo",
    "config_path",
    "describe",
    "list_blocks",
    "list_reference_workflows",
    "list_workflows",
    "load_params",
    "load_workflow_config",
    "run_workflow",
    "save_workflow_config",
    "workflow_info",
]
