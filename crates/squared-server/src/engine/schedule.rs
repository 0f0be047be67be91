//! When scheduled syncs run: the next time after a moment, for an interval or a cron schedule.

use chrono::{DateTime, Duration, Utc};

use crate::service::parse_cron;

/// The next run of a schedule after `after`: `None` for a manual schedule, or one this cannot
/// read (the API refuses those before they are stored).
pub fn next_run(
    schedule_type: &str,
    interval: Option<i64>,
    unit: Option<&str>,
    cron: Option<&str>,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule_type {
        "interval" => {
            let count = interval.filter(|n| *n > 0)?;
            let step = match unit? {
                "minutes" => Duration::minutes(count),
                "hours" => Duration::hours(count),
                "days" => Duration::days(count),
                "weeks" => Duration::weeks(count),
                _ => return None,
            };
            after.checked_add_signed(step)
        }
        "cron_expression" => parse_cron(cron?).ok()?.find_next_occurrence(&after, false).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn intervals_and_cron_expressions_give_the_next_run() {
        let now = at("2026-03-02T10:17:30Z");
        assert_eq!(next_run("interval", Some(15), Some("minutes"), None, now), Some(at("2026-03-02T10:32:30Z")));
        assert_eq!(next_run("interval", Some(2), Some("days"), None, now), Some(at("2026-03-04T10:17:30Z")));
        assert_eq!(next_run("interval", Some(1), Some("weeks"), None, now), Some(at("2026-03-09T10:17:30Z")));
        // Every day at 02:30: tomorrow. Weekdays at 09:00 from a Saturday: Monday.
        assert_eq!(next_run("cron_expression", None, None, Some("30 2 * * *"), now), Some(at("2026-03-03T02:30:00Z")));
        let saturday = at("2026-03-07T12:00:00Z");
        assert_eq!(
            next_run("cron_expression", None, None, Some("0 9 * * 1-5"), saturday),
            Some(at("2026-03-09T09:00:00Z"))
        );
        assert_eq!(next_run("manual", Some(5), Some("minutes"), Some("* * * * *"), now), None);
        assert_eq!(next_run("interval", None, Some("minutes"), None, now), None);
    }
}
