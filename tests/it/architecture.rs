//! The layout's rules, read from the source (ARCHITECTURE.md, "Invariants"):
//! the library's top-level modules form layers and import only downwards;
//! no two modules anywhere in `src/` import each other, directly or round
//! a longer loop; the library never names a command-line flag; one module
//! builds random generators and mixes seeds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::root;

/// The library's layers, lowest first. A module may import modules of a
/// lower rank only (the foundations: any foundation listed before it).
const LAYERS: &[&str] = &[
    "error", "calendar", "random", "stats", "input", "catalog", "quality", "logs", "check",
    "traffic", "policy", "scenario", "sim", "analysis", "render",
];

/// A source file as a module path (`sim::fast`, `scenario` for
/// `scenario/mod.rs`), and its text without comments.
struct Module {
    path: Vec<String>,
    file: PathBuf,
    code: Vec<(usize, String)>,
}

fn library_modules() -> Vec<Module> {
    let src = root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .filter_map(|f| {
            let rel = f
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "main.rs" || rel.starts_with("cli/") {
                return None; // the binary
            }
            let mut path: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if path.last().is_some_and(|l| l == "mod" || l == "lib") {
                path.pop();
            }
            let text = std::fs::read_to_string(&f).unwrap();
            let code = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//"))
                .map(|(i, l)| (i + 1, l.to_string()))
                .collect();
            Some(Module {
                path,
                file: f,
                code,
            })
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every module path `m` refers to through `crate::` or `super::`, with
/// the line, resolved against the modules that exist.
fn references(
    m: &Module,
    known: &BTreeSet<Vec<String>>,
    is_mod_rs: bool,
) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    for (line_no, line) in &m.code {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("crate::").or_else(|| rest.find("super::")) {
            let from_crate = rest[at..].starts_with("crate::");
            let prefix_ok =
                at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let tail = &rest[at..];
            let mut segs: Vec<String> = tail
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            rest = &rest[at + 7..];
            if !prefix_ok || segs.is_empty() {
                continue;
            }
            let mut base: Vec<String> = if from_crate {
                segs.remove(0);
                Vec::new()
            } else {
                // `super` of a file module is its parent; of a mod.rs, the
                // folder's parent.
                let mut b = m.path.clone();
                while segs.first().is_some_and(|s| s == "super") {
                    segs.remove(0);
                    b.pop();
                }
                let _ = is_mod_rs;
                b
            };
            // The longest prefix that names a module.
            let mut target = None;
            for s in segs {
                base.push(s);
                if known.contains(&base) {
                    target = Some(base.clone());
                } else {
                    break;
                }
            }
            if let Some(t) = target {
                out.push((t, *line_no));
            }
        }
    }
    out
}

fn is_ancestor(a: &[String], b: &[String]) -> bool {
    a.len() <= b.len() && b[..a.len()] == *a
}

#[test]
fn imports_follow_the_layers_and_no_module_loop_exists() {
    let modules = library_modules();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let rank = |top: &str| LAYERS.iter().position(|l| *l == top);
    let mut against = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for m in &modules {
        if m.path.is_empty() {
            continue; // lib.rs re-exports the public API
        }
        let top = &m.path[0];
        let r = rank(top)
            .unwrap_or_else(|| panic!("src/{top} is in no layer of tests/it/architecture.rs"));
        let is_mod_rs = m.file.ends_with("mod.rs");
        for (t, line) in references(m, &known, is_mod_rs) {
            let tt = &t[0];
            let tr = rank(tt).unwrap_or_else(|| panic!("{tt} is in no layer"));
            if tt != top && tr > r {
                against.push(format!("{}:{line}: {top} imports {tt}", m.file.display()));
            }
            // Parent and child may use each other (a folder's mod.rs holds
            // what its files share); every other pair must not loop.
            if !is_ancestor(&m.path, &t) && !is_ancestor(&t, &m.path) {
                edges.entry(m.path.clone()).or_default().insert(t);
            }
        }
    }
    assert!(
        against.is_empty(),
        "imports against the flow:\n{}",
        against.join("\n")
    );

    // Depth-first search for a cycle.
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|x| x == n).unwrap();
                return Some(stack[at..].to_vec());
            }
            _ => {}
        }
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for t in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(t, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(n, &edges, &mut state, &mut stack) {
            let names: Vec<String> = cycle.iter().map(|p| p.join("::")).collect();
            panic!(
                "modules import each other: {} -> {}",
                names.join(" -> "),
                names[0]
            );
        }
    }
}

#[test]
fn the_library_never_names_a_command_line_flag() {
    const FLAGS: [&str; 12] = [
        "--set",
        "--vary",
        "--out",
        "--force",
        "--samples",
        "--strict",
        "--task-kind",
        "--exact",
        "--replications",
        "--threads",
        "--seed",
        "--catalog",
    ];
    let mut found = Vec::new();
    for m in library_modules() {
        for (line_no, line) in &m.code {
            // Only string literals matter: a message.
            let mut in_string = false;
            let mut literal = String::new();
            let mut prev = ' ';
            for c in line.chars() {
                if c == '"' && prev != '\\' {
                    if in_string {
                        for f in FLAGS {
                            if literal
                                .split(|c: char| c.is_whitespace() || c == '(' || c == '`')
                                .any(|w| w == f || w.starts_with(&format!("{f}=")))
                            {
                                found.push(format!("{}:{line_no}: {f}", m.file.display()));
                            }
                        }
                        literal.clear();
                    }
                    in_string = !in_string;
                } else if in_string {
                    literal.push(c);
                }
                prev = c;
            }
        }
    }
    assert!(
        found.is_empty(),
        "the library words messages in flags:\n{}",
        found.join("\n")
    );
}

#[test]
fn one_module_builds_generators_and_mixes_seeds() {
    const MARKS: [&str; 5] = [
        "seed_from_u64",
        "SeedableRng",
        "from_seed(",
        "Xoshiro",
        "fn mix64",
    ];
    let mut found = BTreeSet::new();
    for m in library_modules() {
        for (_, line) in &m.code {
            if MARKS.iter().any(|k| line.contains(k)) || line.contains("0x9e37_79b9") {
                found.insert(m.path.join("::"));
            }
        }
    }
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["random".to_string()]
    );
}
