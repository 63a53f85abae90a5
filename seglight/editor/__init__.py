"""The napari workflow editor: tune a classic workflow live, then run it on a folder.

- :mod:`seglight.editor.session`: the editor's state and actions without Qt (what tests
  and scripts drive): a workflow's parameters and step overrides, runs through the step
  cache on a z-range or the whole stack, sweeps, objects, saving.
- :mod:`seglight.editor.widget`: the napari dock widget (*Plugins > seglight > Workflow
  editor*); needs the ``seglight[napari]`` extra.
- :mod:`seglight.editor.sweep`: the sweep grid and its mosaic.
- :mod:`seglight.editor.gallery`: a thumbnail and a description per workflow.

See ``docs/editor.md``.
"""
