//! Sizes, ages and timestamps as people read them: `1.5G` (powers of 1024, like the
//! `--max-size` values they are compared with), `3d ago`, and RFC 3339 in UTC for JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `0`, `980`, `1.5K`, `23M`, `1.2G`: one decimal below 10, none above.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        value /= 1024.0;
        unit = u;
        if value < 1024.0 {
            break;
        }
    }
    if value < 9.95 { format!("{value:.1}{unit}") } else { format!("{value:.0}{unit}") }
}

/// A span in its largest whole unit, as durations are written: `45s`, `90m` → `1h`, `12d`.
pub fn format_duration(d: Duration) -> String {
    match d.as_secs() {
        s @ 0..60 => format!("{s}s"),
        s @ 60..3600 => format!("{}m", s / 60),
        s @ 3600..86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// How long before `now` `then` was: `just now`, `5m ago`, `3h ago`, `12d ago`.
pub fn format_age(then: SystemTime, now: SystemTime) -> String {
    let age = now.duration_since(then).unwrap_or(Duration::ZERO);
    if age.as_secs() < 60 { "just now".into() } else { format!("{} ago", format_duration(age)) }
}

/// `2025-11-24T22:41:07Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
/// See: <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_du_h() {
        assert_eq!(format_size(0), "0");
        assert_eq!(format_size(1023), "1023");
        assert_eq!(format_size(1536), "1.5K");
        assert_eq!(format_size(500 << 20), "500M");
        assert_eq!(format_size(10 << 30), "10G");
        assert_eq!(format_size((1 << 30) + (1 << 29)), "1.5G");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_764_024_067)), "2025-11-24T22:41:07Z");
    }

    #[test]
    fn ages() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(format_age(now, now), "just now");
        assert_eq!(format_age(now - Duration::from_secs(3 * 3600), now), "3h ago");
        assert_eq!(format_age(now - Duration::from_secs(12 * 86400), now), "12d ago");
        assert_eq!(format_age(now + Duration::from_secs(5), now), "just now");
    }
}
