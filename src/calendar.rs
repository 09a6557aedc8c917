//! Time as tiersim counts it: a month is a twelfth of a Julian year, the
//! unit of every volume and every monthly projection.

/// Seconds in a month (365.25 / 12 days).
pub const MONTH_SECONDS: f64 = 365.25 / 12.0 * 86_400.0;
