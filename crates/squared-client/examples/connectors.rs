//! Every connector of a workspace, across pages, with the client from the environment.
//!
//! ```sh
//! export SQUARED_URL=http://127.0.0.1:8080 SQUARED_WORKSPACE=1
//! export SQUARED_TOKEN=$(cargo run -q -p squared-server -- token --workspace 1)
//! cargo run -q -p squared-client --example connectors
//! ```

use futures::TryStreamExt as _;
use squared_client::{Client, Failure, PageList as _};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let client = Client::from_env()?;
    // `.stream()` reads page after page (here 50 at a time) as the items are used.
    let mut connectors = client.list_connectors().per_page(50u64).stream();
    while let Some(connector) = connectors.try_next().await? {
        println!("{:>6}  {:<12} {}", connector.id, connector.attributes.connector_type, connector.attributes.name);
    }
    // A failure is one line: status, the first error's detail and pointer, the request id.
    if let Err(failure) = client.show_connector().id("999999").send().await.map_err(Failure::from) {
        eprintln!("as expected: {failure}");
    }
    Ok(())
}
