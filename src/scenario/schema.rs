//! JSON Schemas (draft-07) of the files tiersim reads, generated from the
//! same Rust types that parse them (doc comments become descriptions), so
//! editors can autocomplete and check scenarios as they are written.

use schemars::generate::SchemaSettings;

use crate::catalog::spec::CatalogSpec;
use crate::quality::calibrate::profile::QualityProfile;
use crate::scenario::spec::ScenarioSpec;

/// Which file a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scenario,
    Catalog,
    Quality,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Scenario, Kind::Catalog, Kind::Quality];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Catalog => "catalog",
            Kind::Quality => "quality",
        }
    }

    /// Where the repository keeps it.
    pub fn file(self) -> String {
        format!("schemas/{}.schema.json", self.name())
    }
}

/// The schema as pretty JSON with a final newline.
pub fn schema(kind: Kind) -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = match kind {
        Kind::Scenario => generator.into_root_schema_for::<ScenarioSpec>(),
        Kind::Catalog => generator.into_root_schema_for::<CatalogSpec>(),
        Kind::Quality => generator.into_root_schema_for::<QualityProfile>(),
    };
    schema.insert("title".into(), format!("tiersim {}", kind.name()).into());
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    s.push('\n');
    s
}
