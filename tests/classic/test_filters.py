"""Behaviour of the classic filters, and parity of their building blocks with the reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seglight.classic import filters as F
from seglight.errors import ConfigError


def _tube_zyx(shape=(16, 48, 48), radius=1.5) -> np.ndarray:
    """A bright straight tube along X through the middle of the stack."""
    z, y, _ = np.indices(shape)
    dist_sq = (z - shape[0] // 2) ** 2 + (y - shape[1] // 2) ** 2
    return np.exp(-dist_sq / (2 * radius**2)).astype(np.float32)


def _blob_zyx(shape=(16, 48, 48), radius=2.0) -> np.ndarray:
    """A bright isotropic Gaussian blob in the middle of the stack."""
    z, y, x = np.indices(shape)
    dist_sq = sum((a - n // 2) ** 2 for a, n in zip((z, y, x), shape, strict=True))
    return np.exp(-dist_sq / (2 * radius**2)).astype(np.float32)


def test_gaussian_2d_does_not_mix_slices():
    img = np.zeros((5, 21, 21), np.float32)
    img[2, 10, 10] = 1.0
    out = F.gaussian_2d(img, 1.5)
    assert out.dtype == np.float32
    assert np.all(out[[0, 1, 3, 4]] == 0)
    np.testing.assert_allclose(
        out[2], ndi.gaussian_filter(img[2], 1.5, mode="nearest", truncate=3.0), atol=1e-7
    )


@pytest.mark.parametrize("shape", [(9, 21, 23), (3, 4, 5)])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_separable_filters_equal_scipy(rng, shape, sigma):
    """Same filters as scipy's (borders included, also lines shorter than the kernel)."""
    img = rng.random(shape, dtype=np.float32)
    np.testing.assert_allclose(
        F.gaussian_3d(img, sigma),
        ndi.gaussian_filter(img, sigma, mode="nearest", truncate=3.0),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        F.spot_response_3d(img, sigma), -(sigma**2) * ndi.gaussian_laplace(img, sigma), atol=1e-6
    )
    per_slice = np.stack([-(sigma**2) * ndi.gaussian_laplace(s, sigma) for s in img])
    np.testing.assert_allclose(F.spot_response_2d(img, sigma), per_slice, atol=1e-6)


def test_gaussian_3d_mixes_slices_and_keeps_mass():
    img = np.zeros((9, 21, 21), np.float32)
    img[4, 10, 10] = 1.0
    out = F.gaussian_3d(img, 1.0)
    assert out[3, 10, 10] > 0 and out[5, 10, 10] > 0
    assert out.sum() == pytest.approx(1.0, rel=1e-5)


def test_symmetric_eigenvalues_match_lapack_sorted_by_magnitude(rng):
    a = rng.normal(size=(500, 3, 3))
    sym = (a + a.transpose(0, 2, 1)) / 2
    sym[:50] = np.diag([1.0, -1.0, 2.0])  # repeated magnitudes and exact diagonal matrices
    sym[50:60] = 0.0
    comps = [sym[:, 0, 0], sym[:, 0, 1], sym[:, 0, 2], sym[:, 1, 1], sym[:, 1, 2], sym[:, 2, 2]]
    ours = np.stack(F.symmetric_eigenvalues_3x3(comps), axis=-1)
    expected = np.linalg.eigvalsh(sym)
    expected = np.take_along_axis(expected, np.argsort(np.abs(expected), axis=-1), axis=-1)
    np.testing.assert_allclose(np.abs(ours), np.abs(expected), atol=1e-5)
    np.testing.assert_allclose(ours[:, 2], expected[:, 2], atol=1e-5)
    assert np.all(np.diff(np.abs(ours), axis=-1) >= -1e-6)


def test_hessian_of_a_bright_tube_is_negative_across_and_flat_along():
    img = _tube_zyx()
    h_zz, _, _, h_yy, _, h_xx = F.hessian_3d(img, 1.0)
    center = (8, 24, 24)
    assert h_zz[center] < -0.1 and h_yy[center] < -0.1
    assert abs(h_xx[center]) < 1e-6


