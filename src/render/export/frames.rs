//! The ledger and the replications as polars DataFrames, written as
//! Parquet and CSV. The only module that uses polars: the rest of tiersim
//! keeps its own arrays, and a polars upgrade touches this file alone.
//!
//! `ledger` (long format; mean over replications; zero rows left out):
//!
//! | column | meaning |
//! |---|---|
//! | `policy`, `month` (1-based), `workload`, `model`, `family` | the cell; `model` is empty on `fixed_overhead` rows |
//! | `component` | `input`, `cache_write`, `cache_read`, `output` (answer calls), `overhead` (gate, judge and classifier calls), `fixed_overhead` (per-request fees) |
//! | `requests` | the workload's requests that month under the policy: context for per-request figures, repeated on every row of the workload, not to be summed |
//! | `calls` | calls to the model: answer calls on the `input` row, overhead calls on the `overhead` row (so the column sums to the calls) |
//! | `input_tokens`, `cached_tokens`, `output_tokens` | tokens billed under the component: uncached input on `input`, written on `cache_write`, read on `cache_read`, generated on `output`; the overhead calls' own on `overhead` |
//! | `cost_usd` | what the component cost; the column sums to the policy's total |
//!
//! `replications` (one row per replication × policy × month): `replication`
//! (1-based), `policy`, `month`, `requests`, `cost_usd`, `succeeded`,
//! `escalated`, `quality`: the draws the bands are quantiles of.
//!
//! Parquet keeps every float in full; CSV writes six decimals (a
//! millionth of a dollar, a millionth of a token).

use polars::prelude::*;

use crate::catalog::pricing::Component;
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sim::Run;
use crate::sim::ledger::Group;

/// Decimals of floats in the CSV files.
const CSV_DECIMALS: usize = 6;

/// Column buffers of the ledger, filled row by row.
#[derive(Default)]
struct LedgerColumns {
    policy: Vec<String>,
    month: Vec<u32>,
    workload: Vec<String>,
    model: Vec<String>,
    family: Vec<String>,
    component: Vec<&'static str>,
    requests: Vec<f64>,
    calls: Vec<f64>,
    input_tokens: Vec<f64>,
    cached_tokens: Vec<f64>,
    output_tokens: Vec<f64>,
    cost_usd: Vec<f64>,
}

/// One ledger row's measures.
struct Measures {
    calls: f64,
    input: f64,
    cached: f64,
    output: f64,
    cost: f64,
}

impl Measures {
    fn is_zero(&self) -> bool {
        self.calls == 0.0
            && self.input == 0.0
            && self.cached == 0.0
            && self.output == 0.0
            && self.cost == 0.0
    }
}

/// The cell a row belongs to.
struct Key<'a> {
    policy: &'a str,
    month: u32,
    workload: &'a str,
    model: &'a str,
    family: &'a str,
    requests: f64,
}

impl LedgerColumns {
    fn push(&mut self, k: &Key<'_>, component: &'static str, m: Measures) {
        if m.is_zero() {
            return;
        }
        self.policy.push(k.policy.to_string());
        self.month.push(k.month);
        self.workload.push(k.workload.to_string());
        self.model.push(k.model.to_string());
        self.family.push(k.family.to_string());
        self.component.push(component);
        self.requests.push(k.requests);
        self.calls.push(m.calls);
        self.input_tokens.push(m.input);
        self.cached_tokens.push(m.cached);
        self.output_tokens.push(m.output);
        self.cost_usd.push(m.cost);
    }

    fn into_frame(self) -> Result<DataFrame> {
        let height = self.policy.len();
        let columns = vec![
            Column::new("policy".into(), self.policy),
            Column::new("month".into(), self.month),
            Column::new("workload".into(), self.workload),
            Column::new("model".into(), self.model),
            Column::new("family".into(), self.family),
            Column::new("component".into(), self.component),
            Column::new("requests".into(), self.requests),
            Column::new("calls".into(), self.calls),
            Column::new("input_tokens".into(), self.input_tokens),
            Column::new("cached_tokens".into(), self.cached_tokens),
            Column::new("output_tokens".into(), self.output_tokens),
            Column::new("cost_usd".into(), self.cost_usd),
        ];
        DataFrame::new(height, columns).map_err(polars_failure)
    }
}

