//! Times Krippendorff's alpha (nominal) and Dawid–Skene on 1,000,000 labels:
//! 100,000 tasks × 10 annotators, 5 classes, generated with a fixed seed
//! (each annotator right with their own probability, else a uniform class).
//! `bench/quality.sh` runs it in release and runs the same data through the
//! `krippendorff` package and crowd-kit.
//!
//! Usage: quality_bench [--write FILE.csv]   (writes the ratings for the
//! reference run)

use gloss_quality::aggregate::{
    dawid_skene, majority_vote, DawidSkeneOptions, SplitMix64, TiePolicy,
};
use gloss_quality::categorical::{krippendorff_alpha, Level};
use gloss_quality::{Rating, RatingsTable};
use std::io::Write;
use std::time::{Duration, Instant};

const TASKS: u32 = 100_000;
const ANNOTATORS: u32 = 10;
const CLASSES: u32 = 5;
const SEED: u64 = 20_261_205;
const RUNS: usize = 5;

/// The data's generator: SplitMix64 with a fixed seed, so every run sees
/// the same data.
struct Random(SplitMix64);

impl Random {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.0.next_u64() % u64::from(n)) as u32
    }
}

fn generate() -> Vec<Rating> {
    let mut random = Random(SplitMix64(SEED));
    let skill: Vec<f64> = (0..ANNOTATORS)
        .map(|_| 0.5 + 0.45 * random.unit())
        .collect();
    let mut ratings = Vec::with_capacity((TASKS * ANNOTATORS) as usize);
    for item in 0..TASKS {
        let truth = random.below(CLASSES);
        for annotator in 0..ANNOTATORS {
            let label = if random.unit() < skill[annotator as usize] {
                truth
            } else {
                random.below(CLASSES)
            };
            ratings.push(Rating {
                item,
                annotator,
                label,
            });
        }
    }
    ratings
}

/// The median and fastest of `RUNS` runs of `run`, and its last result.
fn time<T>(mut run: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        result = Some(run());
        times.push(start.elapsed());
    }
    times.sort();
    (times[RUNS / 2], times[0], result.unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ratings = generate();
    if let [_, flag, path] = args.as_slice() {
        assert_eq!(flag, "--write", "usage: quality_bench [--write FILE.csv]");
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        writeln!(out, "item,annotator,label").unwrap();
        for r in &ratings {
            writeln!(out, "t{},w{},{}", r.item, r.annotator, r.label).unwrap();
        }
    }
    let names = |prefix: &str, n: u32| (0..n).map(|i| format!("{prefix}{i}")).collect();
    let labels: Vec<String> = (0..CLASSES).map(|c| c.to_string()).collect();
    let (median, fastest, table) = time(|| {
        RatingsTable::from_codes(
            names("t", TASKS),
            names("w", ANNOTATORS),
            labels.clone(),
            None,
            ratings.clone(),
        )
        .unwrap()
    });
    println!(
        "{} labels ({TASKS} tasks × {ANNOTATORS} annotators, {CLASSES} classes, seed {SEED}); median (fastest) of {RUNS} runs",
        table.ratings().len()
    );
    println!("table from codes:             {median:>10.2?} ({fastest:.2?})");
    let rows: Vec<(String, String, String)> = ratings
        .iter()
        .map(|r| {
            (
                format!("t{}", r.item),
                format!("w{}", r.annotator),
                r.label.to_string(),
            )
        })
        .collect();
    let (median, fastest, _) = time(|| {
        RatingsTable::from_rows(
            rows.iter()
                .map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
        )
        .unwrap()
    });
    println!("table from text rows:         {median:>10.2?} ({fastest:.2?})");
    let (median, fastest, alpha) = time(|| krippendorff_alpha(&table, Level::Nominal).unwrap());
    println!("Krippendorff's alpha nominal: {median:>10.2?} ({fastest:.2?})  alpha = {alpha:.12}");
    let (median, fastest, _) = time(|| majority_vote(&table, TiePolicy::LowestLabel).unwrap());
    println!("majority vote:                {median:>10.2?} ({fastest:.2?})");
    let (median, fastest, ds) = time(|| dawid_skene(&table, DawidSkeneOptions::default()).unwrap());
    println!(
        "Dawid–Skene:                  {median:>10.2?} ({fastest:.2?})  {} iterations, priors {:.6?}",
        ds.iterations, ds.priors
    );
}
