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


SPEC_DOMAINS = ["DITHER", "GENERATE", "TASK", "WIDTHS", "OFFSETS", "CHUNKS", "BOOTSTRAP", "SEARCH", "VIDEO", "RUN",
                "SENSITIVITY"]


def test_domains_are_exported_with_their_spec_numbers() -> None:
    # SPEC §1: 1 DITHER … 10 RUN, 11 SENSITIVITY; defined once in rust/rng.rs
    exported = {name for name in dir(_core) if name.startswith("DOMAIN_")}
    assert exported == {f"DOMAIN_{name}" for name in SPEC_DOMAINS}
    assert [getattr(_core, f"DOMAIN_{name}") for name in SPEC_DOMAINS] == list(range(1, 12))


def test_the_package_names_every_domain_it_draws_from() -> None:
    """No Python module passes a literal domain number to the RNG: it uses the export."""
    import ast
    from pathlib import Path

    import lightlane

    literal, calls = [], 0
    for path in sorted(Path(lightlane.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("key", "uniforms") and len(node.args) >= 2):
                calls += 1
                domain = node.args[1]
                named = isinstance(domain, ast.Attribute) and domain.attr.startswith("DOMAIN_")
                if not named:
                    literal.append(f"{path.name}:{node.lineno}")
    assert calls >= 8 and literal == []
