//! The alert worker: one background task per process (an API server's, with or without a
//! sync runner, and a worker's), so that an overdue schedule is noticed even where no runner
//! works. Each round it raises the alerts of time (schedules overdue, runs too long), then
//! claims and sends every delivery that is due, one at a time. It wakes when this process
//! raises an alert, when the next pending delivery falls due, and at least every
//! `check_every` (for alerts of time, and for alerts other processes raised).
//!
//! What it may touch: the store's alert tables (through [`Store`]), the vault (to open a
//! channel's secrets just before sending) and [`super::send`].

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, watch};

use super::send::Sender;
use super::{MAX_ATTEMPTS, channel_schema, long_run_alert, overdue_alert, retry_after};
use crate::connectors::Connectors;
use crate::metrics::Metrics;
use crate::store::{Attempt, DeliveryClaim, Store};

/// How long a claimed delivery is held: longer than any one attempt can take.
const DELIVERY_LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// What the worker works with.
pub struct AlertParts {
    pub store: Arc<Store>,
    pub connectors: Arc<Connectors>,
    pub sender: Sender,
    pub metrics: Arc<Metrics>,
    /// Raised when this process raises an alert.
    pub wake: Arc<Notify>,
    pub check_every: Duration,
    pub log: slog::Logger,
}

/// A running worker; [`AlertHandle::stop`] ends it after the attempt in hand.
pub struct AlertHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl AlertHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub fn spawn(parts: AlertParts) -> AlertHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(parts, stopped));
    AlertHandle { stop, task }
}

async fn run(parts: AlertParts, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            return;
        }
        if let Err(e) = raise_alerts_of_time(&parts).await {
            slog::error!(parts.log, "checking overdue schedules and long runs failed"; "cause" => e);
        }
        while !*stopped.borrow() {
            match parts.store.claim_delivery(DELIVERY_LEASE).await {
                Ok(Some(claim)) => attempt(&parts, claim).await,
                Ok(None) => break,
                Err(e) => {
                    slog::error!(parts.log, "claiming an alert delivery failed"; "cause" => e.to_string());
                    break;
                }
            }
        }
        let wait = match parts.store.next_delivery_due().await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(parts.check_every),
            _ => parts.check_every,
        };
        tokio::select! {
            _ = parts.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Raises an alert for each overdue schedule and each run too long (once each, by their
/// dedupe keys, however often this runs and in however many processes).
async fn raise_alerts_of_time(parts: &AlertParts) -> Result<(), String> {
    let now = Utc::now();
    let mut alerts = Vec::new();
    for late in parts.store.late_schedules(now).await.map_err(|e| e.to_string())? {
        alerts.push(overdue_alert(&late.rule, late.sync_id, late.sync_name.as_deref(), late.next_run_at));
    }
    for long in parts.store.long_runs(now).await.map_err(|e| e.to_string())? {
        alerts.push(long_run_alert(&long.rule, long.sync_id, long.sync_name.as_deref(), long.run_id, long.started_at));
    }
    let raised = parts.store.raise_alerts(&alerts).await.map_err(|e| e.to_string())?;
    if raised > 0 {
        slog::info!(parts.log, "alerts raised"; "count" => raised);
    }
    Ok(())
}

/// One attempt at a claimed delivery, and its outcome recorded under the claim.
async fn attempt(parts: &AlertParts, claim: DeliveryClaim) {
    let delivery = &claim.delivery;
    let sent = match parts.store.channel(delivery.channel_id).await {
        Ok(Some(channel)) => {
            let schema = &channel_schema(channel.kind).schema;
            match parts.connectors.vault.open(schema, &channel.configuration, channel.workspace_id) {
                Ok(clear) => parts.sender.send(channel.kind, &clear, delivery.id, &delivery.payload).await,
                Err(e) => Err(format!("the channel's secrets cannot be opened: {e}")),
            }
        }
        Ok(None) => Err("the channel was deleted".to_owned()),
        Err(e) => Err(format!("reading the channel: {e}")),
    };
    let outcome = match sent {
        Ok(()) => Attempt::Delivered,
        Err(error) if delivery.attempts < MAX_ATTEMPTS => {
            let retry_at = Utc::now() + chrono::Duration::from_std(retry_after(delivery.attempts)).unwrap_or_default();
            Attempt::Failed { error, retry_at: Some(retry_at) }
        }
        Err(error) => Attempt::Failed { error, retry_at: None },
    };
    let word = match &outcome {
        Attempt::Delivered => "delivered",
        Attempt::Failed { retry_at: Some(_), .. } => "retried",
        Attempt::Failed { retry_at: None, .. } => "failed",
    };
    let log = parts.log.new(slog::o!("delivery" => delivery.id, "rule" => delivery.rule_id,
        "sync" => delivery.sync_id, "attempt" => delivery.attempts, "outcome" => word));
    match parts.store.finish_attempt(&claim, &outcome).await {
        Ok(true) => {
            parts.metrics.alert_attempt(word);
            match &outcome {
                Attempt::Delivered => slog::info!(log, "alert delivered"),
                Attempt::Failed { error, .. } => slog::warn!(log, "alert delivery attempt failed"; "error" => error),
            }
        }
        Ok(false) => slog::warn!(log, "another process took this alert delivery over; its outcome here is dropped"),
        Err(e) => slog::error!(log, "recording an alert delivery attempt failed"; "cause" => e.to_string()),
    }
}
