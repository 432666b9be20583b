"""Fingerprints of samples for the data checks: exact copies and look-alike images.

An exact fingerprint is a 64-bit hash of a sample's float32 bytes. A perceptual hash
(pHash, after Zauner 2010, "Implementation and Benchmarking of Perceptual Image Hash
Functions") is the sign of the 8×8 lowest frequencies of a 32×32 grey thumbnail's DCT
against their median: images that look alike share it, whatever small noise, shift of
brightness or re-encoding lies between them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

THUMB = 32  # side of the grey thumbnail the DCT runs on
LOW = 8  # the LOW×LOW lowest frequencies make the 64 bits


def exact_keys(x: torch.Tensor) -> np.ndarray:
    """(N,) uint64 hashes of each sample's float32 values: equal for identical samples.

    A multiply-add hash over the 32-bit words with random odd 64-bit factors (seeded, so
    the same sample hashes alike in every call): distinct samples collide with a chance
    of about 2^-32 per pair, in numpy's speed rather than a Python loop's.
    """
    flat = x.reshape(len(x), -1).contiguous().numpy() + np.float32(0.0)  # -0.0 -> 0.0
    words = flat.view(np.uint32).astype(np.uint64)  # (N, D)
    factors = _factors(words.shape[1])  # (D,)
    with np.errstate(over="ignore"):  # arithmetic modulo 2^64 on purpose
        h = (words * factors).sum(axis=1, dtype=np.uint64)  # (N,)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
    return h


_FACTORS: dict[int, np.ndarray] = {}


def _factors(width: int) -> np.ndarray:
    if width not in _FACTORS:
        rng = np.random.default_rng(0x1E2A)
        _FACTORS[width] = rng.integers(0, 2**63, size=width, dtype=np.uint64) * 2 + 1
    return _FACTORS[width]


def _dct_matrix(n: int) -> np.ndarray:
    """(n, n) orthonormal DCT-II basis: rows are frequencies."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    basis = np.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2 / n)
    basis[0] /= math.sqrt(2)
    return basis


_DCT = _dct_matrix(THUMB)


def thumbnails(images: torch.Tensor) -> np.ndarray:
    """(N, 32, 32) float32 grey thumbnails of (N, C, H, W) images in [0, 1]."""
    grey = images.float().mean(dim=1, keepdim=True)  # (N, 1, H, W)
    small = F.interpolate(grey, size=(THUMB, THUMB), mode="bilinear", align_corners=False)
    return small[:, 0].numpy()  # (N, 32, 32)


def perceptual_keys(thumbs: np.ndarray) -> np.ndarray:
    """(N,) uint64 pHashes of (N, 32, 32) thumbnails."""
    freq = _DCT @ thumbs.astype(np.float64) @ _DCT.T  # (N, 32, 32)
    low = freq[:, :LOW, :LOW].reshape(len(thumbs), LOW * LOW)  # (N, 64)
    bits = low > np.median(low[:, 1:], axis=1, keepdims=True)  # the DC term left out
    weights = np.uint64(1) << np.arange(LOW * LOW, dtype=np.uint64)  # (64,)
    return (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
