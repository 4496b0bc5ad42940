"""Chunk sampler and metrics (SPEC §10.3–10.6; §21 properties 2, 9, 16, 17)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from lightlane import _core
from lightlane.analysis.chunks import CHUNK_COLUMNS, METRICS, WidthCounts, chunk_table, valid_starts
from lightlane.exceptions import DataError, LightlaneWarning, MetadataError
from lightlane.metadata import Band

L = 12
BAND = Band(min_nm=0.1, max_nm=1.0, bins=6)
CHUNKS_DOMAIN = 6
BLOCK = 4096


def make_widths(seed: int = 0) -> list[WidthCounts]:
    """Three widths with exposure gaps; wavelength bin 4 is empty everywhere (μ = μ_g = 0) and
    bin 5 is sparse (many μ = 0 chunks with μ_g > 0); the others span small to large means."""
    rng = np.random.default_rng(seed)
    widths = []
    for k, (rows, scale) in enumerate([(400, 1.0), (250, 4.0), (90, 30.0)]):
        means = scale * np.array([0.5, 2.0, 7.0, 40.0, 0.0, 0.0])
        counts = rng.poisson(means, size=(rows, BAND.bins)).astype(np.uint32)
        counts[rng.random(rows) < 0.05, 5] = 1 + k
        counts[::7, 1] *= 3  # some excess variance
        valid = np.ones(rows, dtype=bool)
        valid[rows // 3: rows // 3 + 5] = False
        valid[-3:] = False
        counts[~valid] = 9999  # exposure-cut bins must never be read
        widths.append(WidthCounts(width_s=10.0 * 2**k, first_edge_s=1000.0 - 3.5 * k, counts=counts, valid=valid))
    return widths


def gather(widths: list[WidthCounts], table: pl.DataFrame, length: int) -> np.ndarray:
    """x of every chunk, shape (M, L), from the sampled (width_index, wbin, start_bin)."""
    k, w, s = (table[c].to_numpy().astype(np.int64) for c in ("width_index", "wbin", "start_bin"))
    x = np.empty((len(k), length), dtype=np.int64)
    for index, width in enumerate(widths):
        rows = k == index
        x[rows] = np.asarray(width.counts, dtype=np.int64)[s[rows, None] + np.arange(length), w[rows, None]]
    return x


def snap(value: np.ndarray, denominator: int) -> np.ndarray:
    # For integer counts s² − μ is a multiple of 1/(L(L−1)) and s_d² − 2μ of 1/(L(L−1)(L−2)).
    # Rounding the float two-pass value to that lattice removes its cancellation error, so a
    # chunk with s² = μ exactly gets ev = 0 (not ±1e-8) in the reference, as in the sampler.
    return np.round(value * denominator) / denominator


def sgnsqrt(z: np.ndarray) -> np.ndarray:
    return np.sign(z) * np.sqrt(np.abs(z))


def safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


def reference_metrics(widths: list[WidthCounts], table: pl.DataFrame, length: int) -> dict[str, np.ndarray]:
    """Vectorised numpy metrics of SPEC §10.4–10.5 from the sampled chunk positions."""
    x = gather(widths, table, length).astype(np.float64)
    k, w = table["width_index"].to_numpy(), table["wbin"].to_numpy()
    mu_g_by_width = [np.asarray(wd.counts, dtype=np.float64)[np.asarray(wd.valid)].mean(axis=0) for wd in widths]
    mu_g = np.array([mu_g_by_width[a][b] for a, b in zip(k, w)])
    n = length - 1
    mu = x.mean(axis=1)
    var = snap(x.var(axis=1, ddof=1), length * n)
    excess = snap(x.var(axis=1, ddof=1) - mu, length * n)
    d = np.diff(x, axis=1)
    adjacent = snap(d.var(axis=1, ddof=1) - 2 * mu, length * n * (n - 1))
    m_o, m_e = x[:, 0::2].mean(axis=1), x[:, 1::2].mean(axis=1)
    half = length / 2
    ev, vea = sgnsqrt(excess), sgnsqrt(adjacent)
    fvar = safe_div(np.sqrt(np.maximum(excess, 0)), mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        fvar_err = np.sqrt(1 / (2 * length) * (1 / (mu * fvar)) ** 2 + 1 / (length * mu))
    fvar_err[(fvar == 0) | (mu == 0)] = np.nan
    return {
        "mean_count": mu,
        "global_mean_count": mu_g,
        "total_variability": np.sqrt(var),
        "shot_noise": np.sqrt(mu),
        "ev": ev,
        "evs": safe_div(ev, np.sqrt(mu)),
        "fel": safe_div(excess, mu),
        "feg": safe_div(var - mu_g, mu_g),
        "vea": vea,
        "vesa": safe_div(vea, np.sqrt(mu)),
        "oec": np.abs(m_o - m_e) / np.sqrt(np.maximum(m_o / half + m_e / half, 1e-12)),
        "fvar": fvar,
        "fvar_err": fvar_err,
        "nxs": safe_div(excess, mu**2),
        "fadj": safe_div(np.sqrt(np.maximum(adjacent, 0)), mu),
        "zero_count_bins": (x == 0).sum(axis=1),
        "one_count_bins": (x == 1).sum(axis=1),
    }


@pytest.fixture(scope="module")
def widths() -> list[WidthCounts]:
    return make_widths()


@pytest.fixture(scope="module")
def table(widths: list[WidthCounts]) -> pl.DataFrame:
    return chunk_table(widths, np.arange(BAND.bins), BAND, L, 3 * BLOCK + 123, analysis_seed=20240917)


def test_columns_and_dtypes(table: pl.DataFrame) -> None:
    assert table.schema == pl.Schema(CHUNK_COLUMNS)
    assert list(table.columns) == list(CHUNK_COLUMNS)
    assert table.height == 3 * BLOCK + 123
    assert np.array_equal(table["chunk"].to_numpy(), np.arange(table.height))
    assert table.drop("fvar_err").null_count().sum_horizontal().item() == 0
    assert set(METRICS) <= set(table.columns)


def test_metrics_equal_numpy_reference(widths: list[WidthCounts], table: pl.DataFrame) -> None:
    expected = reference_metrics(widths, table, L)
    mu = table["mean_count"].to_numpy()
    assert (mu == 0).sum() > 50 and (table["global_mean_count"].to_numpy() == 0).sum() > 50
    assert (table["ev"].to_numpy() == 0).sum() > 50  # s² = μ exactly, with μ > 0 too
    assert ((table["ev"].to_numpy() == 0) & (mu > 0)).sum() > 10
    for name, want in expected.items():
        got = table[name].to_numpy().astype(np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
    null = table["fvar_err"].is_null().to_numpy()
    assert np.array_equal(null, (table["fvar"].to_numpy() == 0) | (mu == 0))
    assert 0 < null.sum() < table.height


def test_positions_and_times(widths: list[WidthCounts], table: pl.DataFrame) -> None:
    k = table["width_index"].to_numpy()
    start, stop = table["start_bin"].to_numpy(), table["stop_bin"].to_numpy()
    assert np.all(stop - start == L)
    width_s = np.array([w.width_s for w in widths])[k]
    edge0 = np.array([w.first_edge_s for w in widths])[k]
    np.testing.assert_array_equal(table["width_s"].to_numpy(), width_s)
    np.testing.assert_allclose(table["start_time_s"].to_numpy(), edge0 + start * width_s, rtol=1e-15)
    np.testing.assert_array_equal(table["wavelength_center_nm"].to_numpy(), BAND.centres_nm()[table["wbin"].to_numpy()])
    assert np.all(table["wavelength_width_nm"].to_numpy() == BAND.width_nm)


def test_no_chunk_touches_an_invalid_bin(widths: list[WidthCounts], table: pl.DataFrame) -> None:
    for k, start, stop in table.select("width_index", "start_bin", "stop_bin").iter_rows():
        assert widths[k].valid[start:stop].all()
    assert gather(widths, table, L).max() < 9999


def test_fvar_err_hand_computed_example() -> None:
    # x = (0, 4, 0, 4): μ = 2, s² = 16/3, fvar = √(10/3)/2, so
    # fvar_err = √((1/8)·(3/10) + 1/8) = √0.1625; d = (4, −4, 4), s_d² = 64/3.
    width = WidthCounts(5.0, 0.0, np.array([[0], [4], [0], [4]]), np.ones(4, dtype=bool))
    row = chunk_table([width], [0], Band(0.5, 0.6, 1), 4, 3, analysis_seed=1).row(0, named=True)
    assert row["fvar_err"] == pytest.approx(0.403112887414927, rel=1e-14)
    assert row["fvar"] == pytest.approx(math.sqrt(10 / 3) / 2, rel=1e-14)
    assert row["ev"] == pytest.approx(math.sqrt(10 / 3), rel=1e-14)
    assert row["vea"] == pytest.approx(math.sqrt(52 / 3), rel=1e-14)
    assert row["oec"] == pytest.approx(4 / math.sqrt(2), rel=1e-14)
    assert row["feg"] == pytest.approx(5 / 3, rel=1e-14)
    assert (row["zero_count_bins"], row["one_count_bins"]) == (2, 0)
    # x = (1, 1, 4, 2): s² = μ = 2 exactly, so ev = fvar = 0 and fvar_err is null.
    width = WidthCounts(5.0, 0.0, np.array([[1], [1], [4], [2]]), np.ones(4, dtype=bool))
    row = chunk_table([width], [0], Band(0.5, 0.6, 1), 4, 3, analysis_seed=1).row(0, named=True)
    assert (row["ev"], row["fvar"], row["fvar_err"], row["one_count_bins"]) == (0.0, 0.0, None, 2)


def test_draws_follow_the_stream_contract(widths: list[WidthCounts]) -> None:
    # width 1 has no valid start: skipped, so the draw picks among widths 0 and 2 only.
    narrow = WidthCounts(3.0, 0.0, np.ones((L - 1, BAND.bins), dtype=np.uint32), np.ones(L - 1, dtype=bool))
    given = [widths[0], narrow, widths[2]]
    w_data = np.array([0, 2, 3, 5], dtype=np.uint16)
    seed = 987654321
    with pytest.warns(LightlaneWarning, match=r"widths \[1\]"):
        table = chunk_table(given, w_data, BAND, L, 2 * BLOCK + 7, analysis_seed=seed)
    usable = [0, 2]
    starts = [valid_starts(w.valid, L) for w in given]
    expected = []
    for block in range(2):
        u = _core.uniforms(seed, CHUNKS_DOMAIN, [block], 3 * BLOCK).reshape(BLOCK, 3)
        for u_width, u_bin, u_start in u:
            k = usable[math.floor(u_width * len(usable))]
            s = starts[k][math.floor(u_start * len(starts[k]))]
            expected.append((k, int(w_data[math.floor(u_bin * len(w_data))]), int(s)))
    got = list(table.select("width_index", "wbin", "start_bin").head(2 * BLOCK).iter_rows())
    assert got == expected


def test_prefix_and_seed(widths: list[WidthCounts], table: pl.DataFrame) -> None:
    shorter = chunk_table(widths, np.arange(BAND.bins), BAND, L, BLOCK + 1, analysis_seed=20240917)
    assert shorter.equals(table.head(BLOCK + 1))
    # a table is a prefix of any longer one with the same seed, within and across blocks
    tiny = chunk_table(widths, np.arange(BAND.bins), BAND, L, 25, analysis_seed=20240917)
    assert tiny.equals(table.head(25))
    other = chunk_table(widths, np.arange(BAND.bins), BAND, L, BLOCK + 1, analysis_seed=20240918)
    positions = ["width_index", "wbin", "start_bin"]
    assert not other.select(positions).equals(shorter.select(positions))


def draws(chunk_count: int, analysis_seed: int) -> _core.ChunkDraws:
    return {"n_bins": BAND.bins, "chunk_length": L, "chunk_count": chunk_count, "analysis_seed": analysis_seed}


def test_thread_count_invariance(widths: list[WidthCounts]) -> None:
    counts = [np.ascontiguousarray(w.counts, dtype=np.uint32) for w in widths]
    valid = [np.asarray(w.valid) for w in widths]
    starts = [valid_starts(w.valid, L) for w in widths]
    w_data = np.arange(BAND.bins, dtype=np.uint16)
    results = []
    try:
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            assert _core.thread_count() == threads
            raw = _core.sample_chunks(counts, valid, starts, w_data, draws(5 * BLOCK + 3, 11))
            results.append(({name: (a.dtype.str, a.tobytes()) for name, a in raw.items()},
                            chunk_table(widths, w_data, BAND, L, 5 * BLOCK + 3, analysis_seed=11)))
    finally:
        _core.set_threads(None)
    for raw, frame in results[1:]:
        assert raw == results[0][0]
        assert frame.equals(results[0][1])


def test_width_choices_are_uniform(widths: list[WidthCounts]) -> None:
    table = chunk_table(widths, np.array([1, 3, 4]), BAND, L, 60_000, analysis_seed=5)
    for column, categories in (("width_index", [0, 1, 2]), ("wbin", [1, 3, 4])):
        counts = np.array([(table[column] == c).sum() for c in categories])
        assert counts.sum() == table.height
        assert stats.chisquare(counts).pvalue > 1e-3, (column, counts)
    # starts are uniform over S_k of the chosen width
    start = table.filter(pl.col("width_index") == 2)["start_bin"].to_numpy()
    s2 = valid_starts(widths[2].valid, L)
    assert stats.chisquare(np.array([(start == s).sum() for s in s2])).pvalue > 1e-3


def test_isotropic_null_means() -> None:
    """SPEC §21.9: for homogeneous Poisson counts E[s² − μ] = 0 and E[s_d² − 2μ] = 2λ/(L−1).

    Overlapping chunks of one matrix are correlated, so the standard error comes from
    R independent replicates: each replicate draws fresh Poisson matrices and samples M
    chunks of them; the R replicate means are independent, and se = std(means)/√R.
    """
    lam, replicates, m = 4.0, 40, 5000
    rng = np.random.default_rng(2024)
    excess, adjacent = np.empty(replicates), np.empty(replicates)
    for r in range(replicates):
        group = []
        for k, rows in enumerate([300, 500]):
            valid = np.ones(rows, dtype=bool)
            valid[rows // 2: rows // 2 + 3] = False
            group.append(WidthCounts(10.0 * (k + 1), 0.0, rng.poisson(lam, (rows, 8)), valid))
        table = chunk_table(group, np.arange(8), Band(0.1, 1.0, 8), L, m, analysis_seed=r)
        ev, vea = table["ev"].to_numpy(), table["vea"].to_numpy()
        excess[r] = np.mean(ev * np.abs(ev))  # s² − μ
        adjacent[r] = np.mean(vea * np.abs(vea))  # s_d² − 2μ
    for values, expected in ((excess, 0.0), (adjacent, 2 * lam / (L - 1))):
        se = values.std(ddof=1) / math.sqrt(replicates)
        assert abs(values.mean() - expected) < 3 * se, (values.mean(), expected, se)
    # the adjacent offset is resolved: it is many standard errors away from 0
    assert adjacent.mean() > 5 * adjacent.std(ddof=1) / math.sqrt(replicates)


def test_valid_starts_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        valid = rng.random(int(rng.integers(0, 40))) < 0.85
        length = int(rng.integers(1, 8))
        brute = [s for s in range(len(valid) - length + 1) if valid[s:s + length].all()]
        assert valid_starts(valid, length).tolist() == brute


def test_bad_input_raises(widths: list[WidthCounts]) -> None:
    w_data = np.arange(BAND.bins)

    def run(given: list[WidthCounts] = widths, wd: np.ndarray = w_data, length: int = L, m: int = 100,
            seed: int = 1) -> pl.DataFrame:
        return chunk_table(given, wd, BAND, length, m, analysis_seed=seed)

    base = widths[0]
    for length in (11, 2, 0, -4):
        with pytest.raises(MetadataError, match="chunk_length"):
            run(length=length)
    for m in (0, -1):
        with pytest.raises(MetadataError, match="chunk_count"):
            run(m=m)
    with pytest.raises(MetadataError, match="analysis_seed"):
        run(seed=-1)
    with pytest.raises(DataError, match="W_data is empty"):
        run(wd=np.array([], dtype=np.int64))
    with pytest.raises(DataError, match="w_data"):
        run(wd=np.array([0, BAND.bins]))
    with pytest.raises(DataError, match="no width has L = 12"):
        run(given=[WidthCounts(1.0, 0.0, base.counts, np.zeros(len(base.valid), dtype=bool))])
    with pytest.raises(DataError, match="no width"):
        run(given=[])
    with pytest.raises(DataError, match="exceeds"):
        run(given=[WidthCounts(1.0, 0.0, base.counts, base.valid, np.array([len(base.valid) - L + 1]))])
    with pytest.raises(DataError, match="not fully exposed"):
        bad_start = int(np.flatnonzero(~np.asarray(base.valid))[0])
        run(given=[WidthCounts(1.0, 0.0, base.counts, base.valid, np.array([bad_start]))])
    with pytest.raises(DataError, match="starts"):
        run(given=[WidthCounts(1.0, 0.0, base.counts, base.valid, np.array([-1]))])
    with pytest.raises(DataError, match="shape"):
        run(given=[WidthCounts(1.0, 0.0, base.counts[:, :-1], base.valid)])
    with pytest.raises(DataError, match="valid"):
        run(given=[WidthCounts(1.0, 0.0, base.counts, base.valid[:-1])])
    with pytest.raises(DataError, match="non-negative"):
        run(given=[WidthCounts(1.0, 0.0, -np.asarray(base.counts, dtype=np.int64), base.valid)])
    # the extension checks the same things when called directly
    counts = [np.ascontiguousarray(base.counts, dtype=np.uint32)]
    valid, starts = [np.asarray(base.valid)], [valid_starts(base.valid, L)]
    wd = np.arange(BAND.bins, dtype=np.uint16)
    with pytest.raises(DataError, match="one entry per width"):
        _core.sample_chunks(counts, valid, [], wd, draws(10, 1))
    with pytest.raises(DataError, match="counts has"):
        _core.sample_chunks([counts[0].ravel()[1:]], valid, starts, wd, draws(10, 1))
    with pytest.raises(DataError, match="shape"):
        _core.sample_chunks([counts[0][:, :3]], valid, starts, wd, draws(10, 1))
    with pytest.raises(DataError, match="counts"):
        _core.sample_chunks([counts[0][::2]], [valid[0][::2]], starts, wd, draws(10, 1))
    flat = _core.sample_chunks([counts[0].ravel()], valid, starts, wd, draws(10, 1))
    assert flat["ev"].tobytes() == _core.sample_chunks(counts, valid, starts, wd, draws(10, 1))["ev"].tobytes()
