//! The sparse ratings table every agreement and aggregation function reads:
//! items × annotators → label, with missing cells allowed.

use crate::{QualityError, Result};
use std::collections::HashMap;

/// One annotator's label on one item, all three as indices into the table's
/// `items`, `annotators` and `labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    pub item: u32,
    pub annotator: u32,
    pub label: u32,
}

/// Items × annotators → label. Label codes are assigned deterministically:
/// labels sorted as numbers when every label is a number, else sorted as
/// strings, so code order is the order the reference packages use (pandas,
/// numpy and scikit-learn sort labels the same way). Items and annotators
/// keep the order of their first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingsTable {
    items: Vec<String>,
    annotators: Vec<String>,
    labels: Vec<String>,
    /// The labels as numbers, when every label is one.
    values: Option<Vec<f64>>,
    /// Sorted by item, then annotator.
    ratings: Vec<Rating>,
    /// `ratings[item_starts[i]..item_starts[i + 1]]` are item `i`'s.
    item_starts: Vec<usize>,
}

impl RatingsTable {
    /// Builds the table from `(item, annotator, label)` rows. An empty label
    /// is a missing rating and is skipped; an annotator labelling the same
    /// item twice is an error.
    pub fn from_rows<'a, I>(rows: I) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    {
        let mut items = Index::default();
        let mut annotators = Index::default();
        let mut labels = Index::default();
        let mut raw = Vec::new();
        for (item, annotator, label) in rows {
            let item = items.code(item);
            let annotator = annotators.code(annotator);
            let label = label.trim();
            if label.is_empty() {
                continue;
            }
            raw.push(Rating {
                item,
                annotator,
                label: labels.code(label),
            });
        }
        // Recode labels in sorted order.
        let first_seen = labels.names;
        let numbers: Option<Vec<f64>> = first_seen.iter().map(|l| l.parse::<f64>().ok()).collect();
        if let Some(numbers) = &numbers {
            if let Some(bad) = first_seen
                .iter()
                .zip(numbers)
                .find(|(_, value)| !value.is_finite())
            {
                return Err(QualityError::NotFinite(format!("label {:?}", bad.0)));
            }
        }
        let mut order: Vec<usize> = (0..first_seen.len()).collect();
        match &numbers {
            Some(numbers) => order.sort_by(|&a, &b| numbers[a].total_cmp(&numbers[b])),
            None => order.sort_by(|&a, &b| first_seen[a].cmp(&first_seen[b])),
        }
        let mut new_code = vec![0u32; order.len()];
        for (code, &old) in order.iter().enumerate() {
            new_code[old] = code as u32;
        }
        for rating in &mut raw {
            rating.label = new_code[rating.label as usize];
        }
        let sorted_labels: Vec<String> = order.iter().map(|&i| first_seen[i].clone()).collect();
        let values = numbers.map(|numbers| order.iter().map(|&i| numbers[i]).collect());
        Self::assemble(items.names, annotators.names, sorted_labels, values, raw)
    }

    /// Builds the table from codes directly (labels must already be in the
    /// order wanted; `values` are their numbers, if any).
    pub fn from_codes(
        items: Vec<String>,
        annotators: Vec<String>,
        labels: Vec<String>,
        values: Option<Vec<f64>>,
        ratings: Vec<Rating>,
    ) -> Result<Self> {
        if let Some(values) = &values {
            if values.len() != labels.len() {
                return Err(QualityError::LengthMismatch {
                    what: "label values and labels",
                    left: values.len(),
                    right: labels.len(),
                });
            }
            if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
                return Err(QualityError::NotFinite(format!("label {:?}", labels[bad])));
            }
        }
        for rating in &ratings {
            if rating.item as usize >= items.len()
                || rating.annotator as usize >= annotators.len()
                || rating.label as usize >= labels.len()
            {
                return Err(QualityError::Invalid(format!(
                    "rating {rating:?} is out of range"
                )));
            }
        }
        Self::assemble(items, annotators, labels, values, ratings)
    }

    fn assemble(
        items: Vec<String>,
        annotators: Vec<String>,
        labels: Vec<String>,
        values: Option<Vec<f64>>,
        mut ratings: Vec<Rating>,
    ) -> Result<Self> {
        ratings.sort_unstable_by_key(|r| (r.item, r.annotator));
        if let Some(pair) = ratings
            .windows(2)
            .find(|w| w[0].item == w[1].item && w[0].annotator == w[1].annotator)
        {
            return Err(QualityError::Duplicate {
                item: items[pair[0].item as usize].clone(),
                annotator: annotators[pair[0].annotator as usize].clone(),
            });
        }
        let mut item_starts = vec![0; items.len() + 1];
        for rating in &ratings {
            item_starts[rating.item as usize + 1] += 1;
        }
        for i in 0..items.len() {
            item_starts[i + 1] += item_starts[i];
        }
        Ok(Self {
            items,
            annotators,
            labels,
            values,
            ratings,
            item_starts,
        })
    }

    pub fn items(&self) -> &[String] {
        &self.items
    }
    pub fn annotators(&self) -> &[String] {
        &self.annotators
    }
    /// The labels, in code order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// All ratings, sorted by item then annotator.
    pub fn ratings(&self) -> &[Rating] {
        &self.ratings
    }
    /// Item `item`'s ratings, sorted by annotator.
    pub fn item_ratings(&self, item: usize) -> &[Rating] {
        &self.ratings[self.item_starts[item]..self.item_starts[item + 1]]
    }
    /// The labels as numbers, or an error naming the first that is not one.
    pub fn values(&self) -> Result<&[f64]> {
        match &self.values {
            Some(values) => Ok(values),
            None => Err(QualityError::NotANumber(
                self.labels
                    .iter()
                    .find(|l| l.parse::<f64>().is_err())
                    .cloned()
                    .unwrap_or_default(),
            )),
        }
    }

    /// The index of the annotator named `name`.
    pub fn annotator_index(&self, name: &str) -> Result<usize> {
        self.annotators
            .iter()
            .position(|a| a == name)
            .ok_or_else(|| QualityError::Unknown {
                what: "annotator",
                name: name.to_string(),
            })
    }

    /// Per item, how many ratings of each label code (items × labels, row
    /// major).
    pub fn label_counts(&self) -> Vec<u32> {
        let k = self.labels.len();
        let mut counts = vec![0u32; self.items.len() * k];
        for rating in &self.ratings {
            counts[rating.item as usize * k + rating.label as usize] += 1;
        }
        counts
    }

    /// The items both annotators rated, with their two label codes.
    pub fn paired_codes(&self, a: usize, b: usize) -> Vec<(u32, u32)> {
        let mut pairs = Vec::new();
        for item in 0..self.items.len() {
            let ratings = self.item_ratings(item);
            let find = |who: usize| {
                ratings
                    .iter()
                    .find(|r| r.annotator as usize == who)
                    .map(|r| r.label)
            };
            if let (Some(x), Some(y)) = (find(a), find(b)) {
                pairs.push((x, y));
            }
        }
        pairs
    }

    /// Checks that the table has ratings from at least `needed` annotators
    /// and at least one item rated by two of them.
    pub(crate) fn require_pairable(&self, metric: &'static str) -> Result<()> {
        if self.ratings.is_empty() {
            return Err(QualityError::Empty(format!("{metric}: no ratings")));
        }
        if self.annotators.len() < 2 {
            return Err(QualityError::TooFewAnnotators {
                metric,
                needed: 2,
                found: self.annotators.len(),
            });
        }
        if (0..self.items.len()).all(|i| self.item_ratings(i).len() < 2) {
            return Err(QualityError::Empty(format!(
                "{metric}: no item has ratings from two annotators"
            )));
        }
        Ok(())
    }
}

