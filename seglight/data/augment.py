"""Training-time augmentation of (image, ground truth, costmap) patches.

Geometric transforms move the three volumes together; intensity transforms touch the image
only. Everything stays float32: rotation about z interpolates the image linearly and the
masks by nearest neighbour, with no 8-bit round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi


@dataclass
class Augmentation:
    """Which augmentations to apply, and how strongly.

    Args:
        flip: random flips along y and x.
        rot90: random multiples of 90° in xy (only when the patch is square in xy).
        rotate_prob: probability of a free rotation about z.
        rotate_max_deg: largest free rotation angle, in degrees.
        intensity_scale: image multiplied by a factor in [1 − s, 1 + s].
        intensity_shift: image shifted by an offset in [−s, s] (images are normalized to ~[0, 1]).
        noise_std: Gaussian noise with a standard deviation drawn in [0, noise_std].
        gamma: with probability ``gamma_prob``, the patch's intensities, mapped to [0, 1] by
            its own minimum and maximum, are raised to a power γ with ln γ drawn in
            [−gamma, gamma], then mapped back: faint structures brighten or dim relative to
            bright ones (a nonlinear change that instance normalization does not undo,
            unlike a scale or a shift). 0: off.
        gamma_prob: how often the gamma change is applied.
    """

    flip: bool = True
    rot90: bool = True
    rotate_prob: float = 0.5
    rotate_max_deg: float = 180.0
    intensity_scale: float = 0.1
    intensity_shift: float = 0.1
    noise_std: float = 0.03
    gamma: float = 0.0
    gamma_prob: float = 0.3

    def rotation_angle(self, rng: np.random.Generator) -> float:
        """Draw the free rotation angle for one patch (0 = none)."""
        if self.rotate_prob <= 0 or rng.random() >= self.rotate_prob:
            return 0.0
        return float(rng.uniform(-self.rotate_max_deg, self.rotate_max_deg))

    def __call__(
        self,
        image: np.ndarray,
        gt: np.ndarray,
        costmap: np.ndarray,
        rng: np.random.Generator,
        angle: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply the geometric transforms to all three ZYX volumes, intensity to the image."""
        arrays = [image, gt, costmap]
        if angle:
            arrays = [
                ndi.rotate(a, angle, axes=(2, 1), reshape=False, order=order, mode="constant",
                           cval=0.0, prefilter=False)
                for a, order in zip(arrays, (1, 0, 0), strict=True)
            ]
        if self.flip:
            for axis in (1, 2):
                if rng.random() < 0.5:
                    arrays = [np.flip(a, axis) for a in arrays]
        if self.rot90 and image.shape[1] == image.shape[2]:
            k = int(rng.integers(4))
            arrays = [np.rot90(a, k, axes=(1, 2)) for a in arrays]
        image, gt, costmap = (np.ascontiguousarray(a) for a in arrays)
        if self.gamma and rng.random() < self.gamma_prob:
            image = _gamma(image, float(np.exp(rng.uniform(-self.gamma, self.gamma))))
        if self.intensity_scale:
            image = image * np.float32(1 + rng.uniform(-self.intensity_scale, self.intensity_scale))
        if self.intensity_shift:
            image = image + np.float32(rng.uniform(-self.intensity_shift, self.intensity_shift))
        if self.noise_std:
            sigma = rng.uniform(0, self.noise_std)
            image = image + rng.normal(0, sigma, image.shape).astype(np.float32)
        return image.astype(np.float32, copy=False), gt, costmap


def _gamma(image: np.ndarray, gamma: float) -> np.ndarray:
    """``image`` with its [min, max] range mapped to [0, 1], raised to ``gamma``, mapped back."""
    low, high = float(image.min()), float(image.max())
    if high <= low:
        return image
    unit = (image - np.float32(low)) / np.float32(high - low)
    return (unit ** np.float32(gamma)) * np.float32(high - low) + np.float32(low)
