//! Seeded event operations behind the tasks (SPEC §8): uniform times over a GTI union,
//! subsets without replacement and permutations inside time windows.
//!
//! Times are seconds (MET); GTIs are sorted, disjoint half-open [start, stop) pairs.
//! Every draw comes from a TASK-domain stream of [`crate::rng`], keyed by a fixed unit
//! (block of 65 536 events, group, window), never by thread count; units run in
//! parallel and are merged in unit order, so results are identical for any pool size.
//! Callers pass a seed that is already specific to one operation of one task.
//! Indices are 0-based positions in the caller's event order.

use std::collections::HashMap;

use rand_core::RngCore;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::rng::{domain, stream, uniform, EVENT_BLOCK};

/// Unbiased integer in [0, bound) (Lemire's multiply-and-reject); `bound` > 0.
#[inline]
fn below(rng: &mut Pcg64Mcg, bound: u64) -> u64 {
    let mut product = u128::from(rng.next_u64()) * u128::from(bound);
    let mut low = product as u64;
    if low < bound {
        let threshold = bound.wrapping_neg() % bound;
        while low < threshold {
            product = u128::from(rng.next_u64()) * u128::from(bound);
            low = product as u64;
        }
    }
    (product >> 64) as u64
}

/// The largest double strictly below `x` (finite `x`).
fn next_below(x: f64) -> f64 {
    if x > 0.0 {
        f64::from_bits(x.to_bits() - 1)
    } else if x < 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        -f64::from_bits(1)
    }
}

fn check_gtis(gtis: &[(f64, f64)]) -> CoreResult<()> {
    let mut previous_stop = f64::NEG_INFINITY;
    for (index, &(start, stop)) in gtis.iter().enumerate() {
        if !(start.is_finite() && stop.is_finite()) {
            return Err(CoreError::Data(format!("GTI {index} has non-finite bounds [{start}, {stop})")));
        }
        if stop < start {
            return Err(CoreError::Data(format!("GTI {index} ends before it starts: [{start}, {stop})")));
        }
        if start < previous_stop {
            return Err(CoreError::Data(format!(
                "GTI {index} [{start}, {stop}) overlaps or precedes the previous one"
            )));
        }
        previous_stop = stop;
    }
    Ok(())
}

/// `n` times uniform over the union of `gtis`, each GTI weighted by its length.
///
/// Event i takes draw i mod 65 536 of stream (seed, TASK, i / 65 536); u·total is mapped
/// through the cumulative GTI lengths. Times come in event order (not sorted) and lie in
/// [start, stop) of one GTI. Zero-length GTIs receive nothing.
pub fn uniform_times_in_gtis(gtis: &[(f64, f64)], n: usize, seed: u64) -> CoreResult<Vec<f64>> {
    check_gtis(gtis)?;
    // cumulative[k] = total length of GTIs before k
    let mut cumulative = Vec::with_capacity(gtis.len() + 1);
    let mut total = 0.0;
    cumulative.push(0.0);
    for &(start, stop) in gtis {
        total += stop - start;
        cumulative.push(total);
    }
    if n > 0 && !(total > 0.0 && total.is_finite()) {
        return Err(CoreError::Data(format!("cannot draw {n} times: the GTIs have total length {total} s")));
    }
    // u·total can round up to total; that draw belongs to the last GTI of positive length
    let last_positive = gtis.iter().rposition(|g| g.1 > g.0).unwrap_or(0);
    let mut times = filled(n as u64, 0.0)?;
    times.par_chunks_mut(EVENT_BLOCK).enumerate().for_each(|(block, out)| {
        let mut rng = stream(seed, domain::TASK, &[block as u64]);
        for t in out.iter_mut() {
            let x = uniform(&mut rng) * total;
            // the GTI k with cumulative[k] ≤ x < cumulative[k + 1], never a zero-length one
            let k = if x < total { cumulative.partition_point(|&c| c <= x) - 1 } else { last_positive };
            let (start, stop) = gtis[k];
            let value = start + (x - cumulative[k]);
            *t = if value < stop { value } else { next_below(stop).max(start) };
        }
    });
    Ok(times)
}

/// A vector of `len` copies of `value`, or an error instead of an abort when `len` is absurd.
fn filled<T: Clone>(len: u64, value: T) -> CoreResult<Vec<T>> {
    let too_large = || CoreError::Parameter(format!("cannot hold {len} values in memory"));
    let len = usize::try_from(len).map_err(|_| too_large())?;
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| too_large())?;
    out.resize(len, value);
    Ok(out)
}

