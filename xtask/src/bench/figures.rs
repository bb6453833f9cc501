//! The one contract between `cargo xtask bench` and the programs it runs: given `--json PATH`,
//! a benchmark writes a JSON object whose top-level `"figures"` array holds
//! `{"key", "label", "value", "unit"}` entries. Nothing else in the file is read, so a
//! producer may add whatever detail it likes beside the array.
//!
//! Here: reading that array (strictly: a file that does not follow the contract is a run
//! that was not measured, never a guessed number), and the median and spread of each figure
//! over the runs.

use std::path::Path;

use serde_json::Value;

/// One figure of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Stable `snake_case` name, the same in every run (what rows are matched by).
    pub key: String,
    /// What a reader sees in the tables.
    pub label: String,
    /// The measured value.
    pub value: f64,
    /// Its unit (`ms`, `KB`, `B`, `/s`, …), printed beside it.
    pub unit: String,
}

/// Reads the `figures` array of the JSON file at `path`; the error is the reason the run
/// counts as not measured.
pub fn read(path: &Path) -> Result<Vec<Figure>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("no figures file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a producer's JSON text: an object with a non-empty `figures` array of well-formed
/// entries (a finite number as `value`, non-empty strings elsewhere, each key once).
pub fn parse(text: &str) -> Result<Vec<Figure>, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let entries = json
        .get("figures")
        .ok_or("no top-level \"figures\" array")?
        .as_array()
        .ok_or("\"figures\" is not an array")?;
    if entries.is_empty() {
        return Err("\"figures\" is empty".to_owned());
    }
    let mut figures: Vec<Figure> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let text_field = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("figures[{i}] has no {name:?} string"))
        };
        let key = text_field("key")?;
        let value = entry
            .get("value")
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("figures[{i}] ({key}) has no finite number as \"value\""))?;
        // A unit may be empty for a plain count; it must still be there, as a string.
        let unit = entry
            .get("unit")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("figures[{i}] ({key}) has no \"unit\" string"))?;
        let figure = Figure {
            label: text_field("label")?,
            key,
            value,
            unit,
        };
        if figures.iter().any(|f| f.key == figure.key) {
            return Err(format!("figures[{i}]: key {} appears twice", figure.key));
        }
        figures.push(figure);
    }
    Ok(figures)
}

/// Writes `figures` in the contract's shape (for the figures this crate measures itself, so
/// every benchmark keeps its raw JSON the same way).
pub fn to_json(figures: &[Figure]) -> String {
    let entries: Vec<Value> = figures
        .iter()
        .map(|f| {
            serde_json::json!({
                "key": f.key, "label": f.label, "value": f.value, "unit": f.unit,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "figures": entries }));
    // Serializing values built from strings and finite numbers cannot fail.
    text.unwrap_or_default()
}

/// One figure over the runs that gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The figure's key.
    pub key: String,
    /// Its label (from the first run that gave it).
    pub label: String,
    /// Its unit (from the first run that gave it).
    pub unit: String,
    /// Median over the runs (the mean of the middle two for an even count).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// How many runs gave it.
    pub runs: usize,
}

/// The rows of a benchmark from its measured runs, in the order the figures first appear.
/// A figure missing from some runs is summarized over the runs that have it (its `runs`
/// says how many).
pub fn summarize(runs: &[Vec<Figure>]) -> Vec<Row> {
    let mut order: Vec<&Figure> = Vec::new();
    for figure in runs.iter().flatten() {
        if !order.iter().any(|f| f.key == figure.key) {
            order.push(figure);
        }
    }
    order
        .into_iter()
        .map(|first| {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.iter().find(|f| f.key == first.key))
                .map(|f| f.value)
                .collect();
            let spread = Spread::of(&values).unwrap_or(Spread {
                median: first.value,
                min: first.value,
                max: first.value,
            });
            Row {
                key: first.key.clone(),
                label: first.label.clone(),
                unit: first.unit.clone(),
                median: spread.median,
                min: spread.min,
                max: spread.max,
                runs: values.len(),
            }
        })
        .collect()
}

/// Median, smallest and largest of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The middle value (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(key: &str, value: f64) -> Figure {
        Figure {
            key: key.to_owned(),
            label: key.replace('_', " "),
            value,
            unit: "ms".to_owned(),
        }
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        let s = Spread::of(&[9.0, 1.0, 5.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (5.0, 1.0, 9.0));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 10.0]).unwrap().median, 3.0);
        assert_eq!(Spread::of(&[7.0]).unwrap().median, 7.0);
        assert!(Spread::of(&[]).is_none(), "no runs, no median");
    }

    #[test]
    fn a_well_formed_figures_file_is_read_and_other_fields_are_ignored() {
        let text = r#"{"phases": [1, 2], "figures": [
            {"key": "sse_latency_p99_ms", "label": "SSE p99", "value": 56.2, "unit": "ms"},
            {"key": "conns", "label": "connections", "value": 10000, "unit": ""}]}"#;
        let figures = parse(text).expect("a file that follows the contract");
        assert_eq!(figures.len(), 2);
        assert_eq!(figures[0].key, "sse_latency_p99_ms");
        assert_eq!(figures[0].value, 56.2);
        assert_eq!(figures[1].value, 10000.0, "integers are numbers too");
    }

    #[test]
    fn a_malformed_figures_file_is_refused_with_the_reason() {
        let cases = [
            ("not json", "not JSON"),
            ("[1, 2]", "no top-level"),
            (r#"{"figures": {}}"#, "not an array"),
            (r#"{"figures": []}"#, "empty"),
            (
                r#"{"figures": [{"key": "a", "label": "A", "value": "12", "unit": "ms"}]}"#,
                "finite number",
            ),
            (
                r#"{"figures": [{"key": "a", "label": "A", "value": null, "unit": "ms"}]}"#,
                "finite number",
            ),
            (
                r#"{"figures": [{"label": "A", "value": 1, "unit": "ms"}]}"#,
                "\"key\"",
            ),
            (
                r#"{"figures": [{"key": "a", "label": "A", "value": 1}]}"#,
                "unit",
            ),
            (
                r#"{"figures": [{"key": "a", "label": "A", "value": 1, "unit": ""},
                                {"key": "a", "label": "A", "value": 2, "unit": ""}]}"#,
                "twice",
            ),
        ];
        for (text, reason) in cases {
            let error = parse(text).expect_err(text);
            assert!(
                error.contains(reason),
                "{text}: the error {error:?} should say {reason:?}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_a_reason_not_a_panic() {
        let error = read(Path::new("/nonexistent/bench.json")).unwrap_err();
        assert!(error.contains("no figures file"), "{error}");
    }

    #[test]
    fn written_figures_read_back_the_same() {
        let figures = vec![figure("a_ms", 1.5), figure("b_ms", 2.0)];
        assert_eq!(parse(&to_json(&figures)).unwrap(), figures);
    }

    #[test]
    fn rows_summarize_each_key_over_the_runs_that_have_it() {
        let runs = vec![
            vec![figure("a", 3.0), figure("b", 10.0)],
            vec![figure("a", 1.0)],
            vec![figure("b", 20.0), figure("a", 2.0), figure("c", 5.0)],
        ];
        let rows = summarize(&runs);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"], "first-appearance order");
        assert_eq!(
            (rows[0].median, rows[0].min, rows[0].max, rows[0].runs),
            (2.0, 1.0, 3.0, 3)
        );
        assert_eq!((rows[1].median, rows[1].runs), (15.0, 2));
        assert_eq!((rows[2].median, rows[2].runs), (5.0, 1));
    }
}
