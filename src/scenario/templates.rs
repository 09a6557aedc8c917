//! Starter scenarios for `tiersim init`: the shipped scenarios, embedded,
//! each annotated so a founder can adapt it.

/// (name, one-line description, YAML text).
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "support-platform",
        "B2B customer-support AI, ~3M requests/month, frontier-only baseline vs routed Nova-first design",
        include_str!("../../scenarios/support-platform.yaml"),
    ),
    (
        "rag-assistant",
        "multi-tenant retrieval-augmented assistant; cache hits split across 150 tenant prefixes",
        include_str!("../../scenarios/rag-assistant.yaml"),
    ),
    (
        "coding-assistant",
        "AI pair programmer, Claude-heavy; which Claude tier when, with 1-hour repo caching",
        include_str!("../../scenarios/coding-assistant.yaml"),
    ),
    (
        "document-extraction",
        "multimodal back-office extraction at high volume, Nova-heavy, mostly batch",
        include_str!("../../scenarios/document-extraction.yaml"),
    ),
];

/// The template `init` writes when none is named.
pub const DEFAULT_TEMPLATE: &str = "support-platform";

pub fn find(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, t)| *t)
}

/// The editor modeline the shipped scenarios start with
/// (`# yaml-language-server: $schema=../schemas/scenario.schema.json`).
/// Its path is relative to the repository's `scenarios/`, so `init` drops it
/// rather than write a link that is wrong wherever the copy lands; the
/// README shows how to point an editor at `tiersim schema scenario`.
pub fn without_schema_modeline(text: &str) -> &str {
    match text.strip_prefix("# yaml-language-server:") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, after)| after),
        None => text,
    }
}