/// Names to dense codes, in order of first appearance.
#[derive(Default)]
struct Index {
    names: Vec<String>,
    codes: HashMap<String, u32>,
}

impl Index {
    fn code(&mut self, name: &str) -> u32 {
        if let Some(&code) = self.codes.get(name) {
            return code;
        }
        let code = self.names.len() as u32;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), code);
        code
    }
}

/// A table from `"item annotator label"` triples separated by commas, for
/// tests: `table_of("1 a x, 1 b y")`.
#[cfg(test)]
pub(crate) fn table_of(text: &str) -> RatingsTable {
    let rows: Vec<Vec<&str>> = text
        .split(',')
        .map(|row| row.split_whitespace().collect())
        .collect();
    RatingsTable::from_rows(rows.iter().map(|r| (r[0], r[1], r[2]))).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sorted_as_numbers_when_all_are_numbers() {
        let table = RatingsTable::from_rows([("i", "a", "10"), ("i", "b", "9"), ("j", "a", "2.5")])
            .unwrap();
        assert_eq!(table.labels(), ["2.5", "9", "10"]);
        assert_eq!(table.values().unwrap(), [2.5, 9.0, 10.0]);
        assert_eq!(table.item_ratings(0).len(), 2);
    }

    #[test]
    fn labels_sorted_as_strings_otherwise() {
        let table =
            RatingsTable::from_rows([("i", "a", "b"), ("i", "b", "10"), ("j", "a", "")]).unwrap();
        assert_eq!(table.labels(), ["10", "b"]);
        assert!(matches!(table.values(), Err(QualityError::NotANumber(l)) if l == "b"));
        // The empty label is a missing rating; its item still exists.
        assert_eq!(table.items().len(), 2);
        assert_eq!(table.item_ratings(1).len(), 0);
    }

    #[test]
    fn duplicates_and_nan_are_errors() {
        let duplicate = RatingsTable::from_rows([("i", "a", "x"), ("i", "a", "y")]);
        assert!(matches!(duplicate, Err(QualityError::Duplicate { .. })));
        let nan = RatingsTable::from_rows([("i", "a", "NaN"), ("i", "b", "1")]);
        assert!(matches!(nan, Err(QualityError::NotFinite(_))));
    }
}
