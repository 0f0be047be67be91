//! When scheduled syncs run: the next time after a moment, for an interval or a cron schedule,
//! and what a cron expression may be.

use chrono::{DateTime, Duration, Utc};
use croner::parser::{CronParser, Seconds, Year};
use squared_types::{SyncIntervalUnit, SyncScheduleType};

/// Whether `text` is a five-field cron expression (minute, hour, day of month, month, day of
/// week), as a well-kept parser reads it; the error says why not.
pub fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    if text.split_whitespace().count() != 5 {
        return Err("a cron expression has five fields: minute, hour, day of month, month, day of week".into());
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| format!("not a valid cron expression: {e}"))
}

/// The next run of a schedule after `after`: `None` for a manual schedule, or one this cannot
/// read (the API refuses those before they are stored).
pub fn next_run(
    schedule_type: SyncScheduleType,
    interval: Option<i64>,
    unit: Option<SyncIntervalUnit>,
    cron: Option<&str>,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule_type {
        SyncScheduleType::Interval => {
            let count = interval.filter(|n| *n > 0)?;
            let step = match unit? {
                SyncIntervalUnit::Minutes => Duration::minutes(count),
                SyncIntervalUnit::Hours => Duration::hours(count),
                SyncIntervalUnit::Days => Duration::days(count),
                SyncIntervalUnit::Weeks => Duration::weeks(count),
            };
            after.checked_add_signed(step)
        }
        SyncScheduleType::CronExpression => parse_cron(cron?).ok()?.find_next_occurrence(&after, false).ok(),
        SyncScheduleType::Manual => None,
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
        use SyncIntervalUnit::{Days, Minutes, Weeks};
        use SyncScheduleType::{CronExpression, Interval, Manual};
        let now = at("2026-03-02T10:17:30Z");
        assert_eq!(next_run(Interval, Some(15), Some(Minutes), None, now), Some(at("2026-03-02T10:32:30Z")));
        assert_eq!(next_run(Interval, Some(2), Some(Days), None, now), Some(at("2026-03-04T10:17:30Z")));
        assert_eq!(next_run(Interval, Some(1), Some(Weeks), None, now), Some(at("2026-03-09T10:17:30Z")));
        // Every day at 02:30: tomorrow. Weekdays at 09:00 from a Saturday: Monday.
        assert_eq!(next_run(CronExpression, None, None, Some("30 2 * * *"), now), Some(at("2026-03-03T02:30:00Z")));
        let saturday = at("2026-03-07T12:00:00Z");
        assert_eq!(
            next_run(CronExpression, None, None, Some("0 9 * * 1-5"), saturday),
            Some(at("2026-03-09T09:00:00Z"))
        );
        assert_eq!(next_run(Manual, Some(5), Some(Minutes), Some("* * * * *"), now), None);
        assert_eq!(next_run(Interval, None, Some(Minutes), None, now), None);
    }

    #[test]
    fn cron_expressions_have_five_valid_fields() {
        for good in ["*/15 * * * *", "0 3 * * 1-5", "30 2 1 * *", "0 0 * * SUN"] {
            assert!(parse_cron(good).is_ok(), "{good}");
        }
        for bad in ["* * * *", "0 0 * * * *", "61 * * * *", "* 25 * * *", "@daily", "every day", ""] {
            assert!(parse_cron(bad).is_err(), "{bad}");
        }
    }
}
