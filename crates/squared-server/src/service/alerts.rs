//! Alert channels, rules and deliveries as the API shows them.
//!
//! A channel's configuration is checked against its kind's schema ([`crate::alerts`]), every
//! failing field answered at its pointer; its secrets are sealed before it is stored and
//! masked in every response, as a connector's are. A rule names a channel and (optionally) a
//! sync of the caller's workspace, and keeps only the fields its condition reads. Admins
//! change channels and rules; everyone in the workspace reads them and the deliveries.

use serde_json::Value;
use squared_types::{
    AlertChannel, AlertChannelAttributes, AlertChannelInput, AlertChannelListResponse, AlertChannelResponse,
    AlertCondition, AlertDelivery, AlertDeliveryAttributes, AlertDeliveryListResponse, AlertDeliveryStatus, AlertRule,
    AlertRuleAttributes, AlertRuleInput, AlertRuleListResponse, AlertRuleResponse, CreateAlertChannelRequest,
    CreateAlertRuleRequest,
};

use super::permissions::{Action, Resource};
use super::{Service, page_links};
use crate::alerts::channel_schema;
use crate::auth::Caller;
use crate::catalog::schema_problems;
use crate::error::{Problem, ServiceError};
use crate::store::{StoredChannel, StoredDelivery, StoredRule};

pub const CHANNEL_RESOURCE: &str = "alert_channels";
pub const RULE_RESOURCE: &str = "alert_rules";
pub const DELIVERY_RESOURCE: &str = "alert_deliveries";

/// The filter and page of a delivery list request.
pub struct DeliveryListRequest {
    pub rule_id: Option<i64>,
    pub status: Option<AlertDeliveryStatus>,
    pub page: i64,
    pub per_page: i64,
}

fn not_found(what: &str, id: &str, caller: &Caller) -> ServiceError {
    ServiceError::NotFound(format!("there is no {what} {id} in workspace {}", caller.workspace_id))
}

fn channel_resource(channel: &StoredChannel) -> AlertChannel {
    let mut configuration = channel.configuration.clone();
    crate::secrets::mask(&channel_schema(channel.kind).schema, &mut configuration);
    AlertChannel {
        id: channel.id.to_string(),
        type_: CHANNEL_RESOURCE.to_owned(),
        attributes: AlertChannelAttributes {
            name: channel.name.clone(),
            kind: channel.kind,
            configuration: match configuration {
                Value::Object(fields) => fields,
                _ => Default::default(),
            },
            workspace_id: channel.workspace_id,
            created_at: channel.created_at,
        },
    }
}

fn rule_resource(rule: &StoredRule) -> AlertRule {
    AlertRule {
        id: rule.id.to_string(),
        type_: RULE_RESOURCE.to_owned(),
        attributes: AlertRuleAttributes {
            name: rule.name.clone(),
            channel_id: rule.channel_id,
            sync_id: rule.sync_id,
            condition: rule.condition,
            threshold_percent: rule.threshold_percent,
            duration_seconds: rule.duration_seconds,
            workspace_id: rule.workspace_id,
            created_at: rule.created_at,
        },
    }
}

fn delivery_resource(delivery: &StoredDelivery) -> AlertDelivery {
    AlertDelivery {
        id: delivery.id.to_string(),
        type_: DELIVERY_RESOURCE.to_owned(),
        attributes: AlertDeliveryAttributes {
            rule_id: delivery.rule_id,
            channel_id: delivery.channel_id,
            sync_id: delivery.sync_id,
            sync_run_id: delivery.sync_run_id,
            condition: delivery.condition,
            status: delivery.status,
            attempts: delivery.attempts,
            last_error: delivery.last_error.clone(),
            payload: match &delivery.payload {
                Value::Object(fields) => fields.clone(),
                _ => Default::default(),
            },
            created_at: delivery.created_at,
            next_attempt_at: match delivery.status {
                AlertDeliveryStatus::Pending => delivery.next_attempt_at,
                _ => None,
            },
            delivered_at: delivery.delivered_at,
        },
    }
}

