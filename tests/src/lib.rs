//! Support for the workspace's drift and contract tests (in `tests/tests/`).
//!
//! - [`harness`]: a real `squared-server` on an ephemeral port with its own SQLite file,
//!   driven through the generated client, with direct access to its database;
//! - [`receiver`]: a webhook receiver on loopback, for Http destinations;
//! - [`databases`]: a PostgreSQL schema and a MariaDB database of a test's own, for connectors;
//! - [`published`]: the published API's response schemas, which our answers must satisfy.

pub mod alert_peers;
pub mod databases;
pub mod harness;
pub mod published;
pub mod receiver;