fn polars_failure(e: PolarsError) -> Error {
    Error::write_failed(format!("building the data files failed: {e}"))
}

/// The ledger: policy × month × workload × model × component, mean over
/// replications.
pub fn ledger(s: &Scenario, run: &Run) -> Result<DataFrame> {
    use Component as C;
    let mut cols = LedgerColumns::default();
    for (m, (ledgers, costs)) in run.ledgers.iter().zip(&run.costs).enumerate() {
        for (p, name) in run.policy_names.iter().enumerate() {
            let (l, c) = (&ledgers[p], &costs[p]);
            for (w, wl) in s.workloads.iter().enumerate() {
                let requests = l.per_workload[w].requests;
                for (mi, model) in s.catalog.models.iter().enumerate() {
                    let cell = l.cell(w, mi);
                    let cost = &c.cells[w * c.n_models + mi];
                    let key = Key {
                        policy: name,
                        month: (m + 1) as u32,
                        workload: &wl.name,
                        model: &model.key,
                        family: &model.family,
                        requests,
                    };
                    let main = |x: C| cell.component_tokens(crate::sim::ledger::MAIN, x);
                    let ovh = |x: C| cell.component_tokens(crate::sim::ledger::OVERHEAD, x);
                    let g = |x: Group| cost[x as usize];
                    cols.push(
                        &key,
                        "input",
                        Measures {
                            calls: cell.calls,
                            input: main(C::Input),
                            cached: 0.0,
                            output: 0.0,
                            cost: g(Group::Input),
                        },
                    );
                    cols.push(
                        &key,
                        "cache_write",
                        Measures {
                            calls: 0.0,
                            input: 0.0,
                            cached: main(C::CacheWrite5m) + main(C::CacheWrite1h),
                            output: 0.0,
                            cost: g(Group::CacheWrite),
                        },
                    );
                    cols.push(
                        &key,
                        "cache_read",
                        Measures {
                            calls: 0.0,
                            input: 0.0,
                            cached: main(C::CacheRead),
                            output: 0.0,
                            cost: g(Group::CacheRead),
                        },
                    );
                    cols.push(
                        &key,
                        "output",
                        Measures {
                            calls: 0.0,
                            input: 0.0,
                            cached: 0.0,
                            output: main(C::Output),
                            cost: g(Group::Output),
                        },
                    );
                    cols.push(
                        &key,
                        "overhead",
                        Measures {
                            calls: cell.overhead_calls,
                            input: ovh(C::Input),
                            cached: ovh(C::CacheWrite5m) + ovh(C::CacheWrite1h) + ovh(C::CacheRead),
                            output: ovh(C::Output),
                            cost: g(Group::Overhead),
                        },
                    );
                }
                let key = Key {
                    policy: name,
                    month: (m + 1) as u32,
                    workload: &wl.name,
                    model: "",
                    family: "",
                    requests,
                };
                cols.push(
                    &key,
                    "fixed_overhead",
                    Measures {
                        calls: 0.0,
                        input: 0.0,
                        cached: 0.0,
                        output: 0.0,
                        cost: c.fixed_overhead[w],
                    },
                );
            }
        }
    }
    cols.into_frame()
}

