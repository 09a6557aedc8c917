//! `rules`: route by workload or task kind, to a model or to a nested policy.
//!
//! The lookup (workload name, then task kind, then `default`) is resolved
//! once when the policy is built, into one target per workload, so routing a
//! request is an index.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::catalog::TaskKind;
use crate::catalog::ModelId;
use crate::check::{Checker, Sampler};
use crate::input::suggest;
use crate::policy::single::SingleDef;
use crate::policy::{At, BuiltIn, Context, Decision, Policy, PolicyKind, PolicyNode, PolicySpec};
use crate::traffic::request::Request;

/// How deep `rules` may nest.
const MAX_RULE_DEPTH: usize = 4;

pub struct Rules {
    pub name: String,
    /// The policy that handles each workload, by workload index.
    pub by_workload: Vec<Arc<dyn Policy>>,
}

impl Policy for Rules {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &str {
        PolicyKind::Rules.name()
    }
    #[inline]
    fn route(&self, req: &Request, ctx: &Context<'_>, out: &mut Decision) {
        self.by_workload[req.workload as usize].route(req, ctx, out);
    }

    fn models(&self) -> Option<Vec<ModelId>> {
        let mut all = Vec::new();
        for p in &self.by_workload {
            all.extend(p.models()?);
        }
        Some(all)
    }

    fn outcomes_through_context(&self) -> bool {
        self.by_workload.iter().all(|p| p.outcomes_through_context())
    }

    fn builtin(&self) -> Option<crate::policy::BuiltinRef<'_>> {
        Some(crate::policy::BuiltinRef::Rules(self))
    }
}

/// What a rule routes to: a model key, or a nested policy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RuleTarget {
    Model(String),
    Policy(Box<PolicySpec>),
}

impl<'de> Deserialize<'de> for RuleTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleTarget;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a model key or a policy such as { cascade: {...} }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleTarget, E> {
                Ok(RuleTarget::Model(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RuleTarget, A::Error> {
                PolicySpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|p| RuleTarget::Policy(Box::new(p)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Checked `rules`: one node per distinct target, and for each workload
/// (by index) the node that handles it.
#[derive(Debug, Clone)]
pub struct RulesDef {
    pub nodes: Vec<PolicyNode>,
    pub by_workload: Vec<usize>,
}

impl BuiltIn for Rules {
    /// Workload name, task kind or `default` → a model key or a nested policy.
    type Spec = BTreeMap<String, RuleTarget>;
    type Def = RulesDef;

    fn check(
        rules: &BTreeMap<String, RuleTarget>,
        cx: &mut Checker<'_>,
        at: &At<'_>,
    ) -> Option<RulesDef> {
        let path = &at.path;
        if at.depth >= MAX_RULE_DEPTH {
            cx.err(
                path.clone(),
                format!("rules nest at most {MAX_RULE_DEPTH} levels deep"),
            );
            return None;
        }
        if rules.is_empty() {
            cx.err(
                path.clone(),
                "list at least one rule, e.g. { default: nova-pro }",
            );
            return None;
        }
        let mut nodes = Vec::new();
        let mut index_of: BTreeMap<&str, usize> = BTreeMap::new();
        for (key, target) in rules {
            let kp = format!("{path}.{key}");
            check_rule_key(cx, key, &kp);
            let node = match target {
                RuleTarget::Model(m) => cx.model(kp.clone(), m).map(|model| {
                    PolicyNode::Single(SingleDef {
                        model,
                        fallback: at.fallback.to_vec(),
                    })
                }),
                RuleTarget::Policy(p) => super::check(cx, p, &kp, at.fallback, at.depth + 1),
            };
            if let Some(node) = node {
                index_of.insert(key.as_str(), nodes.len());
                nodes.push(node);
            }
        }
        let mut by_workload = Vec::new();
        let names = cx.workload_names.clone();
        let tasks = cx.workload_tasks.clone();
        for (name, task) in names.iter().zip(tasks) {
            let idx = index_of
                .get(name.as_str())
                .or_else(|| index_of.get(task.as_str()))
                .or_else(|| index_of.get("default"));
            match idx {
                Some(i) => by_workload.push(*i),
                None => {
                    if !(rules.contains_key(name.as_str())
                        || rules.contains_key(task.as_str())
                        || rules.contains_key("default"))
                    {
                        cx.err(
                            path.clone(),
                            format!(
                                "no rule covers workload `{name}` (task {task}); add a rule for it, for its task, or a `default`"
                            ),
                        );
                    }
                    return None;
                }
            }
        }
        Some(RulesDef { nodes, by_workload })
    }

    fn build(def: &RulesDef, name: String, draw: &mut dyn Sampler) -> Arc<dyn Policy> {
        let built: Vec<Arc<dyn Policy>> = def
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| n.build(&format!("{name}/{i}"), draw))
            .collect();
        Arc::new(Rules {
            name,
            by_workload: def.by_workload.iter().map(|&i| built[i].clone()).collect(),
        })
    }
}

/// A rule's key names a workload, a task kind or `default`.
fn check_rule_key(cx: &mut Checker<'_>, key: &str, kp: &str) {
    let known = key == "default"
        || cx.workload_names.iter().any(|w| w == key)
        || TaskKind::parse(key).is_some();
    if known {
        return;
    }
    let mut candidates: Vec<String> = cx.workload_names.clone();
    candidates.extend(TaskKind::ALL.iter().map(|t| t.as_str().to_string()));
    candidates.push("default".into());
    let mut msg = format!("`{key}` is neither a workload, a task kind nor `default`");
    if let Some(s) = suggest(key, candidates.iter().map(String::as_str)) {
        msg.push_str(&format!("; did you mean `{s}`?"));
    }
    msg.push_str(&format!(
        "; workloads: {}; task kinds: {}",
        cx.workload_names.join(", "),
        TaskKind::names()
    ));
    cx.err(kp.to_string(), msg);
}