impl Service {
    pub async fn create_alert_channel(
        &self,
        caller: &Caller,
        request: CreateAlertChannelRequest,
    ) -> Result<AlertChannelResponse, ServiceError> {
        let CreateAlertChannelRequest { alert_channel } = request;
        Self::require(caller, Resource::AlertChannel, Action::Create)?;
        let AlertChannelInput { name, kind, configuration } = alert_channel;
        let schema = channel_schema(kind);
        let configuration = Value::Object(configuration);
        let problems =
            schema_problems(&schema.validator, &schema.schema, &configuration, "/alert_channel/configuration");
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let sealed = self.connectors.vault.seal(&schema.schema, &configuration, caller.workspace_id);
        let channel = self.store.create_channel(caller.workspace_id, &name, kind, &sealed).await?;
        Ok(AlertChannelResponse { data: channel_resource(&channel) })
    }

    async fn stored_channel(&self, caller: &Caller, id: &str) -> Result<StoredChannel, ServiceError> {
        let numeric: i64 = id.parse().map_err(|_| not_found("alert channel", id, caller))?;
        self.store
            .get_channel(caller.workspace_id, numeric)
            .await?
            .ok_or_else(|| not_found("alert channel", id, caller))
    }

    pub async fn show_alert_channel(&self, caller: &Caller, id: &str) -> Result<AlertChannelResponse, ServiceError> {
        Self::require(caller, Resource::AlertChannel, Action::Read)?;
        Ok(AlertChannelResponse { data: channel_resource(&self.stored_channel(caller, id).await?) })
    }

    pub async fn list_alert_channels(
        &self,
        caller: &Caller,
        page: i64,
        per_page: i64,
    ) -> Result<AlertChannelListResponse, ServiceError> {
        Self::require(caller, Resource::AlertChannel, Action::Read)?;
        let offset = (page - 1).saturating_mul(per_page);
        let (channels, total) = self.store.list_channels(caller.workspace_id, per_page, offset).await?;
        Ok(AlertChannelListResponse {
            data: channels.iter().map(channel_resource).collect(),
            links: page_links("/api/v1/alert_channels", &[], page, per_page, total),
        })
    }

    pub async fn delete_alert_channel(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        Self::require(caller, Resource::AlertChannel, Action::Delete)?;
        let channel = self.stored_channel(caller, id).await?;
        match self.store.delete_channel(caller.workspace_id, channel.id).await? {
            None => Err(not_found("alert channel", id, caller)),
            Some(users) if users.is_empty() => Ok(()),
            Some(users) => {
                let named: Vec<String> = users.iter().map(|(id, name)| format!("{id} ({name})")).collect();
                Err(ServiceError::Unprocessable(format!(
                    "alert channel {id} is used by alert rules {}: delete them first",
                    named.join(", ")
                )))
            }
        }
    }

