//! Train/validation/test splits over many ids.

use gloss_formats::{split_of, Split, SplitRatios};

fn ratios() -> SplitRatios {
    SplitRatios::parse("0.8,0.1,0.1").unwrap()
}

#[test]
fn split_is_stable_for_a_seed_and_changes_with_it() {
    let ratios = ratios();
    let first: Vec<Split> = (0..10_000).map(|id| split_of(42, id, &ratios)).collect();
    // Asking in another order gives the same answer for every id.
    for id in (0..10_000).rev() {
        assert_eq!(split_of(42, id, &ratios), first[id as usize]);
    }
    let other: Vec<Split> = (0..10_000).map(|id| split_of(43, id, &ratios)).collect();
    let moved = first.iter().zip(&other).filter(|(a, b)| a != b).count();
    // Two independent 80/10/10 draws differ for about 34% of ids.
    assert!((2_500..4_500).contains(&moved), "{moved} ids moved");
}

#[test]
fn proportions_follow_the_ratios() {
    let ratios = ratios();
    let total = 100_000;
    let mut counts = [0usize; 3];
    for id in 1..=total {
        let index = match split_of(7, id, &ratios) {
            Split::Train => 0,
            Split::Validation => 1,
            Split::Test => 2,
        };
        counts[index] += 1;
    }
    let shares = counts.map(|count| count as f64 / total as f64);
    for (share, expected) in shares.iter().zip([0.8, 0.1, 0.1]) {
        assert!((share - expected).abs() < 0.02, "{shares:?}");
    }
}

#[test]
fn negative_and_large_ids_are_fine() {
    let ratios = ratios();
    for id in [i64::MIN, -1, 0, i64::MAX] {
        let split = split_of(0, id, &ratios);
        assert_eq!(split, split_of(0, id, &ratios));
    }
}
