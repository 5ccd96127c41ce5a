//! Data fidelity: how well QA's data represents Production's, from two profiles.
//!
//! Every figure compared here is a count, a rate, a sketch distance or a shape, so a
//! finding never needs a raw value of a sensitive column: those are not in the profile.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use crate::compare::{apply_rules, push_unreadable};
use crate::date::Date;
use crate::finding::{Class, Facet, Finding, Side};
use crate::profile::{ColumnKind, ColumnProfile, DatabaseProfile, TableProfile, ratio};
use crate::rules::{DataThresholds, Rules};
use crate::sketch::{js_divergence, ks_distance};
use crate::snapshot::Snapshot;
use crate::tokens::EnvTokens;

/// The distances between one column's two profiles; `None` where not comparable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnFidelity {
    pub null_delta: f64,
    pub empty_delta: f64,
    /// KS distance of values (numbers, dates).
    pub ks_values: Option<f64>,
    /// KS distance of text lengths.
    pub ks_lengths: Option<f64>,
    /// JS divergence of the top-value mix (category-like, non-sensitive columns).
    pub js_categories: Option<f64>,
    /// JS divergence of value shapes.
    pub js_shapes: Option<f64>,
    /// Fewer distinct values over more (1 = same count).
    pub distinct_ratio: f64,
    /// Largest character-class share difference.
    pub char_delta: f64,
}

impl ColumnFidelity {
    /// One figure per column, 0–100: 100 minus the largest distance, in percent.
    pub fn score(&self) -> f64 {
        let worst = [
            self.null_delta,
            self.empty_delta,
            self.ks_values.unwrap_or(0.0),
            self.ks_lengths.unwrap_or(0.0),
            self.js_categories.unwrap_or(0.0),
            self.js_shapes.unwrap_or(0.0),
            self.char_delta,
        ]
        .into_iter()
        .fold(0.0, f64::max);
        ((1.0 - worst) * 1000.0).round() / 10.0
    }
}

/// Whether a column's top values stand for (nearly) all of its values, so their mix is
/// the column's category mix.
fn category_like(c: &ColumnProfile) -> bool {
    let non_null = c.values - c.nulls.min(c.values);
    let covered: u64 = c.top.iter().map(|t| t.1).sum();
    c.sensitive.is_none() && !c.top.is_empty() && non_null > 0 && covered * 10 >= non_null * 9
}

fn char_shares(c: &ColumnProfile) -> [(&'static str, f64); 4] {
    let cc = c.chars.unwrap_or_default();
    [
        ("non-ASCII", ratio(cc.non_ascii, cc.values)),
        ("emoji", ratio(cc.emoji, cc.values)),
        ("whitespace-padded", ratio(cc.padded, cc.values)),
        ("control-character", ratio(cc.control, cc.values)),
    ]
}

fn pairs(x: &[(String, u64)]) -> Vec<(&str, u64)> {
    x.iter().map(|(k, c)| (k.as_str(), *c)).collect()
}

pub fn column_fidelity(a: &ColumnProfile, b: &ColumnProfile) -> ColumnFidelity {
    let (da, db) = (a.distinct.max(1) as f64, b.distinct.max(1) as f64);
    ColumnFidelity {
        null_delta: (a.null_rate() - b.null_rate()).abs(),
        empty_delta: (a.empty_rate() - b.empty_rate()).abs(),
        // Surrogate keys are spread by the table's size: not a fidelity figure.
        ks_values: ks_distance(&a.quantiles, &b.quantiles).filter(|_| !is_key_column(&b.name)),
        ks_lengths: ks_distance(&a.length_quantiles, &b.length_quantiles),
        js_categories: (category_like(a) && category_like(b))
            .then(|| js_divergence(pairs(&a.top), pairs(&b.top)))
            .flatten(),
        js_shapes: js_divergence(pairs(&a.shapes), pairs(&b.shapes)),
        distinct_ratio: da.min(db) / da.max(db),
        char_delta: char_shares(a)
            .iter()
            .zip(char_shares(b))
            .map(|(x, y)| (x.1 - y.1).abs())
            .fold(0.0, f64::max),
    }
}

/// Compares every environment's data profiles with the reference environment's.
/// Returns the findings and the number of figures compared.
pub(crate) fn compare_data(
    snapshots: &[Snapshot],
    reference: usize,
    rules: &Rules,
    tokens: &EnvTokens,
    today: Date,
    expect_used: &[AtomicBool],
) -> (Vec<Finding>, u64) {
    let mut out = DataComparison {
        rules,
        tokens,
        thresholds: &rules.data,
        today,
        expect_used,
        findings: Vec::new(),
        compared: 0,
    };
    let b = &snapshots[reference];
    for (i, a) in snapshots.iter().enumerate() {
        if i == reference {
            continue;
        }
        out.pair_snapshots(a, b);
    }
    out.compared += push_unreadable(
        &mut out.findings,
        Facet::Data,
        snapshots,
        reference,
        |s| &s.data.errors,
        rules,
    );
    (out.findings, out.compared)
}

struct DataComparison<'a> {
    rules: &'a Rules,
    tokens: &'a EnvTokens,
    thresholds: &'a DataThresholds,
    today: Date,
    expect_used: &'a [AtomicBool],
    findings: Vec<Finding>,
    compared: u64,
}

