//! Contract tests of alert channels, rules and deliveries through the generated client, on
//! SQLite and on PostgreSQL: who may change them, what a channel's configuration must be (each
//! failing field at its pointer), that its secrets are sealed at rest and masked in every
//! answer, and what a rule needs. Delivery itself is tested in `sync_engine.rs` (`alerts`).

use serde_json::{Map, Value, json};
use squared_client::Client;
use squared_client::types::{
    AlertChannelInput, AlertChannelKind, AlertCondition, AlertRuleInput, CreateAlertChannelRequest,
    CreateAlertRuleRequest,
};
use squared_server::auth::Role;
use squared_tests::harness::{TestServer, error_pointers, expect_error};
use squared_tests::on_every_engine;

const WORKSPACE: i64 = 44;
const MASK: &str = "*************";

on_every_engine!(
    channels_are_checked_sealed_masked_and_changed_by_admins_only,
    rules_name_a_channel_and_sync_of_the_workspace_and_what_their_condition_reads,
);

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn channel_request(kind: AlertChannelKind, configuration: Value) -> CreateAlertChannelRequest {
    CreateAlertChannelRequest {
        alert_channel: AlertChannelInput { name: "ops".into(), kind, configuration: object(configuration) },
    }
}

fn rule_request(channel_id: i64, condition: AlertCondition) -> AlertRuleInput {
    AlertRuleInput {
        name: "watch".into(),
        channel_id,
        sync_id: None,
        condition,
        threshold_percent: None,
        duration_seconds: None,
    }
}

async fn webhook(admin: &Client) -> i64 {
    let request = channel_request(
        AlertChannelKind::Webhook,
        json!({"url": "https://hooks.example.com/squared", "secret": "sixteen chars or more"}),
    );
    admin.create_alert_channel().body(request).send().await.unwrap().into_inner().data.id.parse().unwrap()
}

async fn channels_are_checked_sealed_masked_and_changed_by_admins_only(server: TestServer) {
    let admin = server.client(WORKSPACE, Role::Admin);
    let member = server.client(WORKSPACE, Role::Member);
    let viewer = server.client(WORKSPACE, Role::Viewer);

    // Every failing field, at its pointer.
    let bad = channel_request(AlertChannelKind::Webhook, json!({"url": "not a url", "secret": "short", "extra": 1}));
    let (status, error) = expect_error(admin.create_alert_channel().body(bad).send().await);
    assert_eq!(status, 422);
    let pointers = error_pointers(&error);
    for pointer in
        ["/alert_channel/configuration", "/alert_channel/configuration/secret", "/alert_channel/configuration/url"]
    {
        assert!(pointers.iter().any(|p| p == pointer), "{pointer} in {pointers:?}");
    }
    assert!(error.errors.iter().all(|e| !e.detail.contains("short")), "no value is quoted: {error:?}");
    let bad = channel_request(AlertChannelKind::Email, json!({"host": "smtp.example.com", "from": "not an address"}));
    let (status, error) = expect_error(admin.create_alert_channel().body(bad).send().await);
    assert_eq!(status, 422);
    assert_eq!(error_pointers(&error), ["/alert_channel/configuration/from", "/alert_channel/configuration/to"]);

    // Members and viewers read; only admins change.
    let request = channel_request(
        AlertChannelKind::Slack,
        json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}),
    );
    assert_eq!(expect_error(member.create_alert_channel().body(request.clone()).send().await).0, 403);
    let created = admin.create_alert_channel().body(request).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let slack = created.into_inner().data;
    assert_eq!(slack.attributes.configuration["webhook_url"], MASK, "the webhook URL is a secret");
    let shown = viewer.show_alert_channel().channel_id(&slack.id).send().await.unwrap().into_inner().data;
    assert_eq!(shown.attributes.configuration["webhook_url"], MASK);
    let listed = member.list_alert_channels().send().await.unwrap().into_inner();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].attributes.configuration["webhook_url"], MASK);
    // Sealed at rest.
    let db = server.database().await;
    let stored: String = sqlx::query_scalar("SELECT configuration FROM alert_channels WHERE id = CAST($1 AS BIGINT)")
        .bind(&slack.id)
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert!(!stored.contains("hooks.slack.com") && stored.contains("sealed:"), "{stored}");

    // Another workspace sees none of it.
    let stranger = server.client(WORKSPACE + 1, Role::Admin);
    assert_eq!(expect_error(stranger.show_alert_channel().channel_id(&slack.id).send().await).0, 404);
    assert!(stranger.list_alert_channels().send().await.unwrap().into_inner().data.is_empty());

    // A channel a rule uses is not deleted; a channel no rule uses is.
    let hook = webhook(&admin).await;
    let rule = admin
        .create_alert_rule()
        .body(CreateAlertRuleRequest { alert_rule: rule_request(hook, AlertCondition::RunFailed) })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let (status, error) = expect_error(admin.delete_alert_channel().channel_id(hook.to_string()).send().await);
    assert!(status == 422 && error.errors[0].detail.contains(&rule.id), "{error:?}");
    assert_eq!(expect_error(member.delete_alert_rule().rule_id(&rule.id).send().await).0, 403);
    admin.delete_alert_rule().rule_id(&rule.id).send().await.unwrap();
    admin.delete_alert_channel().channel_id(hook.to_string()).send().await.unwrap();
    assert_eq!(expect_error(admin.show_alert_channel().channel_id(hook.to_string()).send().await).0, 404);
    server.stop().await;
}

