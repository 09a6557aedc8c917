//! `tiersim optimize`: a known optimum found exactly, the search against
//! exhaustive enumeration, the emitted design reproduced by `run`, and bad
//! input refused with its exact message.

use serde_json::Value;

use crate::common::{absent_dir, stderr, stdout, temp_path, tiersim};

const KNOWN: &str = "tests/fixtures/optimize-known.yaml";

fn json(args: &[&str]) -> Value {
    let o = tiersim(args);
    assert!(
        o.status.success(),
        "tiersim {args:?} failed: {}",
        stderr(&o)
    );
    serde_json::from_str(&stdout(&o)).expect("JSON output")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn chosen(o: &Value) -> &Value {
    &o["frontier"][o["chosen"].as_u64().expect("chosen") as usize]
}

/// The element of the list `o[list]` named `name`.
fn named<'a>(o: &'a Value, list: &str, name: &str) -> &'a Value {
    o[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

fn verified<'a>(o: &'a Value, name: &str) -> &'a Value {
    named(o, "verified", name)
}

#[test]
fn known_optimum_is_found_at_every_budget() {
    // By hand: 500,000 requests a workload, 1,000 input and 100 output
    // tokens each, at the us profile. nova-micro: 1000 x $0.035/M + 100 x
    // $0.14/M = $0.000049 a request, $24.50 a workload. Sonnet 4.5 (us
    // profile, the global rates x 1.1): 1000 x $3.30/M + 100 x $16.50/M =
    // $0.00495, $2,475.00 a workload. Quality: nova-micro 0.5 on labels and
    // 0.9 on digests, Sonnet 0.99 on both (the fixture's capabilities), so
    // the four designs are (quality loss against all-sonnet's 0.99):
    //   Sonnet, Sonnet   $4,950.00   0 pp
    //   Sonnet, micro    $2,499.50   (0.99 - (0.99 + 0.9) / 2) = 4.5 pp
    //   micro, Sonnet    $2,499.50   24.5 pp (dominated by the one above)
    //   micro, micro        $49.00   29 pp
    for (budget, cost, loss, routes) in [
        ("1", 4950.0, 0.0, ["claude-sonnet-4-5", "claude-sonnet-4-5"]),
        ("5", 2499.5, 4.5, ["claude-sonnet-4-5", "nova-micro"]),
        ("29.5", 49.0, 29.0, ["nova-micro", "nova-micro"]),
    ] {
        let o = json(&[
            "optimize",
            KNOWN,
            "--models",
            "nova-micro,claude-sonnet-4-5",
            "--max-steps",
            "1",
            "--max-quality-loss",
            budget,
            "--format",
            "json",
        ]);
        let d = chosen(&o);
        assert!(
            (f(&d["total_cost_usd"]) - cost).abs() < 1e-6,
            "budget {budget}: {d}"
        );
        assert!(
            (f(&d["quality_loss_pp"]) - loss).abs() < 1e-6,
            "budget {budget}: {d}"
        );
        assert_eq!(d["routes"], serde_json::json!(routes), "budget {budget}");
        // Three undominated designs; (micro, Sonnet) is not one.
        assert_eq!(o["frontier"].as_array().unwrap().len(), 3);
        // The engine's re-run of the chosen design agrees with the sum.
        let v = verified(&o, "optimized");
        assert!((f(&v["total_cost_usd"]) - cost).abs() < 1e-6, "{v}");
    }
}