def _sheet_zyx(shape=(16, 48, 48), half_width=1.5) -> np.ndarray:
    """A bright flat sheet (constant in Y and X) in the middle of the stack."""
    z = np.arange(shape[0])[:, None, None]
    return np.broadcast_to(np.exp(-((z - shape[0] // 2) ** 2) / (2 * half_width**2)), shape).astype(
        np.float32
    )


def test_vesselness_3d_responds_to_tubes_not_sheets():
    tube = F.vesselness_3d(_tube_zyx(), 1.0)
    sheet = F.vesselness_3d(_sheet_zyx(), 1.0)
    assert tube.dtype == np.float32
    assert tube[8, 24, 24] > 0.9
    assert sheet.max() < 0.01
    assert tube[0, 0, 0] == 0.0 and np.all((tube >= 0) & (tube <= 1))


def test_vesselness_3d_ignores_lambda1_so_blob_centres_respond():
    """Jerman's measure uses λ2 and λ3 only: a blob's centre looks like a tube's."""
    blob = F.vesselness_3d(_blob_zyx(), 1.0)
    assert blob[8, 24, 24] > 0.9


def test_vesselness_3d_regularizes_with_the_global_minimum():
    """A brighter tube elsewhere in the stack lowers a dim tube's response: λρ is global."""
    dim = 0.2 * _tube_zyx()
    alone = F.vesselness_3d(dim, 1.0)
    with_bright = dim.copy()
    with_bright[:, :, :8] = 0
    with_bright[:, 4:12, :8] += 5.0 * _tube_zyx((16, 8, 8))
    together = F.vesselness_3d(with_bright, 1.0)
    near_edge = (8, 23, 30)
    assert together[near_edge] < alone[near_edge]


def _jerman_from_eigenvalues(img: np.ndarray, sigma: float) -> np.ndarray:
    """The F3 response straight from the definition, with every voxel's eigenvalues."""
    _, l2, l3 = F.hessian_eigenvalues_3d(img, sigma)
    l_rho = np.where(l3 < 0, l3.min(), l3)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = (2 * np.abs(l2) + np.abs(l_rho - l2)) ** 3
        r = 27 * l2**2 * np.abs(l_rho - l2) / np.where(den == 0, 1e-10, den)
    r = np.where(l2 < 0.5 * l_rho, 1.0, r)
    r = np.where((l2 >= 0) | (l3 >= 0) | ~np.isfinite(r), 0.0, r)
    return r.astype(np.float32)


def test_vesselness_3d_global_minimum_from_a_voxel_with_one_negative_eigenvalue():
    """The eigenvalues are skipped where at most one is negative (the response is 0 there),
    yet such a voxel can hold the volume's lowest λ3, which regularizes every other voxel."""
    img = np.random.default_rng(2).random((8, 24, 24), dtype=np.float32)
    eigenvalues = np.stack(F.hessian_eigenvalues_3d(img, 1.0))
    lowest = np.unravel_index(eigenvalues[2].argmin(), img.shape)
    assert np.count_nonzero(eigenvalues[(slice(None), *lowest)] < 0) == 1
    np.testing.assert_allclose(
        F.vesselness_3d(img, 1.0), _jerman_from_eigenvalues(img, 1.0), rtol=0, atol=1e-6
    )


def test_filament_3d_is_the_union_of_its_scales():
    img = _tube_zyx() + 0.5 * _tube_zyx(radius=3.0)
    scales = [[2, 0.3], [1, 0.6]]
    expected = (F.vesselness_3d(img, 2) > 0.3) | (F.vesselness_3d(img, 1) > 0.6)
    np.testing.assert_array_equal(F.filament_3d(img, scales), expected)


def _vesselness_2d_by_concatenation(img: np.ndarray, sigma: float) -> np.ndarray:
    """The F2 definition written out: each slice joined to the MIP along X, filtered whole."""
    nx = img.shape[2]
    mip = img.max(axis=0)
    out = np.zeros(img.shape, np.float32)
    for z in range(img.shape[0]):
        joined = np.concatenate([img[z], mip], axis=1)
        smooth = ndi.gaussian_filter(joined, sigma, mode="nearest", truncate=3.0)
        gy, gx = np.gradient(smooth)
        hess = (
            np.stack(
                [
                    np.stack([np.gradient(gy, axis=0), np.gradient(gy, axis=1)], -1),
                    np.stack([np.gradient(gy, axis=1), np.gradient(gx, axis=1)], -1),
                ],
                -2,
            )
            * sigma**2
        )
        eig = np.linalg.eigvalsh(hess.astype(np.float64))
        l2 = np.take_along_axis(eig, np.abs(eig).argmax(-1)[..., None], -1)[..., 0]
        l_rho = np.where(l2 < 0, l2.min(), l2)
        resp = (
            27
            * l2**2
            * np.abs(l_rho - l2)
            / np.maximum((2 * np.abs(l2) + np.abs(l_rho - l2)) ** 3, 1e-30)
        )
        resp[l2 < 0.5 * l_rho] = 1
        resp[l2 >= 0] = 0
        out[z, :, : nx - 3] = resp[:, : nx - 3]
    return out


def test_vesselness_2d_follows_the_mip_concatenation(rng):
    img = ndi.gaussian_filter(rng.random((5, 30, 40)), 1.0).astype(np.float32)
    img[2, 15, 5:35] += 1.0  # a ridge in one slice, also in the MIP
    ours = F.vesselness_2d(img, 1.0)
    np.testing.assert_allclose(ours, _vesselness_2d_by_concatenation(img, 1.0), atol=1e-4)
    assert np.all(ours[:, :, -3:] == 0)
    assert ours[2, 15, 20] > 0.9


def test_spot_response_peaks_on_a_blob():
    blob = _blob_zyx(radius=1.5)
    response = F.spot_response_3d(blob, 1.0)
    assert response.dtype == np.float32
    assert np.unravel_index(response.argmax(), response.shape) == (8, 24, 24)
    assert response[8, 24, 24] > 0.3
    assert abs(response[0, 0, 0]) < 1e-6


def test_spot_response_2d_does_not_mix_slices():
    img = np.zeros((5, 21, 21), np.float32)
    img[2, 10, 10] = 1.0
    response = F.spot_response_2d(img, 1.0)
    assert np.all(response[[0, 1, 3, 4]] == 0)
    assert response[2, 10, 10] > 0


def test_spot_masks_are_the_union_of_their_scales():
    img = _blob_zyx(radius=1.0) + _blob_zyx(radius=3.0)
    scales = [[1, 0.2], [3, 0.1]]
    for mask_fn, response_fn in [(F.spot_3d, F.spot_response_3d), (F.spot_2d, F.spot_response_2d)]:
        expected = (response_fn(img, 1) > 0.2) | (response_fn(img, 3) > 0.1)
        np.testing.assert_array_equal(mask_fn(img, scales), expected)


def test_edge_preserving_smoothing_keeps_edges_and_removes_noise(rng):
    step = np.zeros((8, 32, 32), np.float32)
    step[:, :, 16:] = 1.0
    noisy = step + 0.05 * rng.standard_normal(step.shape).astype(np.float32)
    eps = F.edge_preserving_smoothing(noisy)
    gauss = F.gaussian_3d(noisy, 1.0)
    assert eps.dtype == np.float32 and eps.shape == step.shape
    assert np.std(eps[:, :, 2:12]) < 0.5 * np.std(noisy[:, :, 2:12])
    # The jump across the edge survives far better than under a Gaussian of similar smoothing.
    jump = lambda a: float(np.mean(a[:, :, 16] - a[:, :, 15]))  # noqa: E731
    assert jump(eps) > 0.9 and jump(gauss) < 0.5


def test_edge_preserving_smoothing_leaves_a_constant_image_alone():
    img = np.full((4, 10, 10), 3.0, np.float32)
    np.testing.assert_array_equal(F.edge_preserving_smoothing(img), img)


def test_edge_preserving_smoothing_matches_itk(rng):
    itk = pytest.importorskip("itk")
    img = np.cumsum(rng.random((10, 24, 30), dtype=np.float32), axis=2) / 10
    image = itk.GetImageFromArray(img.astype(np.float32))
    image.SetSpacing([1.0, 1.0, 1.0])
    diffusion = itk.GradientAnisotropicDiffusionImageFilter.New(image)
    diffusion.SetNumberOfIterations(10)
    diffusion.SetTimeStep(0.0625)
    diffusion.SetConductanceParameter(1.2)
    diffusion.Update()
    expected = itk.GetArrayFromImage(diffusion.GetOutput())
    ours = F.edge_preserving_smoothing(img)
    assert np.abs(expected - img).max() > 0.05  # the filter really changed the image
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: F.filament_3d(np.zeros((3, 8, 8), np.float32), []),
        lambda: F.spot_2d(np.zeros((3, 8, 8), np.float32), [[0, 0.1]]),
        lambda: F.filament_2d(np.zeros((3, 8, 8), np.float32), [[1]]),
        lambda: F.vesselness_2d(np.zeros((8, 8), np.float32), 1.0),
        lambda: F.vesselness_3d(np.zeros((1, 8, 8), np.float32), 1.0),
        lambda: F.edge_preserving_smoothing(np.zeros((3, 8, 8), np.float32), conductance=0),
    ],
)
def test_bad_parameters_are_config_errors(call):
    with pytest.raises(ConfigError):
        call()


# --------------------------------------------------------------- parity with the reference


@pytest.fixture
def reference():
    from tests.helpers import oracle

    return {
        "hessian": oracle.reference_module("core.hessian"),
        "vessel": oracle.reference_module("core.vessel"),
        "dot": oracle.reference_module("core.seg_dot"),
    }


@pytest.fixture
def structure(rng) -> np.ndarray:
    """Tubes, a sheet and blobs with noise, normalized like a workflow's input."""
    img = _tube_zyx((12, 40, 44)) + 0.6 * _blob_zyx((12, 40, 44), 2.0)
    img[:, 5:8, :] += 0.4
    img += 0.05 * rng.random(img.shape, dtype=np.float32)
    return F.gaussian_3d(img / img.max(), 1.0)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_hessian_eigenvalues_match_reference(reference, structure, sigma):
    expected = reference["hessian"].absolute_3d_hessian_eigenvalues(
        structure, sigma=sigma, scale=True
    )
    for ours, theirs in zip(F.hessian_eigenvalues_3d(structure, sigma), expected, strict=True):
        np.testing.assert_allclose(np.abs(ours), np.abs(theirs), rtol=0, atol=1e-6)
        # Where two eigenvalues of opposite sign have equal magnitudes to rounding, which one
        # sorts first is a coin toss (for the reference too); elsewhere the signs agree.
        assert np.mean(np.abs(ours - theirs) < 1e-6) > 0.999


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5])
def test_vesselness_matches_reference(reference, structure, sigma):
    vessel = reference["vessel"]
    expected_3d = vessel.vesselness3D(structure, sigmas=[sigma], tau=1, whiteonblack=True)
    expected_2d = vessel.vesselnessSliceBySlice(structure, sigmas=[sigma], tau=1, whiteonblack=True)
    np.testing.assert_allclose(F.vesselness_3d(structure, sigma), expected_3d, rtol=0, atol=1e-5)
    np.testing.assert_allclose(F.vesselness_2d(structure, sigma), expected_2d, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(
        F.filament_2d(structure, [[sigma, 0.1]]),
        vessel.filament_2d_wrapper(structure, [[sigma, 0.1]]),
    )


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_spot_responses_match_reference(reference, structure, sigma):
    dot = reference["dot"]
    np.testing.assert_allclose(
        F.spot_response_3d(structure, sigma), dot.dot_3d(structure, sigma), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        F.spot_response_2d(structure, sigma),
        dot.dot_slice_by_slice(structure, sigma),
        rtol=0,
        atol=1e-6,
    )