async fn rules_name_a_channel_and_sync_of_the_workspace_and_what_their_condition_reads(server: TestServer) {
    let admin = server.client(WORKSPACE, Role::Admin);
    let hook = webhook(&admin).await;
    let other = webhook(&server.client(WORKSPACE + 1, Role::Admin)).await;

    // Another workspace's channel, a sync that is not there, and a condition without its field.
    let mut input = rule_request(other, AlertCondition::FailedRowsPercent);
    input.sync_id = Some(999_999);
    let (status, error) =
        expect_error(admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule: input }).send().await);
    assert_eq!(status, 422);
    assert_eq!(
        error_pointers(&error),
        ["/alert_rule/channel_id", "/alert_rule/sync_id", "/alert_rule/threshold_percent"]
    );
    let input = rule_request(hook, AlertCondition::RunLongerThan);
    let (status, error) =
        expect_error(admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule: input }).send().await);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/alert_rule/duration_seconds".to_owned()]));

    // A rule keeps only the field its condition reads.
    let mut input = rule_request(hook, AlertCondition::ScheduleOverdue);
    input.duration_seconds = Some(600);
    input.threshold_percent = Some(5.0);
    let created = admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule: input }).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let rule = created.into_inner().data;
    assert_eq!((rule.attributes.duration_seconds, rule.attributes.threshold_percent), (Some(600), None));
    let mut input = rule_request(hook, AlertCondition::FailedRowsPercent);
    input.threshold_percent = Some(12.5);
    let percent = admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule: input }).send().await.unwrap();
    assert_eq!(percent.into_inner().data.attributes.threshold_percent, Some(12.5));
    let viewer = server.client(WORKSPACE, Role::Viewer);
    let shown = viewer.show_alert_rule().rule_id(&rule.id).send().await.unwrap().into_inner().data;
    assert_eq!(shown, rule);
    assert_eq!(viewer.list_alert_rules().send().await.unwrap().into_inner().data.len(), 2);
    assert!(viewer.list_alert_deliveries().send().await.unwrap().into_inner().data.is_empty());
    assert_eq!(
        expect_error(server.client(WORKSPACE + 1, Role::Admin).show_alert_rule().rule_id(&rule.id).send().await).0,
        404
    );
    server.stop().await;
}
