//! Number formatting for people: dollars with cents and thousands
//! separators, percentages, counts.

/// `$12,345.67`; negative amounts as `-$1.00`. Always cents: money is never
/// shown rounded to whole dollars.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let cents = (x.abs() * 100.0).round();
    let whole = (cents / 100.0).trunc();
    let frac = cents - whole * 100.0;
    let sign = if x < 0.0 && cents > 0.0 { "-" } else { "" };
    format!("{sign}${}.{:02}", group(whole), frac as u64)
}

/// A per-unit amount (a session, a turn): cents from $1 up, four decimals
/// below, where cents would hide the differences between policies.
pub fn usd_unit(x: f64) -> String {
    if x.is_finite() && x.abs() < 1.0 {
        let digits = fixed(x.abs(), 4);
        let sign = if x < 0.0 && digits != "0.0000" {
            "-"
        } else {
            ""
        };
        format!("{sign}${digits}")
    } else {
        usd(x)
    }
}

/// USD per call with enough digits to show sub-cent prices exactly.
/// `x` with `decimals` decimals, never `-0.00`: a value that rounds to
/// zero is zero (a quality loss of -1e-12 pp is float rounding, not a gain).
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

pub fn usd_precise(x: f64) -> String {
    if x == 0.0 {
        return "$0.00".into();
    }
    if x.abs() >= 0.01 {
        // Cents plus any sub-cent remainder.
        let s = format!("{:.8}", x);
        let s = s.trim_end_matches('0');
        let s = if s.ends_with('.') {
            format!("{s}00")
        } else {
            s.to_string()
        };
        let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
        let frac = if frac.len() < 2 {
            format!("{frac:0<2}")
        } else {
            frac.to_string()
        };
        let int_val: f64 = int.trim_start_matches('-').parse().unwrap_or(0.0);
        let sign = if x < 0.0 { "-" } else { "" };
        return format!("{sign}${}.{frac}", group(int_val));
    }
    let s = format!("{:.10}", x);
    let s = s.trim_end_matches('0');
    format!("${}", s.trim_start_matches('-'))
}

/// A rate in USD per 1M tokens as written, without binary floating-point
/// noise (3.3000000000000003 → 3.3): 12 significant digits, trailing zeros
/// removed. Rates in catalogs have at most a few decimals, so nothing a
/// catalog states is lost.
pub fn rate(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (11 - x.abs().log10().floor() as i32).clamp(0, 20) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// 12,345 (rounded to a whole number).
pub fn count(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let sign = if x < -0.5 { "-" } else { "" };
    format!("{sign}{}", group(x.abs().round()))
}

/// 3.2M, 450K, 12.
pub fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.1}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}K", x / 1e3)
    } else {
        count(x)
    }
}

/// A fraction as a percentage with `digits` decimals: 0.9712 → "97.12%".
pub fn pct(x: f64, digits: usize) -> String {
    format!("{:.*}%", digits, x * 100.0)
}

/// Milliseconds as seconds: 1234 → "1.2 s".
pub fn seconds(ms: Option<f64>) -> String {
    match ms {
        Some(v) => format!("{:.1} s", v / 1000.0),
        None => "-".into(),
    }
}

fn group(whole: f64) -> String {
    let digits = format!("{whole:.0}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A note as a reader sees it.
pub fn note(n: &crate::analysis::outcome::Note) -> String {
    use crate::analysis::outcome::Note;
    match n {
        Note::Scenario(text) => text.clone(),
        Note::Unserved {
            policy,
            requests,
            rate,
        } => format!(
            "{policy} could not serve {} request(s) ({rate:.2e} of all): no model it may use can take them (context window, output limit or modality); they count as failures",
            count(*requests)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_never_shows_negative_zero() {
        assert_eq!(fixed(-1.3e-12, 2), "0.00");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(-0.005001, 2), "-0.01");
        assert_eq!(fixed(2.04, 2), "2.04");
    }

    #[test]
    fn dollars_keep_cents() {
        assert_eq!(usd(12345.678), "$12,345.68");
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(-1.0), "-$1.00");
        assert_eq!(usd(1_000_000.0), "$1,000,000.00");
        assert_eq!(usd(999.995), "$1,000.00");
        assert_eq!(usd_precise(0.00045), "$0.00045");
        assert_eq!(usd_precise(0.0213125), "$0.0213125");
        assert_eq!(usd_precise(12.5), "$12.50");
        assert_eq!(count(3_000_000.0), "3,000,000");
        assert_eq!(rate(3.0 * 1.1), "3.3");
        assert_eq!(rate(0.00875), "0.00875");
        assert_eq!(rate(0.035 * 1.3142857142857143), "0.046");
        assert_eq!(rate(15.0), "15");
        assert_eq!(pct(0.97123, 2), "97.12%");
    }
}