/// `data:` or `data/NAME:` — the group of a database's findings.
fn group_of(db: &str) -> String {
    if db.is_empty() {
        "data".to_string()
    } else {
        format!("data/{db}")
    }
}

/// Whether the source has no schema facet of its own (files), so the data facet reports
/// tables and columns present on one side only.
fn is_file_source(db: &DatabaseProfile) -> bool {
    matches!(db.engine.as_str(), "CSV" | "Parquet")
}

/// What a finding is about, and the figures shown for each side.
struct Observation {
    table: String,
    key: String,
    class: Class,
    message: String,
    a: Option<String>,
    b: Option<String>,
    covers: u32,
}

impl DataComparison<'_> {
    fn pair_snapshots(&mut self, a: &Snapshot, b: &Snapshot) {
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        let index = |s: &Snapshot, env: &str| -> BTreeMap<String, usize> {
            s.data
                .databases
                .iter()
                .enumerate()
                .map(|(i, d)| (self.tokens.normalize(env, &d.name).into_owned(), i))
                .collect()
        };
        let (ia, ib) = (index(a, ea), index(b, eb));
        for (name, &jb) in &ib {
            let db_b = &b.data.databases[jb];
            match ia.get(name) {
                Some(&ja) => self.pair_databases(a, b, &a.data.databases[ja], db_b),
                None => {
                    let tables = db_b.tables.len() as u32;
                    self.push(
                        a,
                        b,
                        &group_of(name),
                        Observation {
                            table: String::new(),
                            key: group_of(name),
                            class: Class::Missing,
                            message: format!(
                                "database `{}` is profiled in {eb} but not in {ea} ({tables} tables)",
                                display_name(name)
                            ),
                            a: None,
                            b: Some(format!("{} tables", tables)),
                            covers: tables.max(1),
                        },
                    );
                }
            }
        }
        for (name, &ja) in &ia {
            if !ib.contains_key(name) {
                let tables = a.data.databases[ja].tables.len() as u32;
                self.push(
                    a,
                    b,
                    &group_of(name),
                    Observation {
                        table: String::new(),
                        key: group_of(name),
                        class: Class::Extra,
                        message: format!(
                            "database `{}` is profiled in {ea} but not in {eb} ({tables} tables)",
                            display_name(name)
                        ),
                        a: Some(format!("{} tables", tables)),
                        b: None,
                        covers: tables.max(1),
                    },
                );
            }
        }
    }

    fn pair_databases(
        &mut self,
        a: &Snapshot,
        b: &Snapshot,
        db_a: &DatabaseProfile,
        db_b: &DatabaseProfile,
    ) {
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        let group = group_of(&self.tokens.normalize(eb, &db_b.name));
        let files = is_file_source(db_a) || is_file_source(db_b);
        let tables_a: BTreeMap<String, &TableProfile> = db_a
            .tables
            .iter()
            .map(|t| (self.tokens.normalize(ea, &t.name).into_owned(), t))
            .collect();
        for tb in &db_b.tables {
            let name = self.tokens.normalize(eb, &tb.name).into_owned();
            match tables_a.get(&name) {
                Some(ta) => self.pair_tables(a, b, (&group, files), &name, ta, tb),
                // A table on one side only is a schema finding, unless there is no schema.
                None if files => self.push(
                    a,
                    b,
                    &group,
                    Observation {
                        key: format!("{group}:{name}"),
                        message: format!("`{name}` exists in {eb} but not in {ea}"),
                        table: name,
                        class: Class::Missing,
                        a: None,
                        b: Some(format!("{} rows", tb.rows)),
                        covers: tb.columns.len().max(1) as u32,
                    },
                ),
                None => {}
            }
        }
        if files {
            let names_b: std::collections::BTreeSet<String> = db_b
                .tables
                .iter()
                .map(|t| self.tokens.normalize(eb, &t.name).into_owned())
                .collect();
            for (name, ta) in &tables_a {
                if !names_b.contains(name) {
                    self.push(
                        a,
                        b,
                        &group,
                        Observation {
                            key: format!("{group}:{name}"),
                            message: format!("`{name}` exists in {ea} but not in {eb}"),
                            table: name.clone(),
                            class: Class::Extra,
                            a: Some(format!("{} rows", ta.rows)),
                            b: None,
                            covers: ta.columns.len().max(1) as u32,
                        },
                    );
                }
            }
        }
    }

    fn pair_tables(
        &mut self,
        a: &Snapshot,
        b: &Snapshot,
        (group, files): (&str, bool),
        table: &str,
        ta: &TableProfile,
        tb: &TableProfile,
    ) {
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        let t = self.thresholds;
        let key = |what: &str| format!("{group}:{table}.{what}");
        for (env, profile) in [(ea, ta), (eb, tb)] {
            if let Some(error) = &profile.error {
                self.push(
                    a,
                    b,
                    group,
                    Observation {
                        table: table.to_string(),
                        key: key("profile"),
                        class: Class::Unreadable,
                        message: format!("`{table}` could not be profiled in {env}: {error}"),
                        a: None,
                        b: None,
                        covers: 1,
                    },
                );
            }
        }
        if ta.error.is_some() || tb.error.is_some() {
            return;
        }
        // Rows.
        self.compared += 1;
        let rows = |p: &TableProfile| {
            format!(
                "{}{} rows",
                if p.rows_exact { "" } else { "~" },
                thousands(p.rows)
            )
        };
        let row_ratio = ratio(ta.rows, tb.rows.max(1));
        let rows_off = if tb.rows > 0 && ta.rows == 0 {
            Some(format!("{ea} `{table}` is empty; {eb} has {}", rows(tb)))
        } else if ta.rows > 0 && tb.rows == 0 {
            Some(format!("{eb} `{table}` is empty; {ea} has {}", rows(ta)))
        } else if tb.rows > 0 && (row_ratio < t.row_ratio || row_ratio > 1.0 / t.row_ratio) {
            Some(format!(
                "{ea} `{table}` has {}, {eb} {} ({ea} holds {} of {eb}'s)",
                rows(ta),
                rows(tb),
                percent(row_ratio)
            ))
        } else {
            None
        };
        if let Some(message) = rows_off {
            self.push(
                a,
                b,
                group,
                Observation {
                    table: table.to_string(),
                    key: key("rows"),
                    class: Class::Drift,
                    message,
                    a: Some(rows(ta)),
                    b: Some(rows(tb)),
                    covers: 1,
                },
            );
        }
        let cols_a: BTreeMap<&str, &ColumnProfile> =
            ta.columns.iter().map(|c| (c.name.as_str(), c)).collect();
        for cb in &tb.columns {
            let Some(ca) = cols_a.get(cb.name.as_str()) else {
                if files {
                    self.column_presence(a, b, group, table, cb, Class::Missing);
                }
                continue;
            };
            self.pair_columns(a, b, group, table, ca, cb);
        }
        if files {
            let names_b: std::collections::BTreeSet<&str> =
                tb.columns.iter().map(|c| c.name.as_str()).collect();
            for ca in &ta.columns {
                if !names_b.contains(ca.name.as_str()) {
                    self.column_presence(a, b, group, table, ca, Class::Extra);
                }
            }
        }
    }

    fn column_presence(
        &mut self,
        a: &Snapshot,
        b: &Snapshot,
        group: &str,
        table: &str,
        column: &ColumnProfile,
        class: Class,
    ) {
        let (present, absent) = if class == Class::Missing {
            (&b.environment, &a.environment)
        } else {
            (&a.environment, &b.environment)
        };
        let shown = Some(column.data_type.clone());
        self.push(
            a,
            b,
            group,
            Observation {
                table: table.to_string(),
                key: format!("{group}:{table}.{}", column.name),
                class,
                message: format!(
                    "column `{table}.{}` exists in {present} but not in {absent}",
                    column.name
                ),
                a: if class == Class::Extra {
                    shown.clone()
                } else {
                    None
                },
                b: if class == Class::Missing { shown } else { None },
                covers: 1,
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn rate_finding(
        &mut self,
        a: &Snapshot,
        b: &Snapshot,
        group: &str,
        table: &str,
        column: &str,
        metric: &str,
        what: &str,
        (ra, rb): (f64, f64),
        threshold: f64,
    ) {
        self.compared += 1;
        let t = self.thresholds;
        let never_vs = (ra == 0.0 && rb >= t.never_vs) || (rb == 0.0 && ra >= t.never_vs);
        if (ra - rb).abs() < threshold && !never_vs {
            return;
        }
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        // The side with more of it first: "prod `orders.coupon` is 37 % NULL, qa never".
        let ((hi_env, hi), (lo_env, lo)) = if rb >= ra {
            ((eb, rb), (ea, ra))
        } else {
            ((ea, ra), (eb, rb))
        };
        let low = if lo == 0.0 {
            "never".to_string()
        } else {
            percent(lo)
        };
        self.push(
            a,
            b,
            group,
            Observation {
                table: table.to_string(),
                key: format!("{group}:{table}.{column}.{metric}"),
                class: Class::Drift,
                message: format!(
                    "{hi_env} `{}.{column}` is {} {what}, {lo_env} {low}",
                    short_table(table),
                    percent(hi)
                ),
                a: Some(format!("{} {what}", percent(ra))),
                b: Some(format!("{} {what}", percent(rb))),
                covers: 1,
            },
        );
    }

    fn pair_columns(
        &mut self,
        a: &Snapshot,
        b: &Snapshot,
        group: &str,
        table: &str,
        ca: &ColumnProfile,
        cb: &ColumnProfile,
    ) {
        let t = self.thresholds.clone();
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        let col = cb.name.as_str();
        let short = format!("{}.{col}", short_table(table));
        let fid = column_fidelity(ca, cb);
        self.rate_finding(
            a,
            b,
            group,
            table,
            col,
            "null_rate",
            "NULL",
            (ca.null_rate(), cb.null_rate()),
            t.null_rate,
        );
        if ca.kind != cb.kind {
            // A type change is a schema finding; the figures below would compare apples
            // with pears.
            return;
        }
        if ca.kind == ColumnKind::Text {
            self.rate_finding(
                a,
                b,
                group,
                table,
                col,
                "empty_rate",
                "empty strings",
                (ca.empty_rate(), cb.empty_rate()),
                t.empty_rate,
            );
            for ((name, sa), (_, sb)) in char_shares(ca).into_iter().zip(char_shares(cb)) {
                let metric = name.to_lowercase().replace('-', "_");
                self.rate_finding(
                    a,
                    b,
                    group,
                    table,
                    col,
                    &metric,
                    name,
                    (sa, sb),
                    t.char_class,
                );
            }
        }
        // Surrogate keys (`id`, `customer_id`) are spread by the table's size, not by
        // anything the application does; categories say more than their lengths.
        let categorical = category_like(ca) && category_like(cb);
        let distribution = fid
            .ks_values
            .map(|d| (d, "distribution", &ca.quantiles, &cb.quantiles, ""))
            .or_else(|| {
                fid.ks_lengths.filter(|_| !categorical).map(|d| {
                    (
                        d,
                        "lengths",
                        &ca.length_quantiles,
                        &cb.length_quantiles,
                        " chars",
                    )
                })
            });
        if let Some((d, metric, qa, qb, unit)) = distribution {
            self.compared += 1;
            if d >= t.ks {
                let show = |q: &[f64], p: usize| format_value(ca.kind, q[p], unit);
                let noun = if metric == "lengths" {
                    "lengths are"
                } else {
                    "values are"
                };
                self.push(
                    a,
                    b,
                    group,
                    Observation {
                        table: table.to_string(),
                        key: format!("{group}:{table}.{col}.{metric}"),
                        class: Class::Drift,
                        message: format!(
                            "`{short}` {noun} distributed differently (KS {d:.2}): median {} in {ea}, {} in {eb}; p99 {} in {ea}, {} in {eb}",
                            show(qa, 50),
                            show(qb, 50),
                            show(qa, 99),
                            show(qb, 99)
                        ),
                        a: Some(format!("median {}", show(qa, 50))),
                        b: Some(format!("median {}", show(qb, 50))),
                        covers: 1,
                    },
                );
            }
        }
        if let Some(d) = fid.js_categories {
            self.compared += 1;
            if d >= t.js {
                let mix = |c: &ColumnProfile| top_mix(&c.top, c.values - c.nulls.min(c.values));
                self.push(
                    a,
                    b,
                    group,
                    Observation {
                        table: table.to_string(),
                        key: format!("{group}:{table}.{col}.categories"),
                        class: Class::Drift,
                        message: format!(
                            "`{short}` mixes its values differently (JS {d:.2}): {eb} {}; {ea} {}",
                            mix(cb),
                            mix(ca)
                        ),
                        a: Some(mix(ca)),
                        b: Some(mix(cb)),
                        covers: 1,
                    },
                );
            }
        } else if let Some(d) = fid.js_shapes {
            // Shapes say the same as categories for category-like columns: one or the other.
            self.compared += 1;
            if d >= t.js {
                let mix = |c: &ColumnProfile| top_mix(&c.shapes, c.values - c.nulls.min(c.values));
                self.push(
                    a,
                    b,
                    group,
                    Observation {
                        table: table.to_string(),
                        key: format!("{group}:{table}.{col}.shapes"),
                        class: Class::Drift,
                        message: format!(
                            "`{short}` values have other shapes (JS {d:.2}): {eb} {}; {ea} {}",
                            mix(cb),
                            mix(ca)
                        ),
                        a: Some(mix(ca)),
                        b: Some(mix(cb)),
                        covers: 1,
                    },
                );
            }
        }
        // Distinct counts grow with rows; they say something only where the values are a
        // set of categories on at least one side.
        let most = ca.distinct.max(cb.distinct);
        if most > 0 && most <= t.category_max_distinct && (category_like(ca) || category_like(cb)) {
            self.compared += 1;
            if fid.distinct_ratio < t.distinct_ratio {
                let approx = |c: &ColumnProfile| if c.distinct_exact { "" } else { "~" };
                self.push(
                    a,
                    b,
                    group,
                    Observation {
                        table: table.to_string(),
                        key: format!("{group}:{table}.{col}.distinct"),
                        class: Class::Drift,
                        message: format!(
                            "`{short}` has {}{} distinct values in {ea}, {}{} in {eb}",
                            approx(ca),
                            thousands(ca.distinct),
                            approx(cb),
                            thousands(cb.distinct)
                        ),
                        a: Some(format!("{}{} distinct", approx(ca), ca.distinct)),
                        b: Some(format!("{}{} distinct", approx(cb), cb.distinct)),
                        covers: 1,
                    },
                );
            }
        }
    }

    fn push(&mut self, a: &Snapshot, b: &Snapshot, group: &str, o: Observation) {
        let mut finding = Finding {
            facet: Facet::Data,
            class: o.class,
            severity: o.class.default_severity(),
            key: o.key.clone(),
            group: group.to_string(),
            resource: (!o.table.is_empty()).then_some(o.table),
            a: Side {
                env: a.environment.clone(),
                value: o.a,
                location: None,
            },
            b: Side {
                env: b.environment.clone(),
                value: o.b,
                location: None,
            },
            message: o.message,
            reason: None,
            covers: o.covers,
        };
        if o.class != Class::Drift && o.class != Class::Unreadable {
            // Presence findings are compared keys too.
            self.compared += u64::from(o.covers);
        }
        apply_rules(
            self.rules,
            self.today,
            self.expect_used,
            &mut finding,
            vec![o.key],
        );
        self.findings.push(finding);
    }
}

/// `id`, `customer_id`, `customerId`: keys whose values are spread by table size.
fn is_key_column(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "id" || lower.ends_with("_id") || (name.ends_with("Id") && name.len() > 2)
}

fn display_name(name: &str) -> &str {
    if name.is_empty() { "(default)" } else { name }
}

/// `public.orders` → `orders` in messages: the schema is noise there.
fn short_table(table: &str) -> &str {
    match table.split_once('.') {
        Some((schema, rest)) if schema == "public" || schema == "main" => rest,
        _ => table,
    }
}

/// `0.041` → `4.1 %`; tiny non-zero shares stay visible as `<0.1 %`.
pub fn percent(x: f64) -> String {
    if x == 0.0 {
        "0 %".to_string()
    } else if x < 0.001 {
        "<0.1 %".to_string()
    } else if (x * 100.0).fract().abs() < 0.05 || x >= 0.995 {
        format!("{:.0} %", x * 100.0)
    } else {
        format!("{:.1} %", x * 100.0)
    }
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_value(kind: ColumnKind, x: f64, unit: &str) -> String {
    if kind == ColumnKind::Temporal && unit.is_empty() {
        let days = (x / 86_400.0).floor() as i64;
        return Date::from_unix_days(days).to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}{unit}")
    } else {
        format!("{x:.2}{unit}")
    }
}

/// `shipped 62 %, paid 20 %, new 9 %`.
fn top_mix(top: &[(String, u64)], total: u64) -> String {
    let parts: Vec<String> = top
        .iter()
        .take(3)
        .map(|(v, c)| {
            let shown = if v.is_empty() { "(empty)" } else { v.as_str() };
            format!("`{shown}` {}", percent(ratio(*c, total)))
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_read_like_a_person_wrote_them() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.37), "37 %");
        assert_eq!(percent(0.041), "4.1 %");
        assert_eq!(percent(0.0004), "<0.1 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(thousands(40_000_000), "40,000,000");
        assert_eq!(thousands(999), "999");
    }
}
