"""Compiled (numba) kernels of the classic workflows, one module per concern.

- :mod:`~seglight.classic.kernels.diffusion` — edge-preserving smoothing (``EPS``);
- :mod:`~seglight.classic.kernels.hessian` — Hessian eigenvalues and filament responses;
- :mod:`~seglight.classic.kernels.separable` — Gaussian and Laplacian-of-Gaussian passes;
- :mod:`~seglight.classic.kernels.morphology` — the seeded watershed, local maxima, hole
  filling and the medial axis;
- :mod:`~seglight.classic.kernels.distance` — exact Euclidean distance transforms.

They work on arrays the filter and morphology layers (:mod:`seglight.classic.filters`,
:mod:`seglight.classic.morphology`) have checked and allocated; workflows never call them.
"""
