"""napari widgets that close the loop: *Train* (:mod:`seglight.widgets.train`) and *Apply*
(:mod:`seglight.widgets.apply`), beside the workflow editor and the Curator.

The Qt-free parts (what to offer, the command line, reading a run's logs, remembering the
last folders) are in :mod:`seglight.widgets.training_run` and :mod:`seglight.widgets.recent`,
and are tested without a display. Requires the ``seglight[napari]`` extra for the widgets.
"""
