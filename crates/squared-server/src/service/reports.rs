//! The workspace activity report (what a workspace's general runs did, slice by slice) and
//! the roles (what each may do, from [`super::permissions`]), both in the published shapes.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use squared_types::{
    ActivityReport, Permission, ReportMetric, ReportResponse, ReportSlice, ReportTimePeriod, Role, RoleAttributes,
    RoleListResponse, RolePolicies,
};

use super::Service;
use super::permissions::{self, Action, Resource};
use crate::auth::{Caller, Role as Granted};
use crate::error::ServiceError;
use crate::store::{ActivitySlice, SliceWidth};

const ROLE_RESOURCE: &str = "roles";

/// The roles in the order (and with the ids) `list_roles` shows them.
const ROLES: [Granted; 3] = [Granted::Admin, Granted::Member, Granted::Viewer];

/// What an activity report asks for.
#[derive(Clone, Debug, Default)]
pub struct ReportRequest {
    pub metric: Option<ReportMetric>,
    pub connector_ids: Option<Vec<i64>>,
    pub time_period: Option<ReportTimePeriod>,
}

impl Service {
    pub fn list_roles(&self, caller: &Caller) -> Result<RoleListResponse, ServiceError> {
        Self::require(caller, Resource::Role, Action::Read)?;
        let data = ROLES
            .iter()
            .enumerate()
            .map(|(index, role)| {
                let (name, description) = permissions::describe(*role);
                let allows = |resource, action| permissions::allows(*role, resource, action);
                let permissions = Resource::ALL
                    .iter()
                    .map(|resource| {
                        let permission = Permission {
                            read: allows(*resource, Action::Read),
                            create: allows(*resource, Action::Create),
                            update: allows(*resource, Action::Update),
                            delete: allows(*resource, Action::Delete),
                        };
                        (resource.as_str().to_owned(), permission)
                    })
                    .collect();
                Role {
                    id: (index + 1).to_string(),
                    type_: ROLE_RESOURCE.to_owned(),
                    attributes: RoleAttributes {
                        role_name: name.to_owned(),
                        role_desc: description.to_owned(),
                        policies: RolePolicies { permissions },
                    },
                }
            })
            .collect();
        Ok(RoleListResponse { data })
    }

    pub async fn get_report(&self, caller: &Caller, request: ReportRequest) -> Result<ReportResponse, ServiceError> {
        Self::require(caller, Resource::Report, Action::Read)?;
        let (width, count) = match request.time_period.unwrap_or(ReportTimePeriod::OneWeek) {
            ReportTimePeriod::OneDay => (SliceWidth::Hour, 24),
            ReportTimePeriod::OneWeek => (SliceWidth::Day, 7),
        };
        let starts = slice_starts(Utc::now(), width, count);
        let summed =
            self.store.activity(caller.workspace_id, starts[0], width, request.connector_ids.as_deref()).await?;
        // Every slice, the empty ones too.
        let slices: Vec<(DateTime<Utc>, ActivitySlice)> = starts
            .iter()
            .map(|start| {
                let name = slice_name(*start, width);
                (*start, summed.iter().find(|s| s.slice == name).cloned().unwrap_or_default())
            })
            .collect();
        let metric = request.metric.unwrap_or(ReportMetric::All);
        // One metric's slices: each slice's (total, success, failed) of that metric.
        let metric_slices = |of: fn(&ActivitySlice) -> (i64, i64, i64)| -> Vec<ReportSlice> {
            slices
                .iter()
                .map(|(start, slice)| {
                    let (total_count, success_count, failed_count) = of(slice);
                    ReportSlice { time_slice: *start, total_count, success_count, failed_count }
                })
                .collect()
        };
        let runs = metric_slices(|s| (s.runs, s.succeeded_runs, s.failed_runs));
        let rows = metric_slices(|s| (s.rows, s.written_rows, s.failed_rows));
        Ok(ReportResponse {
            data: ActivityReport {
                sync_run_triggered: (metric != ReportMetric::TotalSyncRunRows).then_some(runs),
                total_sync_run_rows: (metric != ReportMetric::SyncRunTriggered).then_some(rows),
            },
        })
    }
}

/// The starts of the `count` slices of `width` that end with the one holding `now`, oldest
/// first.
fn slice_starts(now: DateTime<Utc>, width: SliceWidth, count: i64) -> Vec<DateTime<Utc>> {
    let step = match width {
        SliceWidth::Hour => TimeDelta::hours(1),
        SliceWidth::Day => TimeDelta::days(1),
    };
    let last = now.duration_trunc(step).expect("a slice of an hour or a day");
    (0..count).rev().map(|back| last - step * back as i32).collect()
}

/// A slice's name as the store sums it: the first characters of its stored timestamps.
fn slice_name(start: DateTime<Utc>, width: SliceWidth) -> String {
    match width {
        SliceWidth::Hour => start.format("%Y-%m-%dT%H").to_string(),
        SliceWidth::Day => start.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn slices_end_with_the_one_holding_now_and_name_their_timestamps() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 16, 45, 13).unwrap();
        let hours = slice_starts(now, SliceWidth::Hour, 24);
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[23], Utc.with_ymd_and_hms(2026, 12, 7, 16, 0, 0).unwrap());
        assert_eq!(hours[0], Utc.with_ymd_and_hms(2026, 12, 6, 17, 0, 0).unwrap());
        let days = slice_starts(now, SliceWidth::Day, 7);
        assert_eq!(
            (days[0], days[6]),
            (Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap())
        );
        assert_eq!(slice_name(hours[23], SliceWidth::Hour), "2026-12-07T16");
        assert_eq!(slice_name(days[6], SliceWidth::Day), "2026-12-07");
        // The store names a run's slice by its stored timestamp's first characters.
        let stored = crate::store::timestamp(now);
        assert!(stored.starts_with(&slice_name(hours[23], SliceWidth::Hour)), "{stored}");
    }
}