#[test]
fn out_directory_holds_the_frontier_and_the_design() {
    let dir = absent_dir("optimize-out");
    let o = tiersim(&[
        "optimize",
        KNOWN,
        "--models",
        "nova-micro,claude-sonnet-4-5",
        "--max-steps",
        "1",
        "--max-quality-loss",
        "5",
        "-q",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read =
        |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    // The three undominated designs of the known-optimum case, by hand.
    assert_eq!(
        read("frontier.csv"),
        "total_cost_usd,quality,quality_loss_pp,chosen,runner_up,total_cost_p90_usd,labels,digests\n\
         49.00,0.700000,29.0000,false,false,,nova-micro,nova-micro\n\
         2499.50,0.945000,4.5000,true,false,,claude-sonnet-4-5,nova-micro\n\
         4950.00,0.990000,0.0000,false,true,,claude-sonnet-4-5,claude-sonnet-4-5\n"
    );
    assert_eq!(
        read("optimized-policy.yaml"),
        "- name: optimized\n  rules:\n    labels: claude-sonnet-4-5\n    digests: nova-micro\n"
    );
    for f in [
        "optimize.json",
        "optimized-scenario.yaml",
        "design_frontier.svg",
        "design_frontier.png",
        "run.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn search_equals_exhaustive_enumeration_on_a_small_space() {
    // Three models, cascades of two, nova-pro at Flex and Priority, and
    // the scenario's prompt-router (nova-pro or Sonnet) at its curve's 20
    // thresholds: 28 routes for each of four workloads, 614,656 designs.
    // Enumerate them all from the per-workload figures the search reports
    // and check it picked the cheapest within 1 pp.
    let o = json(&[
        "optimize",
        "scenarios/support-platform.yaml",
        "--models",
        "nova-micro,nova-pro,claude-sonnet-4-5",
        "--max-steps",
        "2",
        "--max-quality-loss",
        "1",
        "--replications",
        "20",
        "--exhaustive",
        "--format",
        "json",
    ]);
    let ws = o["workloads"].as_array().unwrap();
    assert_eq!(ws.len(), 4);
    let requests: Vec<f64> = ws.iter().map(|w| f(&w["requests"])).collect();
    let total: f64 = requests.iter().sum();
    let base_q: f64 = ws
        .iter()
        .zip(&requests)
        .map(|(w, r)| f(&w["baseline_quality"]) * r)
        .sum::<f64>()
        / total;
    let cands: Vec<&Vec<Value>> = ws
        .iter()
        .map(|w| w["candidates"].as_array().unwrap())
        .collect();
    let labels: Vec<&str> = cands[0]
        .iter()
        .map(|c| c["route"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels[..8],
        [
            "nova-micro",
            "nova-pro",
            "claude-sonnet-4-5",
            "nova-pro:flex",
            "nova-pro:priority",
            "nova-micro > nova-pro",
            "nova-micro > claude-sonnet-4-5",
            "nova-pro > claude-sonnet-4-5"
        ]
    );
    assert_eq!(labels[8], "nova-pro or claude-sonnet-4-5 (max drop 1)");
    assert_eq!(labels[27], "nova-pro or claude-sonnet-4-5 (max drop 0)");
    let n = labels.len();
    assert_eq!(n, 28);
    assert!(cands.iter().all(|c| c.len() == n));
    let mut best: Option<(f64, Vec<String>)> = None;
    for k in 0..n.pow(4) {
        let mut rest = k;
        let (mut cost, mut succ, mut routes) = (0.0, 0.0, Vec::new());
        for (w, c) in cands.iter().enumerate() {
            let x = &c[rest % n];
            rest /= n;
            cost += f(&x["cost_usd"]);
            succ += f(&x["quality"]) * requests[w];
            routes.push(x["route"].as_str().unwrap().to_string());
        }
        let loss = (base_q - succ / total) * 100.0;
        if loss <= 1.0 + 1e-9 && best.as_ref().is_none_or(|b| cost < b.0) {
            best = Some((cost, routes));
        }
    }
    let (cost, routes) = best.expect("some design within 1 pp");
    let d = chosen(&o);
    assert!(
        (f(&d["total_cost_usd"]) - cost).abs() <= 1e-9 * cost,
        "search {} vs exhaustive {cost}",
        d["total_cost_usd"]
    );
    assert_eq!(d["routes"], serde_json::json!(routes));
}

#[test]
fn pruning_skips_only_dominated_routes() {
    // Ten models, some of them dominated (Claude 3 Haiku, Opus 4.1, Nova
    // Premier), cascades up to three steps: the default search skips the
    // (workload, route) pairs its bounds prove dominated, and must find the
    // very frontier the exhaustive search finds, design for design.
    let models = "nova-micro,nova-lite,claude-haiku-5-5,claude-3-haiku,nova-2-lite,claude-sonnet-4,claude-sonnet-5-5,nova-premier,claude-opus-5-5,claude-opus-4-1";
    let search = |extra: &[&str]| {
        let mut args = vec![
            "optimize",
            "scenarios/support-platform.yaml",
            "--models",
            models,
            "--max-quality-loss",
            "1",
            "--replications",
            "20",
            "--format",
            "json",
        ];
        args.extend(extra);
        json(&args)
    };
    let (pruned, full) = (search(&[]), search(&["--exhaustive"]));
    let skipped: u64 = pruned["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["skipped_routes"].as_u64().unwrap())
        .sum();
    let routes = f(&full["candidates"]) as u64 * 4;
    assert!(
        skipped * 5 > routes,
        "a fifth of the pairs or more are skipped here (234 of 712 on 2026-12-04): {skipped} of {routes}"
    );
    assert!(
        full["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["skipped_routes"] == 0)
    );
    let designs = |o: &Value| -> Vec<(f64, f64, Value)> {
        o["frontier"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    f(&d["total_cost_usd"]),
                    f(&d["quality"]),
                    d["routes"].clone(),
                )
            })
            .collect()
    };
    let (a, b) = (designs(&pruned), designs(&full));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x.0 - y.0).abs() <= 1e-9 * y.0, "{x:?} vs {y:?}");
        assert!((x.1 - y.1).abs() <= 1e-12, "{x:?} vs {y:?}");
        assert_eq!(x.2, y.2);
    }
    assert_eq!(pruned["chosen"], full["chosen"]);
}

#[test]
fn emitted_design_reproduces_under_run_and_beats_the_shipped_routing() {
    // Budget: the shipped `routed` policy's own quality loss. The optimizer
    // must find a design at least as cheap within it, and `tiersim run` on
    // the scenario it writes must print the same figures for it.
    let routed = json(&[
        "run",
        "scenarios/support-platform.yaml",
        "--format",
        "json",
        "-q",
    ]);
    let routed = named(&routed, "policies", "routed");
    let (routed_cost, routed_loss) = (f(&routed["total_cost_usd"]), f(&routed["quality_loss_pp"]));
    let file = temp_path("optimize-emitted.yaml");
    let budget = format!("{routed_loss}");
    let o = json(&[
        "optimize",
        "scenarios/support-platform.yaml",
        "--models",
        "nova-micro,nova-lite,nova-pro,claude-sonnet-4-5,claude-opus-4-5",
        "--max-quality-loss",
        &budget,
        "--write-scenario",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v = verified(&o, "optimized");
    assert!(
        f(&v["total_cost_usd"]) <= routed_cost,
        "optimized {} vs routed {routed_cost}",
        v["total_cost_usd"]
    );
    assert!(f(&v["quality_loss_pp"]) <= routed_loss + 1e-9);
    // The search's sum of per-workload figures is the engine's figure.
    let d = chosen(&o);
    assert!((f(&d["total_cost_usd"]) - f(&v["total_cost_usd"])).abs() < 1e-6 * routed_cost);
    // The same figures from `tiersim run` on the written scenario.
    let again = json(&["run", file.to_str().unwrap(), "--format", "json", "-q"]);
    let _ = std::fs::remove_file(&file);
    let p = named(&again, "policies", "optimized");
    assert_eq!(p["total_cost_usd"], v["total_cost_usd"]);
    assert_eq!(p["quality_loss_pp"], v["quality_loss_pp"]);
    assert_eq!(p["bands"]["total_cost_usd"], v["total_cost_bands_usd"]);
}

#[test]
fn router_curves_follow_the_routellm_definitions() {
    let o = json(&[
        "optimize",
        "scenarios/support-platform.yaml",
        "--models",
        "nova-pro,claude-sonnet-4-5",
        "--max-steps",
        "1",
        "--format",
        "json",
    ]);
    let curves = o["router_curves"].as_array().unwrap();
    assert_eq!(
        curves.len(),
        2,
        "support-platform has one two-step cascade (routed, on rag-answer) and one two-model classifier"
    );
    let c = &curves[1];
    assert_eq!(c["policy"], "prompt-router");
    assert_eq!(c["kind"], "classifier");
    // A random router recovers the share of the gap it sends to the strong
    // model: APGR 1/2, CPT(x%) = x%. Tolerance: the PGR of one point has a
    // standard error of at most 0.5 / sqrt(gap x N) = 0.011 here (a quality
    // gap of 3.1 pp, N = 65,536 sample requests), so 0.03 is three of them.
    let random = &c["random"];
    assert!((f(&random["apgr"]) - 0.5).abs() < 0.03, "{random}");
    assert!((f(&random["cpt50"]) - 0.5).abs() < 0.03, "{random}");
    assert!((f(&random["cpt80"]) - 0.8).abs() < 0.03, "{random}");
    // The classifier's curve: never strong at max_quality_drop 1, always at
    // 0; PGR between 0 and 1 and rising as the threshold falls.
    let pts = c["router"]["points"].as_array().unwrap();
    let first = pts.iter().find(|p| f(&p["setting"]) == 1.0).unwrap();
    let last = pts.iter().find(|p| f(&p["setting"]) == 0.0).unwrap();
    assert_eq!(f(&first["strong_share"]), 0.0);
    assert_eq!(f(&first["pgr"]), 0.0);
    assert_eq!(f(&last["strong_share"]), 1.0);
    assert!((f(&last["pgr"]) - 1.0).abs() < 1e-12);
    for w in pts.windows(2) {
        assert!(
            f(&w[1]["pgr"]) >= f(&w[0]["pgr"]) - 1e-12,
            "{} then {}",
            w[0],
            w[1]
        );
    }
    // A learned router beats a random one.
    assert!(f(&c["router"]["apgr"]) > 0.6);
    // At the scenario's own threshold (0.03) the curve's point is the
    // prompt-router policy as `run` reports it (the same requests).
    let run = json(&[
        "run",
        "scenarios/support-platform.yaml",
        "--format",
        "json",
        "-q",
    ]);
    let pr = named(&run, "policies", "prompt-router");
    let at = pts.iter().find(|p| f(&p["setting"]) == 0.03).unwrap();
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(rel(f(&at["total_cost_usd"]), f(&pr["total_cost_usd"])) < 1e-12);
    assert!(rel(f(&at["quality"]), f(&pr["quality"])) < 1e-12);

    // routed's cascade on rag-answer (nova-lite > nova-pro, gate recall 0.8
    // at false alarm 0.05): its gate moves along the binormal ROC through
    // that point, d' = z(0.8) - z(0.05) = 0.8416 + 1.6449 = 2.4865.
    let c = &curves[0];
    assert_eq!(c["policy"], "routed");
    assert_eq!(c["kind"], "cascade");
    assert_eq!(c["workload"], "rag-answer");
    assert_eq!(
        (c["weak"].as_str(), c["strong"].as_str()),
        (Some("nova-lite"), Some("nova-pro"))
    );
    let pts = c["router"]["points"].as_array().unwrap();
    // Recall at false alarm 0.01 by hand: Phi(2.4865 - 2.3263) = Phi(0.1601)
    // = 0.5636.
    let p01 = pts.iter().find(|p| f(&p["setting"]) == 0.01).unwrap();
    assert!((f(&p01["gate_recall"]) - 0.5636).abs() < 5e-4, "{p01}");
    // Never flagging is the weak model's quality, always flagging the
    // strong model's, with every request escalated.
    let (first, last) = (&pts[0], &pts[pts.len() - 1]);
    assert_eq!(f(&first["setting"]), 0.0);
    assert_eq!(f(&first["strong_share"]), 0.0);
    assert!(f(&first["pgr"]).abs() < 1e-9, "{first}");
    assert!((f(&last["strong_share"]) - 1.0).abs() < 1e-9, "{last}");
    assert!((f(&last["pgr"]) - 1.0).abs() < 1e-9, "{last}");
    let random = &c["random"];
    assert!((f(&random["apgr"]) - 0.5).abs() < 0.03, "{random}");
    // At the scenario's own operating point the curve is `run`'s routed
    // policy on rag-answer.
    let at = pts.iter().find(|p| f(&p["setting"]) == 0.05).unwrap();
    // (z is tiersim's normal quantile, accurate to about 1e-10.)
    assert!((f(&at["gate_recall"]) - 0.8).abs() < 1e-9, "{at}");
    let line = &named(&run, "policies", "routed")["by_workload"]["rag-answer"];
    assert!(rel(f(&at["total_cost_usd"]), f(&line["cost_usd"])) < 1e-9);
    assert!(rel(f(&at["quality"]), f(&line["quality"])) < 1e-9);
}

#[test]
fn latency_objectives_constrain_each_workload() {
    // support-platform-10x asks rag-answer for a p95 of 8 s: Opus's p95
    // misses it there (slower output), Sonnet's meets it, so only Sonnet
    // is a candidate route for rag-answer; other workloads state none.
    let o = json(&[
        "optimize",
        "scenarios/support-platform-10x.yaml",
        "--models",
        "claude-sonnet-4-5,claude-opus-4-5",
        "--max-steps",
        "1",
        "--max-quality-loss",
        "0",
        "--format",
        "json",
    ]);
    for w in o["workloads"].as_array().unwrap() {
        for c in w["candidates"].as_array().unwrap() {
            if w["workload"] == "rag-answer" {
                let p95 = f(&c["latency_p95_ms"]);
                let meets = c["meets_slo"].as_bool().unwrap();
                assert_eq!(meets, p95 <= 8000.0, "{c}");
                assert_eq!(c["allowed"], c["meets_slo"], "{c}");
                assert_eq!(meets, c["route"] == "claude-sonnet-4-5", "{c}");
            } else {
                assert!(c["meets_slo"].is_null() && c["latency_p95_ms"].is_null());
            }
        }
    }
    let rag = o["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .position(|w| w["workload"] == "rag-answer")
        .unwrap();
    assert_eq!(chosen(&o)["routes"][rag], "claude-sonnet-4-5");
    // With Opus alone nothing meets it: refused, saying so.
    let o = tiersim(&[
        "optimize",
        "scenarios/support-platform-10x.yaml",
        "--models",
        "claude-opus-4-5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: no route for workload `rag-answer` meets its latency objective (slo): the fastest of the 1 candidate routes has a p95 of "),
        "{err}"
    );
}

#[test]
fn p90_objective_trades_a_cheaper_mean_for_a_safer_tail() {
    // The known case with Sonnet at half price and nova-micro's price
    // multiplied by an uncertain factor m ~ Uniform(1, 90) (mean 45.5, P90
    // 81.1). Within 29.5 pp every design is allowed; by hand, from the
    // per-workload figures of known_optimum_is_found_at_every_budget:
    //   micro, micro            49 m: mean $2,229.50, P90 $3,973.90
    //   Sonnet, micro  1,237.5 + 24.5 m: mean $2,352.25, P90 $3,224.45
    //   Sonnet, Sonnet         $2,475.00, P90 $2,475.00 (nothing uncertain)
    // The mean objective takes the first, the P90 objective the last.
    let args = |objective: &str| {
        json(&[
            "optimize",
            KNOWN,
            "--models",
            "nova-micro,claude-sonnet-4-5",
            "--set",
            "prices.nova-micro.multiplier={ uniform: { min: 1, max: 90 } }",
            "--set",
            "prices.claude-sonnet-4-5.multiplier=0.5",
            "--max-quality-loss",
            "29.5",
            "--objective",
            objective,
            "--format",
            "json",
        ])
    };
    let mean = args("mean");
    assert_eq!(mean["objective"], "mean");
    assert_eq!(
        chosen(&mean)["routes"],
        serde_json::json!(["nova-micro", "nova-micro"])
    );
    // The replications' mean of m: 200 uniform draws, standard error
    // 25.7 / sqrt(200) = 1.8; 4 SE is 7.3 on m, $356 on 49 m.
    let micro = f(&chosen(&mean)["total_cost_usd"]);
    assert!((micro - 2229.5).abs() < 356.0, "{micro}");

    let p90 = args("p90");
    assert_eq!(p90["objective"], "p90");
    let d = chosen(&p90);
    assert_eq!(
        d["routes"],
        serde_json::json!(["claude-sonnet-4-5", "claude-sonnet-4-5"])
    );
    assert!((f(&d["total_cost_p90_usd"]) - 2475.0).abs() < 0.005);
    // Every design within the budget was run for its P90, and the chosen
    // one has the least. The sample P90 of 200 uniform draws has a
    // standard error of about sqrt(0.9 x 0.1 / 200) x 89 = 1.9 on m; 4 SE
    // is $370 on 49 m and $185 on 24.5 m.
    let frontier = p90["frontier"].as_array().unwrap();
    assert_eq!(frontier.len(), 3);
    let tails: Vec<f64> = frontier
        .iter()
        .map(|x| f(&x["total_cost_p90_usd"]))
        .collect();
    assert!((tails[0] - 3973.9).abs() < 370.0, "{tails:?}");
    assert!((tails[1] - 3224.45).abs() < 185.0, "{tails:?}");
    assert!((tails[2] - 2475.0).abs() < 0.005, "{tails:?}");
    // The verifying run agrees with the P90 the choice was made on.
    let v = verified(&p90, "optimized");
    assert!((f(&v["total_cost_bands_usd"][2]) - 2475.0).abs() < 0.005);
}

#[test]
fn a_gate_given_replaces_the_scenarios_and_is_checked() {
    let args = |gate: &str| {
        let all = [
            "optimize",
            "scenarios/support-platform.yaml",
            "--models",
            "nova-micro,nova-lite,claude-sonnet-4-5",
            "--max-steps",
            "2",
            "--replications",
            "2",
            "--gate",
            gate,
            "--format",
            "json",
        ];
        tiersim(&all)
    };
    // A perfect free gate: a cascade's quality is then its best step's
    // (success is nested across models under common outcomes), so
    // nova-micro > claude-sonnet-4-5 loses exactly what Sonnet alone loses.
    let o = args("{ recall: 1, false_alarm: 0, cost_usd: 0 }");
    assert!(o.status.success(), "{}", stderr(&o));
    let o: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        o["notes"].as_array().unwrap().iter().any(|n| n
            == "every searched cascade uses the gate given, judge included, on every workload"),
        "{}",
        o["notes"]
    );
    for w in o["workloads"].as_array().unwrap() {
        let c = |route: &str| {
            w["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["route"] == route)
                .map(|c| f(&c["quality"]))
                .unwrap()
        };
        let (alone, cascade) = (c("claude-sonnet-4-5"), c("nova-micro > claude-sonnet-4-5"));
        assert!(
            (alone - cascade).abs() < 1e-12,
            "{}: {alone} vs {cascade}",
            w["workload"]
        );
    }
    for (gate, want) in [
        (
            "{ recall: 2, false_alarm: 0.1 }",
            "error: the gate given: recall: must be between 0 and 1, got 2\n",
        ),
        (
            "[1",
            "error: --gate is not valid YAML (did not find expected ',' or ']' at line 2 column 1, while parsing a flow sequence); it wants a mapping like '{ recall: 0.9, false_alarm: 0.1 }'\n",
        ),
        (
            "0.9",
            "error: --gate wants a YAML mapping like '{ recall: 0.9, false_alarm: 0.1 }', got `0.9`\n",
        ),
    ] {
        let o = args(gate);
        assert_eq!(o.status.code(), Some(2), "{gate}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{gate}");
    }
}

#[test]
fn quotas_move_the_choice_to_the_cheapest_design_that_fits() {
    // Four models, two steps, 2 pp, 2 replications. The cheapest design
    // within the budget sends intent-classification and rag-answer to
    // nova-micro: 124,009 tokens a minute at month 12's busiest minute.
    let search = |quota: &str| {
        json(&[
            "optimize",
            "scenarios/support-platform.yaml",
            "--models",
            "nova-micro,nova-lite,nova-pro,claude-sonnet-4-5",
            "--max-steps",
            "2",
            "--replications",
            "2",
            "--max-quality-loss",
            "2",
            "--set",
            &format!("quotas.nova-micro={quota}"),
            "--format",
            "json",
        ])
    };
    let cheapest = |o: &Value| {
        o["frontier"]
            .as_array()
            .unwrap()
            .iter()
            .position(|d| f(&d["quality_loss_pp"]) <= 2.0 + 1e-9)
            .unwrap()
    };
    let notes = |o: &Value| -> Vec<String> {
        o["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    // Ample: the cheapest design is chosen, nothing said.
    let o = search("300000");
    assert_eq!(f(&o["chosen"]) as usize, cheapest(&o));
    assert!(
        notes(&o).iter().all(|n| !n.contains("quota")),
        "{:?}",
        notes(&o)
    );
    // Short by a fifth: a dearer design on the frontier that sends less to
    // nova-micro is chosen, and the note says what the cheaper one needs.
    let o = search("100000");
    let (c, first) = (f(&o["chosen"]) as usize, cheapest(&o));
    assert!(c > first, "chosen {c}, cheapest within the budget {first}");
    assert_eq!(
        o["frontier"][c]["routes"],
        serde_json::json!([
            "nova-micro",
            "nova-lite",
            "nova-lite > claude-sonnet-4-5",
            "nova-lite"
        ])
    );
    let cost = |i: usize| f(&o["frontier"][i]["total_cost_usd"]);
    assert!(cost(c) > cost(first));
    assert!(
        notes(&o).contains(&format!(
            "the cheapest design within the budget (${}) needs 124009 tokens a minute of nova-micro's quota at the busiest minute (month 12), above the 100000 it has: the chosen design is the cheapest on the frontier that fits every quota (ask for 130000 to use the cheaper one)",
            "25,073.60"
        )),
        "{:?}",
        notes(&o)
    );
    assert!(
        notes(&o)
            .iter()
            .all(|n| !n.starts_with("the chosen design needs"))
    );
    // Too short for any design within the budget: the cheapest is kept
    // and the notes say what to ask for.
    let o = search("60000");
    assert_eq!(f(&o["chosen"]) as usize, cheapest(&o));
    let n = notes(&o);
    assert!(n.contains(&"no design on the frontier within the budget fits every quota (the 63 cheapest were run), so the cheapest is kept".to_string()), "{n:?}");
    assert!(n.contains(&"the chosen design needs 124009 tokens a minute of nova-micro's quota at the busiest minute (month 12), above the 60000 it has: ask for 130000, or search without that model".to_string()), "{n:?}");
}

#[test]
fn bad_input_is_refused_with_exact_messages() {
    for (args, want) in [
        (
            vec!["--max-quality-loss", "-1"],
            "error: --max-quality-loss must be between 0 and 100 percentage points, got -1\n",
        ),
        (
            vec!["--models", "nova-mikro"],
            "error: no model `nova-mikro` in catalog bedrock-2026-11 (did you mean `nova-micro`?); `tiersim models` lists them\n",
        ),
        (
            vec!["--max-steps", "4"],
            "error: --max-steps must be 1 to 3 (1: single models only), got 4\n",
        ),
        (
            vec!["--workload-limit", "labelz=1"],
            "error: no workload `labelz` in the scenario (did you mean `labels`?); its workloads: labels, digests\n",
        ),
        (
            vec!["--workload-limit", "labels"],
            "error: --workload-limit wants NAME=PP (a workload and the most quality it may lose, in percentage points, from 0 to 100), e.g. drafted-reply=1, got `labels`\n",
        ),
        // An impossible budget says what binds.
        (
            vec!["--models", "nova-micro", "--max-quality-loss", "0"],
            "error: no design loses at most 0 pp of quality against `all-sonnet`: the best design of the models searched (nova-micro) loses 29.00 pp; search more models or allow a larger loss\n",
        ),
        (
            vec!["--models", "nova-micro", "--workload-limit", "labels=1"],
            "error: no route for workload `labels` stays within its limit of 1 pp of quality lost on it: the best of the 1 candidate routes loses 49.00 pp\n",
        ),
    ] {
        let mut all = vec!["optimize", KNOWN];
        all.extend(&args);
        let o = tiersim(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{args:?}");
    }
}