/// Per policy, month and session workload (mean over replications): what
/// its sessions did. `None` when the scenario has no session workload.
///
/// Columns: `policy`, `month`, `workload`, `sessions`, `turns`,
/// `calls` (answer and summary calls), `compactions`, `turns_succeeded`,
/// `sessions_succeeded`, `fresh_input_tokens`, `cache_write_tokens`,
/// `cache_read_tokens`, `output_tokens`, `cost_usd` (the workload's cost
/// that month, as in the ledger).
pub fn sessions(s: &Scenario, run: &Run) -> Result<Option<DataFrame>> {
    let session_workloads: Vec<usize> = (0..s.workloads.len())
        .filter(|&w| s.workloads[w].session.is_some())
        .collect();
    if session_workloads.is_empty() {
        return Ok(None);
    }
    let mut policy = Vec::new();
    let mut month = Vec::new();
    let mut workload = Vec::new();
    let mut f: [Vec<f64>; 11] = Default::default();
    for (m, (ledgers, costs)) in run.ledgers.iter().zip(&run.costs).enumerate() {
        for (p, name) in run.policy_names.iter().enumerate() {
            let by_workload = costs[p].by_workload();
            for &w in &session_workloads {
                let t = &ledgers[p].sessions[w];
                let c = &ledgers[p].per_workload[w];
                policy.push(name.clone());
                month.push((m + 1) as u32);
                workload.push(s.workloads[w].name.clone());
                let values = [
                    t.sessions,
                    t.turns,
                    t.calls,
                    t.compactions,
                    t.turns_succeeded,
                    c.succeeded,
                    t.fresh,
                    t.write,
                    t.read,
                    t.output,
                    by_workload[w],
                ];
                for (col, v) in f.iter_mut().zip(values) {
                    col.push(v);
                }
            }
        }
    }
    let names = [
        "sessions",
        "turns",
        "calls",
        "compactions",
        "turns_succeeded",
        "sessions_succeeded",
        "fresh_input_tokens",
        "cache_write_tokens",
        "cache_read_tokens",
        "output_tokens",
        "cost_usd",
    ];
    let n = policy.len();
    let mut columns = vec![
        Column::new("policy".into(), policy),
        Column::new("month".into(), month),
        Column::new("workload".into(), workload),
    ];
    for (name, col) in names.iter().zip(f) {
        columns.push(Column::new((*name).into(), col));
    }
    DataFrame::new(n, columns).map(Some).map_err(polars_failure)
}

/// Per replication, policy and month: the draws behind the bands.
pub fn replications(run: &Run) -> Result<DataFrame> {
    let n = run.reps.len() * run.months * run.policy_names.len();
    let mut replication = Vec::with_capacity(n);
    let mut policy = Vec::with_capacity(n);
    let mut month = Vec::with_capacity(n);
    let mut requests = Vec::with_capacity(n);
    let mut cost = Vec::with_capacity(n);
    let mut succeeded = Vec::with_capacity(n);
    let mut escalated = Vec::with_capacity(n);
    let mut quality = Vec::with_capacity(n);
    for (r, rep) in run.reps.iter().enumerate() {
        for (p, name) in run.policy_names.iter().enumerate() {
            for (m, months) in rep.iter().enumerate() {
                let x = &months[p];
                replication.push((r + 1) as u32);
                policy.push(name.clone());
                month.push((m + 1) as u32);
                requests.push(x.requests);
                cost.push(x.cost_usd);
                succeeded.push(x.succeeded);
                escalated.push(x.escalated);
                quality.push(if x.requests > 0.0 {
                    x.succeeded / x.requests
                } else {
                    0.0
                });
            }
        }
    }
    DataFrame::new(
        n,
        vec![
            Column::new("replication".into(), replication),
            Column::new("policy".into(), policy),
            Column::new("month".into(), month),
            Column::new("requests".into(), requests),
            Column::new("cost_usd".into(), cost),
            Column::new("succeeded".into(), succeeded),
            Column::new("escalated".into(), escalated),
            Column::new("quality".into(), quality),
        ],
    )
    .map_err(polars_failure)
}

/// The frame as Parquet (zstd-compressed, full precision).
pub fn parquet(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .map_err(polars_failure)?;
    Ok(buf)
}

/// The frame as CSV with a header and six decimals.
pub fn csv(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .with_float_precision(Some(CSV_DECIMALS))
        .finish(df)
        .map_err(polars_failure)?;
    Ok(buf)
}
