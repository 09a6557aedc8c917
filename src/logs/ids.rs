//! Model ids as Bedrock logs them, resolved to a catalog model and an
//! inference profile: a plain model id (`anthropic.claude-sonnet-4-5-...`),
//! one with a profile prefix (`us.`, `global.`, ...), an inference-profile
//! ARN, a foundation-model ARN, and ids only the user can resolve
//! (application inference profiles, provisioned and custom models),
//! through a map they give.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, ModelId};

/// Inference-profile prefixes Bedrock writes before a model id.
const PREFIXES: &[&str] = &["us", "eu", "apac", "jp", "au", "global", "us-gov", "ca"];

/// User-given resolutions: a logged id (a whole ARN, or the part after its
/// last `/`) → a catalog model key and optionally a profile.
#[derive(Debug, Clone, Default)]
pub struct ModelMap {
    pub entries: BTreeMap<String, (String, Option<String>)>,
}

impl ModelMap {
    /// Reads `ID=MODEL` or `ID=MODEL@PROFILE`; says what is wrong otherwise.
    pub fn add(&mut self, entry: &str) -> std::result::Result<(), String> {
        let Some((id, target)) = entry.split_once('=') else {
            return Err(format!(
                "`{entry}` is not ID=MODEL or ID=MODEL@PROFILE (e.g. abc123=claude-sonnet-4-5@us)"
            ));
        };
        let (model, profile) = match target.split_once('@') {
            Some((m, p)) => (m.trim(), Some(p.trim().to_string())),
            None => (target.trim(), None),
        };
        if id.trim().is_empty() || model.is_empty() || profile.as_deref() == Some("") {
            return Err(format!(
                "`{entry}` is not ID=MODEL or ID=MODEL@PROFILE (e.g. abc123=claude-sonnet-4-5@us)"
            ));
        }
        self.entries
            .insert(id.trim().to_string(), (model.to_string(), profile));
        Ok(())
    }

    /// Every target names a catalog model that offers the profile given.
    pub fn check(&self, catalog: &Catalog) -> std::result::Result<(), String> {
        for (id, (model, profile)) in &self.entries {
            let Some(m) = catalog.find(model) else {
                return Err(format!(
                    "{id}={model}: {}",
                    catalog.unknown_model_message(model)
                ));
            };
            if let Some(p) = profile
                && !catalog.model(m).profiles.contains_key(p)
            {
                return Err(format!(
                    "{id}={model}@{p}: {model} has no `{p}` profile; it has {}",
                    catalog
                        .model(m)
                        .profiles
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A logged id resolved, or why it could not be.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The model and the profile the call was billed under (`None`: the
    /// scenario's or catalog's default).
    Model(ModelId, Option<String>),
    /// Why it cannot be priced.
    Unknown(String),
}

/// Matches a Bedrock model id (with or without an inference-profile prefix
/// such as `us.` or `global.`) to a catalog model and that profile.
pub fn match_model(catalog: &Catalog, model_id: &str) -> Option<(ModelId, Option<String>)> {
    let (profile, bare) = match model_id.split_once('.') {
        Some((p, rest)) if PREFIXES.contains(&p) => (Some(p.to_string()), rest),
        _ => (None, model_id),
    };
    catalog
        .ids()
        .find(|&id| catalog.model(id).provider_id == bare || catalog.model(id).key == bare)
        .map(|id| (id, profile))
}

/// Resolves a logged model id: the user's map first (the whole id, then
/// the part after an ARN's last `/`), then ARNs by their kind, then the id.
pub fn resolve(catalog: &Catalog, id: &str, map: &ModelMap) -> Resolution {
    let short = id.rsplit_once('/').map_or(id, |(_, s)| s);
    if let Some((model, profile)) = map.entries.get(id).or_else(|| map.entries.get(short)) {
        return match catalog.find(model) {
            Some(m) => Resolution::Model(m, profile.clone()),
            None => Resolution::Unknown(catalog.unknown_model_message(model)),
        };
    }
    if let Some(rest) = id.strip_prefix("arn:") {
        // arn:<partition>:bedrock:<region>:<account>:<type>/<id>
        let resource = rest.splitn(5, ':').nth(4).unwrap_or("");
        let (kind, name) = resource.split_once('/').unwrap_or((resource, ""));
        return match kind {
            "inference-profile" | "foundation-model" => match match_model(catalog, name) {
                Some((m, p)) => Resolution::Model(m, p),
                None => Resolution::Unknown(format!("{kind} `{name}` is not in the catalog")),
            },
            "application-inference-profile"
            | "provisioned-model"
            | "custom-model"
            | "imported-model"
            | "custom-model-deployment" => {
                let words = kind.replace('-', " ");
                let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                Resolution::Unknown(format!(
                    "{article} {words} ({name}): its model is known only to your account; map it to a catalog model"
                ))
            }
            _ => Resolution::Unknown(format!("`{id}` is not a Bedrock model ARN")),
        };
    }
    match match_model(catalog, id) {
        Some((m, p)) => Resolution::Model(m, p),
        None => Resolution::Unknown("not in the catalog".into()),
    }
}
