//! What each role may do in its workspace: the one table that the service enforces
//! ([`super::Service::require`]) and that `list_roles` shows, so that the roles the API
//! describes are exactly the rules it applies.

use crate::auth::Role;

/// What an operation acts on, by the names `list_roles` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    ConnectorDefinition,
    /// Connectors, their catalogs, and checking a connection before one is created.
    Connector,
    /// Models, and running a query on a source to preview one.
    Model,
    Sync,
    /// Runs of a sync: started (general, test, dry), canceled.
    SyncRun,
    SyncRecord,
    Report,
    Role,
    /// Where alerts go; admins only change them.
    AlertChannel,
    /// When alerts are raised; admins only change them.
    AlertRule,
    /// The alerts raised, and how each delivery stands.
    AlertDelivery,
}

impl Resource {
    pub const ALL: [Resource; 11] = [
        Resource::ConnectorDefinition,
        Resource::Connector,
        Resource::Model,
        Resource::Sync,
        Resource::SyncRun,
        Resource::SyncRecord,
        Resource::Report,
        Resource::Role,
        Resource::AlertChannel,
        Resource::AlertRule,
        Resource::AlertDelivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::ConnectorDefinition => "connector_definition",
            Resource::Connector => "connector",
            Resource::Model => "model",
            Resource::Sync => "sync",
            Resource::SyncRun => "sync_run",
            Resource::SyncRecord => "sync_record",
            Resource::Report => "report",
            Resource::Role => "role",
            Resource::AlertChannel => "alert_channel",
            Resource::AlertRule => "alert_rule",
            Resource::AlertDelivery => "alert_delivery",
        }
    }

    /// Whether the API lets anyone change this resource at all (definitions, records,
    /// reports and roles are the server's own).
    fn changeable(self) -> bool {
        !matches!(
            self,
            Resource::ConnectorDefinition
                | Resource::SyncRecord
                | Resource::Report
                | Resource::Role
                | Resource::AlertDelivery
        )
    }

    /// Whether only admins change it (where alerts about the whole workspace go, and when).
    fn admins_change(self) -> bool {
        matches!(self, Resource::AlertChannel | Resource::AlertRule)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// Whether `role` may do `action` on `resource` in its workspace.
pub fn allows(role: Role, resource: Resource, action: Action) -> bool {
    match (role, action) {
        (_, Action::Read) => true,
        (Role::Viewer, _) => false,
        (Role::Member, _) if resource.admins_change() => false,
        (Role::Admin | Role::Member, _) => resource.changeable(),
    }
}

/// A role's name and description, as `list_roles` shows them.
pub fn describe(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Admin => (
            "Admin",
            "Reads everything in the workspace; creates, changes and deletes connectors, models, syncs and their \
             runs, and alert channels and rules.",
        ),
        Role::Member => (
            "Member",
            "Reads everything in the workspace; creates, changes and deletes connectors, models, syncs and their \
             runs, but not alert channels or rules.",
        ),
        Role::Viewer => ("Viewer", "Reads everything in the workspace, and changes nothing."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_only_reads_and_no_one_changes_what_the_server_owns() {
        for resource in Resource::ALL {
            assert!(allows(Role::Viewer, resource, Action::Read));
            for action in [Action::Create, Action::Update, Action::Delete] {
                assert!(!allows(Role::Viewer, resource, action), "{resource:?} {action:?}");
                assert_eq!(allows(Role::Member, resource, action), resource.changeable() && !resource.admins_change());
                assert_eq!(allows(Role::Admin, resource, action), resource.changeable());
            }
        }
        assert!(allows(Role::Member, Resource::Sync, Action::Delete));
        assert!(!allows(Role::Admin, Resource::Report, Action::Create));
        assert!(allows(Role::Admin, Resource::AlertRule, Action::Create));
        assert!(!allows(Role::Member, Resource::AlertRule, Action::Create));
        assert!(allows(Role::Member, Resource::AlertDelivery, Action::Read));
    }
}