/// `m` distinct values of 0..n, in draw order: the first m entries of a partial
/// Fisher–Yates shuffle of [0, n). For small m/n the array is virtual (only displaced
/// entries are stored); both representations give identical values.
fn partial_shuffle(rng: &mut Pcg64Mcg, n: u64, m: u64) -> CoreResult<Vec<u64>> {
    if m >= n / 16 {
        let mut values = filled(n, 0u64)?;
        for (i, v) in values.iter_mut().enumerate() {
            *v = i as u64;
        }
        for i in 0..m {
            let j = i + below(rng, n - i);
            values.swap(i as usize, j as usize);
        }
        values.truncate(m as usize);
        return Ok(values);
    }
    sparse_shuffle(rng, n, m)
}

fn sparse_shuffle(rng: &mut Pcg64Mcg, n: u64, m: u64) -> CoreResult<Vec<u64>> {
    // each step displaces at most one new position j
    let mut displaced: HashMap<u64, u64> = HashMap::new();
    displaced
        .try_reserve(usize::try_from(m).unwrap_or(usize::MAX))
        .map_err(|_| CoreError::Parameter(format!("cannot draw {m} values in memory")))?;
    let mut chosen = filled(m, 0u64)?;
    for (i, slot) in (0..m).zip(chosen.iter_mut()) {
        let j = i + below(rng, n - i);
        let at_j = *displaced.get(&j).unwrap_or(&j);
        let at_i = *displaced.get(&i).unwrap_or(&i);
        displaced.insert(j, at_i);
        *slot = at_j;
    }
    Ok(chosen)
}

/// A uniform subset of size `m` ≤ n of 0..n drawn from `rng`, sorted ascending.
///
/// When m > n/2 the n − m left-out values are drawn instead (a uniform subset's
/// complement is uniform too); the rule depends on (n, m) only.
fn subset_from(rng: &mut Pcg64Mcg, n: u64, m: u64) -> CoreResult<Vec<u64>> {
    if m <= n - m {
        let mut chosen = partial_shuffle(rng, n, m)?;
        chosen.sort_unstable();
        Ok(chosen)
    } else {
        let mut left_out = filled(n, false)?;
        for index in partial_shuffle(rng, n, n - m)? {
            left_out[index as usize] = true;
        }
        Ok((0..n).filter(|&i| !left_out[i as usize]).collect())
    }
}

/// A uniform subset without replacement of size `m` from 0..n, sorted ascending, drawn
/// from the one stream (seed, TASK).
pub fn subset_indices(n: u64, m: u64, seed: u64) -> CoreResult<Vec<u64>> {
    if m > n {
        return Err(CoreError::Parameter(format!("cannot choose {m} of {n} events without replacement")));
    }
    subset_from(&mut stream(seed, domain::TASK, &[]), n, m)
}

/// Per group, a uniform subset without replacement; returns the kept event indices, sorted.
///
/// `groups[i]` is event i's group in 0..keep.len(), or −1 (never kept). Group g keeps
/// `keep[g]` ≥ 0 of its members, chosen from stream (seed, TASK, g) among the members in
/// event order, exactly as [`subset_indices`] would choose positions with that stream.
pub fn grouped_subset(groups: &[i64], keep: &[i64], seed: u64) -> CoreResult<Vec<u64>> {
    let keep = keep
        .iter()
        .enumerate()
        .map(|(g, &k)| {
            u64::try_from(k).map_err(|_| CoreError::Parameter(format!("group {g}: negative keep count {k}")))
        })
        .collect::<CoreResult<Vec<u64>>>()?;
    let group_count = keep.len();
    let mut members: Vec<Vec<u64>> = vec![Vec::new(); group_count];
    for (index, &group) in groups.iter().enumerate() {
        if group == -1 {
            continue;
        }
        match usize::try_from(group).ok().filter(|&g| g < group_count) {
            Some(g) => members[g].push(index as u64),
            None => {
                return Err(CoreError::Parameter(format!(
                    "event {index} has group {group}, outside −1 and 0…{}",
                    group_count as i64 - 1
                )))
            }
        }
    }
    for (group, (list, &wanted)) in members.iter().zip(&keep).enumerate() {
        if wanted > list.len() as u64 {
            return Err(CoreError::Parameter(format!(
                "group {group} has {} events, cannot keep {wanted} without replacement",
                list.len()
            )));
        }
    }
    let parts: Vec<Vec<u64>> = members
        .par_iter()
        .zip(keep.par_iter())
        .enumerate()
        .map(|(group, (list, &wanted))| {
            let n = list.len() as u64;
            if wanted == n {
                return Ok(list.clone());
            }
            let mut rng = stream(seed, domain::TASK, &[group as u64]);
            Ok(subset_from(&mut rng, n, wanted)?.into_iter().map(|p| list[p as usize]).collect())
        })
        .collect::<CoreResult<_>>()?;
    let mut kept: Vec<u64> = parts.into_iter().flatten().collect();
    kept.par_sort_unstable();
    Ok(kept)
}

