//! Charts with plotters, each drawn once per backend: SVG (text stays text,
//! for the HTML report and for editing) and PNG (for slides and chat).
//!
//! PNG text is rasterised with ab_glyph from a font compiled into the
//! binary (DejaVu Sans, `assets/fonts/`, licence beside it), so charts
//! render the same on a machine with no font libraries. Colours are fixed
//! per policy (its position in the scenario) and per model (its family,
//! shaded by its place in the catalog), so a policy or model looks the same
//! in every chart.

pub mod run;
pub mod whatif;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::error::{Error, Result};

/// The embedded font.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The family every chart asks for.
pub const FAMILY: &str = "sans-serif";

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;

/// One chart in both formats.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem, e.g. `monthly_cost`.
    pub name: &'static str,
    pub title: String,
    /// What the chart shows, in a sentence (the report prints it under the chart).
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is compiled in and known to parse (a test checks it).
            let _ = register_font(FAMILY, style, FONT);
        }
    });
}

fn chart_failure(name: &str, e: impl std::fmt::Display) -> Error {
    Error::write_failed(format!("drawing chart {name} failed: {e}"))
}

/// Draws `chart` as SVG and PNG.
pub fn render(
    name: &'static str,
    title: String,
    caption: String,
    chart: &impl Chart,
) -> Result<Figure> {
    render_as(true, name, title, caption, chart)
}

/// Draws `chart` as SVG, and as PNG too when `png` (the what-if page
/// shows SVG only, and rasterising is most of a chart's time).
pub fn render_as(
    png: bool,
    name: &'static str,
    title: String,
    caption: String,
    chart: &impl Chart,
) -> Result<Figure> {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_failure(name, e))?;
        chart.draw(&root).map_err(|e| chart_failure(name, e))?;
        root.present().map_err(|e| chart_failure(name, e))?;
    }
    if !png {
        return Ok(Figure {
            name,
            title,
            caption,
            svg,
            png: Vec::new(),
        });
    }
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_failure(name, e))?;
        chart.draw(&root).map_err(|e| chart_failure(name, e))?;
        root.present().map_err(|e| chart_failure(name, e))?;
    }
    let png = encode_png(&rgb, WIDTH, HEIGHT).map_err(|e| chart_failure(name, e))?;
    Ok(Figure {
        name,
        title,
        caption,
        svg,
        png,
    })
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}

/// Policy colours (Tableau 10), by the policy's position in the scenario.
const POLICY_COLOURS: [(u8, u8, u8); 10] = [
    (78, 121, 167),
    (242, 142, 43),
    (225, 87, 89),
    (118, 183, 178),
    (89, 161, 79),
    (237, 201, 72),
    (176, 122, 161),
    (255, 157, 167),
    (156, 117, 95),
    (186, 176, 172),
];

pub fn policy_colour(index: usize) -> RGBColor {
    let (r, g, b) = POLICY_COLOURS[index % POLICY_COLOURS.len()];
    RGBColor(r, g, b)
}

/// A model's size class from its name, 0 (smallest) to 1 (largest):
/// micro, lite/haiku, pro/sonnet, premier/opus.
pub fn tier_of(key: &str) -> f64 {
    let k = key.to_ascii_lowercase();
    if k.contains("micro") {
        0.0
    } else if k.contains("lite") || k.contains("haiku") {
        0.33
    } else if k.contains("premier") || k.contains("opus") {
        1.0
    } else {
        0.66
    }
}

/// A model's colour: its family's hue (Nova orange, Claude violet, others
/// teal), darker for larger models (`tier` from [`tier_of`]), the hue
/// shifted a little for each later generation of the same tier.
pub fn model_colour(family: &str, tier: f64, generation: usize) -> RGBColor {
    let (hue, step) = match family {
        "nova" => (22.0, 9.0),
        "claude" => (255.0, 11.0),
        _ => (175.0, 10.0),
    };
    let h = hue + step * (generation % 5) as f64;
    let l = 0.78 - 0.46 * tier;
    hsl(h, 0.65, l)
}

/// Cost component colours (input, cache write, cache read, output, overhead).
pub const COMPONENT_COLOURS: [RGBColor; 5] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(89, 161, 79),
    RGBColor(225, 87, 89),
    RGBColor(176, 122, 161),
];

fn hsl(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

/// Axis labels in dollars: $1.2M, $340K, $12.50.
pub fn usd_axis(v: f64) -> String {
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a >= 1e9 {
        format!("{sign}${:.1}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.1}M", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}${:.0}K", a / 1e3)
    } else if a >= 1e3 {
        format!("{sign}${:.1}K", a / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{sign}${a:.0}")
    } else {
        format!("{sign}${a:.2}")
    }
}

/// A range that shows `lo..hi` with some air, never empty.
pub fn padded(lo: f64, hi: f64, from_zero: bool) -> std::ops::Range<f64> {
    let (lo, hi) = if from_zero {
        (lo.min(0.0), hi)
    } else {
        (lo, hi)
    };
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        hi.abs().max(1.0) * 0.1
    };
    let lo = if from_zero && lo >= 0.0 {
        0.0
    } else {
        lo - pad
    };
    lo..hi + pad
}

/// Font helper.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_parses() {
        assert!(ab_glyph_parses(FONT));
    }

    fn ab_glyph_parses(bytes: &'static [u8]) -> bool {
        register_font("tiersim-test", FontStyle::Normal, bytes).is_ok()
    }

    #[test]
    fn dollar_axis_labels() {
        assert_eq!(usd_axis(1_234_567.0), "$1.2M");
        assert_eq!(usd_axis(340_000.0), "$340K");
        assert_eq!(usd_axis(2_500.0), "$2.5K");
        assert_eq!(usd_axis(12.0), "$12");
        assert_eq!(usd_axis(0.5), "$0.50");
        assert_eq!(usd_axis(0.0), "$0");
    }

    #[test]
    fn families_get_their_hues() {
        let nova = model_colour("nova", tier_of("nova-pro"), 0);
        let claude = model_colour("claude", tier_of("claude-sonnet-4-5"), 0);
        assert!(nova.0 > nova.2, "Nova is warm: {nova:?}");
        assert!(claude.2 > claude.1, "Claude is violet: {claude:?}");
        // Larger models are darker.
        let light = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        let haiku = model_colour("claude", tier_of("claude-haiku-4-5"), 0);
        let opus = model_colour("claude", tier_of("claude-opus-4-5"), 0);
        assert!(light(haiku) > light(claude) && light(claude) > light(opus));
    }
}
