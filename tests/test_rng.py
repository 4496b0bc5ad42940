"""The RNG contract of SPEC §1, checked against an independent Python implementation."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from lightlane import _core

MASK = (1 << 64) - 1


def mix_reference(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def key_reference(seed: int, domain: int, *indices: int) -> int:
    h = mix_reference(seed ^ mix_reference(domain))
    for i in indices:
        h = mix_reference(h ^ i)
    return h


@pytest.mark.parametrize("z", [0, 1, 12345, 2**63 - 1, 2**64 - 1])
def test_mix_matches_reference(z: int) -> None:
    assert _core.mix(z) == mix_reference(z)


@pytest.mark.parametrize(("seed", "domain", "indices"), [(0, 1, []), (7, 2, [3]), (2**63 - 1, 10, [1, 2, 2**32 + 5])])
def test_key_matches_reference(seed: int, domain: int, indices: list[int]) -> None:
    assert _core.key(seed, domain, indices) == key_reference(seed, domain, *indices)


def test_str_u64_is_sha256_prefix() -> None:
    text = "acisf10027_evt2"
    expected = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    assert _core.str_u64(text) == expected


def test_uniforms_are_uniform_and_seeded() -> None:
    u = _core.uniforms(3, 1, [0], 100_000)
    assert u.dtype == np.float64 and u.min() >= 0.0 and u.max() < 1.0
    # mean of U(0,1): standard error 1/sqrt(12 n)
    assert abs(u.mean() - 0.5) < 5 / np.sqrt(12 * len(u))
    assert np.array_equal(u, _core.uniforms(3, 1, [0], 100_000))
    assert not np.array_equal(u, _core.uniforms(4, 1, [0], 100_000))
    # 53-bit resolution: every value is a multiple of 2^-53
    assert np.all(u * 2.0**53 == np.floor(u * 2.0**53))


def test_stub_file_lists_exactly_the_extension_api() -> None:
    import ast
    from pathlib import Path

    import lightlane

    stub = Path(lightlane.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    stubbed = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    stubbed |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert stubbed == public