    pub async fn create_alert_rule(
        &self,
        caller: &Caller,
        request: CreateAlertRuleRequest,
    ) -> Result<AlertRuleResponse, ServiceError> {
        let CreateAlertRuleRequest { alert_rule } = request;
        Self::require(caller, Resource::AlertRule, Action::Create)?;
        let AlertRuleInput { name, channel_id, sync_id, condition, threshold_percent, duration_seconds } = alert_rule;
        let mut problems = Vec::new();
        if self.store.get_channel(caller.workspace_id, channel_id).await?.is_none() {
            problems.push(Problem::new(
                "/alert_rule/channel_id",
                format!("there is no alert channel {} in workspace {}", channel_id, caller.workspace_id),
            ));
        }
        if let Some(sync_id) = sync_id
            && self.store.get_sync(caller.workspace_id, sync_id).await?.is_none()
        {
            problems.push(Problem::new(
                "/alert_rule/sync_id",
                format!("there is no sync {sync_id} in workspace {}", caller.workspace_id),
            ));
        }
        // Each condition keeps the one field it reads, and needs it.
        let (threshold_percent, duration_seconds) = match condition {
            AlertCondition::FailedRowsPercent => (threshold_percent, None),
            AlertCondition::ScheduleOverdue | AlertCondition::RunLongerThan => (None, duration_seconds),
            AlertCondition::RunFailed | AlertCondition::RunRecovered => (None, None),
        };
        let named = condition.as_str();
        if condition == AlertCondition::FailedRowsPercent && threshold_percent.is_none() {
            problems.push(Problem::new("/alert_rule/threshold_percent", format!("`{named}` needs a threshold")));
        }
        if matches!(condition, AlertCondition::ScheduleOverdue | AlertCondition::RunLongerThan)
            && duration_seconds.is_none()
        {
            problems.push(Problem::new("/alert_rule/duration_seconds", format!("`{named}` needs a duration")));
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let rule = StoredRule {
            id: 0,
            workspace_id: caller.workspace_id,
            name,
            channel_id,
            sync_id,
            condition,
            threshold_percent,
            duration_seconds,
            created_at: chrono::Utc::now(),
        };
        let stored = self.store.create_rule(&rule).await?;
        Ok(AlertRuleResponse { data: rule_resource(&stored) })
    }

    async fn stored_rule(&self, caller: &Caller, id: &str) -> Result<StoredRule, ServiceError> {
        let numeric: i64 = id.parse().map_err(|_| not_found("alert rule", id, caller))?;
        self.store.get_rule(caller.workspace_id, numeric).await?.ok_or_else(|| not_found("alert rule", id, caller))
    }

    pub async fn show_alert_rule(&self, caller: &Caller, id: &str) -> Result<AlertRuleResponse, ServiceError> {
        Self::require(caller, Resource::AlertRule, Action::Read)?;
        Ok(AlertRuleResponse { data: rule_resource(&self.stored_rule(caller, id).await?) })
    }

    pub async fn list_alert_rules(
        &self,
        caller: &Caller,
        page: i64,
        per_page: i64,
    ) -> Result<AlertRuleListResponse, ServiceError> {
        Self::require(caller, Resource::AlertRule, Action::Read)?;
        let offset = (page - 1).saturating_mul(per_page);
        let (rules, total) = self.store.list_rules(caller.workspace_id, per_page, offset).await?;
        Ok(AlertRuleListResponse {
            data: rules.iter().map(rule_resource).collect(),
            links: page_links("/api/v1/alert_rules", &[], page, per_page, total),
        })
    }

    pub async fn delete_alert_rule(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        Self::require(caller, Resource::AlertRule, Action::Delete)?;
        let rule = self.stored_rule(caller, id).await?;
        match self.store.delete_rule(caller.workspace_id, rule.id).await? {
            true => Ok(()),
            false => Err(not_found("alert rule", id, caller)),
        }
    }

    pub async fn list_alert_deliveries(
        &self,
        caller: &Caller,
        request: DeliveryListRequest,
    ) -> Result<AlertDeliveryListResponse, ServiceError> {
        Self::require(caller, Resource::AlertDelivery, Action::Read)?;
        let offset = (request.page - 1).saturating_mul(request.per_page);
        let (deliveries, total) = self
            .store
            .list_deliveries(caller.workspace_id, request.rule_id, request.status, request.per_page, offset)
            .await?;
        let rule = request.rule_id.map(|id| id.to_string());
        let filters: Vec<(&str, &str)> =
            [rule.as_deref().map(|id| ("rule_id", id)), request.status.map(|s| ("status", s.as_str()))]
                .into_iter()
                .flatten()
                .collect();
        Ok(AlertDeliveryListResponse {
            data: deliveries.iter().map(delivery_resource).collect(),
            links: page_links("/api/v1/alert_deliveries", &filters, request.page, request.per_page, total),
        })
    }
}