/// A permutation that moves events only inside their time window.
///
/// `times_s` must be sorted ascending. Window k is [tstart + kW, tstart + (k+1)W), with
/// k = ⌊(t − tstart)/W⌋ (negative before tstart). Returns `source` such that event i
/// receives the attributes of event `source[i]`; each window's events are shuffled by
/// Fisher–Yates from stream (seed, TASK, k as u64).
pub fn window_permutation(times_s: &[f64], tstart_s: f64, window_s: f64, seed: u64) -> CoreResult<Vec<u64>> {
    if !(window_s > 0.0 && window_s.is_finite()) {
        return Err(CoreError::Parameter(format!(
            "window must be a positive finite number of seconds, got {window_s}"
        )));
    }
    if !tstart_s.is_finite() {
        return Err(CoreError::Parameter(format!("window origin must be finite, got {tstart_s}")));
    }
    if let Some(bad) = times_s.iter().position(|t| !t.is_finite()) {
        return Err(CoreError::Data(format!("time of event {bad} is not finite")));
    }
    if let Some(bad) = times_s.windows(2).position(|pair| pair[1] < pair[0]) {
        return Err(CoreError::Data(format!("times are not sorted at event {}", bad + 1)));
    }
    let window_of = |t: f64| -> i64 { ((t - tstart_s) / window_s).floor() as i64 };
    // [first, end) runs of equal window index; sorted times make each window one run
    let mut runs: Vec<(usize, usize, i64)> = Vec::new();
    let mut first = 0;
    while first < times_s.len() {
        let k = window_of(times_s[first]);
        let mut end = first + 1;
        while end < times_s.len() && window_of(times_s[end]) == k {
            end += 1;
        }
        runs.push((first, end, k));
        first = end;
    }
    let mut source: Vec<u64> = (0..times_s.len() as u64).collect();
    let mut pieces: Vec<(&mut [u64], i64)> = Vec::with_capacity(runs.len());
    let mut rest: &mut [u64] = &mut source;
    for &(first, end, k) in &runs {
        let (piece, tail) = rest.split_at_mut(end - first);
        pieces.push((piece, k));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(piece, k)| {
        let mut rng = stream(seed, domain::TASK, &[k as u64]);
        for i in (1..piece.len()).rev() {
            let j = below(&mut rng, i as u64 + 1) as usize;
            piece.swap(i, j);
        }
    });
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = stream(1, domain::TASK, &[]);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            let v = below(&mut rng, 7);
            seen[v as usize] += 1;
        }
        // expected 1000 each, sd ≈ 29
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert_eq!(below(&mut rng, 1), 0);
    }

    #[test]
    fn times_lie_in_gtis_with_length_weights() {
        let gtis = [(100.0, 200.0), (200.0, 200.0), (500.0, 800.0)];
        let times = uniform_times_in_gtis(&gtis, 200_000, 3).unwrap();
        assert!(times.iter().all(|&t| gtis.iter().any(|g| g.0 <= t && t < g.1)));
        let first = times.iter().filter(|&&t| t < 200.0).count() as f64 / times.len() as f64;
        // expected 0.25, standard error ≈ 0.001
        assert!((first - 0.25).abs() < 0.006, "{first}");
    }

    #[test]
    fn times_follow_the_block_contract() {
        let gtis = [(10.0, 20.0)];
        let times = uniform_times_in_gtis(&gtis, EVENT_BLOCK + 5, 9).unwrap();
        let mut rng = stream(9, domain::TASK, &[1]);
        let u: Vec<f64> = (0..5).map(|_| uniform(&mut rng)).collect();
        for (offset, &value) in u.iter().enumerate() {
            assert_eq!(times[EVENT_BLOCK + offset].to_bits(), (10.0 + value * 10.0).to_bits());
        }
    }

    #[test]
    fn bad_gtis_are_errors_not_panics() {
        assert!(uniform_times_in_gtis(&[(5.0, 1.0)], 3, 0).is_err());
        assert!(uniform_times_in_gtis(&[(0.0, 2.0), (1.0, 3.0)], 3, 0).is_err());
        assert!(uniform_times_in_gtis(&[(0.0, f64::NAN)], 3, 0).is_err());
        assert!(uniform_times_in_gtis(&[], 3, 0).is_err());
        assert!(uniform_times_in_gtis(&[(1.0, 1.0)], 3, 0).is_err());
        assert_eq!(uniform_times_in_gtis(&[], 0, 0).unwrap(), Vec::<f64>::new());
    }

    #[test]
    fn subsets_are_sorted_distinct_and_sized() {
        for (n, m) in [(10, 0), (10, 3), (10, 5), (10, 6), (10, 10), (1000, 999), (0, 0)] {
            let s = subset_indices(n, m, 42).unwrap();
            assert_eq!(s.len() as u64, m);
            assert!(s.windows(2).all(|p| p[0] < p[1]));
            assert!(s.iter().all(|&i| i < n));
        }
        assert!(subset_indices(3, 4, 0).is_err());
        assert!(subset_indices(u64::MAX, u64::MAX - 1, 0).is_err());
        assert!(uniform_times_in_gtis(&[(0.0, 1.0)], usize::MAX, 0).is_err());
    }

    #[test]
    fn dense_and_sparse_shuffles_agree() {
        for (n, m) in [(1000u64, 10u64), (1000, 100), (50, 49), (7, 0)] {
            let sparse = sparse_shuffle(&mut stream(3, domain::TASK, &[]), n, m).unwrap();
            let dense = partial_shuffle(&mut stream(3, domain::TASK, &[]), n, m.max(n / 16)).unwrap();
            assert_eq!(sparse[..], dense[..m as usize]);
        }
    }

    #[test]
    fn subset_inclusion_is_uniform() {
        let (n, m, seeds) = (20u64, 7u64, 20_000u64);
        let mut counts = vec![0f64; n as usize];
        for seed in 0..seeds {
            for i in subset_indices(n, m, seed).unwrap() {
                counts[i as usize] += 1.0;
            }
        }
        let expected = (seeds * m) as f64 / n as f64;
        let chi2: f64 = counts.iter().map(|c| (c - expected).powi(2) / expected).sum();
        // the inclusion indicators sum to m, so χ² has ≈ n − 1 = 19 dof (sd ≈ 6.2)
        assert!(chi2 < 19.0 + 6.0 * 6.2, "{chi2}");
    }

    #[test]
    fn grouped_subset_matches_per_group_subsets() {
        let groups: Vec<i64> = (0..1000).map(|i| if i % 11 == 0 { -1 } else { i % 3 }).collect();
        let keep = [10i64, 200, 0];
        let kept = grouped_subset(&groups, &keep, 5).unwrap();
        assert!(kept.windows(2).all(|p| p[0] < p[1]));
        for (g, &wanted) in keep.iter().enumerate() {
            let members: Vec<u64> = (0..1000u64).filter(|&i| groups[i as usize] == g as i64).collect();
            let positions =
                subset_from(&mut stream(5, domain::TASK, &[g as u64]), members.len() as u64, wanted as u64).unwrap();
            let expected: Vec<u64> = positions.iter().map(|&p| members[p as usize]).collect();
            let got: Vec<u64> = kept.iter().copied().filter(|&i| groups[i as usize] == g as i64).collect();
            if wanted as usize == members.len() {
                assert_eq!(got, members);
            } else {
                assert_eq!(got, expected);
            }
        }
        assert!(grouped_subset(&[0, 3], &[1, 1], 0).is_err());
        assert!(grouped_subset(&[0, -2], &[1], 0).is_err());
        assert!(grouped_subset(&[0, 0], &[3], 0).is_err());
        let negative = grouped_subset(&[0, 1], &[1, -1], 0).unwrap_err();
        assert_eq!(negative, CoreError::Parameter("group 1: negative keep count -1".into()));
    }

    #[test]
    fn permutation_stays_inside_windows() {
        let times: Vec<f64> = (0..5000).map(|i| 3.0 + i as f64 * 0.37).collect();
        let source = window_permutation(&times, 3.0, 50.0, 8).unwrap();
        let mut sorted = source.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..5000).collect::<Vec<u64>>());
        for (i, &s) in source.iter().enumerate() {
            let k = |t: f64| ((t - 3.0) / 50.0).floor();
            assert_eq!(k(times[i]), k(times[s as usize]));
        }
        assert_ne!(source, (0..5000).collect::<Vec<u64>>());
        assert!(window_permutation(&[2.0, 1.0], 0.0, 1.0, 0).is_err());
        assert!(window_permutation(&[1.0], 0.0, 0.0, 0).is_err());
        assert!(window_permutation(&[f64::NAN], 0.0, 1.0, 0).is_err());
    }

    #[test]
    fn thread_count_changes_nothing() {
        let gtis = [(0.0, 1.0e4), (2.0e4, 3.5e4)];
        let groups: Vec<i64> = (0..300_000i64).map(|i| i * 7919 % 13 - 1).collect();
        let keep: Vec<i64> = (0..12).map(|g| 1000 + g * 100).collect();
        let times: Vec<f64> = (0..300_000).map(|i| i as f64 * 0.1).collect();
        let run = || {
            (
                uniform_times_in_gtis(&gtis, 300_001, 4).unwrap(),
                grouped_subset(&groups, &keep, 4).unwrap(),
                window_permutation(&times, 0.0, 77.0, 4).unwrap(),
            )
        };
        let one = with_threads(1, run);
        for threads in [2, 8] {
            let many = with_threads(threads, run);
            assert!(one.0.iter().zip(&many.0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(one.1, many.1);
            assert_eq!(one.2, many.2);
        }
    }
}
