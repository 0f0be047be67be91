//! Lists the source connector definitions of a running server.
//!
//! ```sh
//! cargo run -p squared-client --example list_definitions -- http://127.0.0.1:8080 "$TOKEN" 1
//! ```

use squared_client::types::ConnectorType;
use squared_client::{Client, Credentials};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(token), Some(workspace)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: list_definitions BASE_URL TOKEN WORKSPACE_ID");
        std::process::exit(2);
    };
    let client = Client::new(&base_url, Credentials::new(token, workspace.parse()?));
    let definitions = client.list_connector_definitions().type_(ConnectorType::Source).send().await?;
    for definition in definitions.iter() {
        println!("{:<32} {}", definition.name, definition.category);
    }
    Ok(())
}
