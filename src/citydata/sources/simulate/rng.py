"""Deterministic randomness: a generator per (seed, day, stream) and stable per-subject uniforms.

Per-subject uniforms (`hash_uniform`) depend only on the seed, a salt and the subject's serial
number, so a trait (a wrong ID in one department, an employer, a pay day) stays the same on every
day without replaying anything.
"""

from __future__ import annotations

import zlib

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def stream(seed: int, day: int, name: str) -> np.random.Generator:
    """A generator for one named stream of one day; independent of every other stream."""
    return np.random.default_rng([int(seed), int(day), zlib.crc32(name.encode("utf-8"))])


def _splitmix64(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_uniform(seed: int, salt: str, ids: np.ndarray | int) -> np.ndarray:
    """Uniform [0, 1) values, one per id, stable for (seed, salt, id)."""
    key = np.uint64((int(seed) * 0x100000001B3 + zlib.crc32(salt.encode("utf-8"))) & 0xFFFFFFFFFFFFFFFF)
    ids = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_splitmix64(ids ^ key) + key)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
