"""Prediction: any binarizer (trained network or classic workflow) over files.

- :mod:`~seglight.predict.inference`: sliding-window inference for any seglight network
  (window plan :mod:`~seglight.predict.windows`, accumulator
  :mod:`~seglight.predict.accumulator`, network preparation :mod:`~seglight.predict.prepare`);
- :mod:`~seglight.predict.network`: :class:`NetworkBinarizer`, a checkpoint as a binarizer;
- :mod:`~seglight.predict.runner`: files, scenes and timepoints in, outputs written safely
  (masks, and with ``labels=true`` numbered objects measured by :mod:`seglight.measure`);
- :mod:`~seglight.predict.build`: the binarizer a config names (checkpoint, classic workflow,
  saved editor workflow, bioimage.io package);
- :mod:`~seglight.predict.lightning`: Lightning's predict loop splits the files across
  processes (DDP);

Command line: ``python -m seglight.predict``; Python: :func:`seglight.binarize` and
:func:`seglight.predict_files`.
"""
