//! What the code generated from `fixtures/sweep-constructs.yaml` does with the constructs the sweep
//! found in real specs: operations told apart by the query or a header after a `#` in their
//! path, segments mixing a variable with text, parameters and properties whose Rust names
//! collide, and patterns only an ECMA-262 engine reads. Served by a dropshot server implementing the generated trait and called
//! both raw and through the generated client.

use corpus::sweep_constructs::{api, client, types};
use dropshot::{Header, HttpResponseOk, Path, Query, RequestContext, TypedBody};
use serde_json::{Value, json};

enum Aws {}

fn answer(operation: &str, detail: String) -> HttpResponseOk<types::Answer> {
    HttpResponseOk(types::Answer { operation: operation.into(), detail: Some(detail) })
}

impl api::SquaredApi for Aws {
    type Context = ();

    async fn describe_thing(
        _: RequestContext<()>,
        query: Query<api::DescribeThingQuery>,
    ) -> Result<HttpResponseOk<types::Answer>, api::DescribeThingError> {
        Ok(answer("DescribeThing", query.into_inner().thing_name))
    }

    async fn delete_thing(
        _: RequestContext<()>,
        query: Query<api::DeleteThingQuery>,
    ) -> Result<HttpResponseOk<types::Answer>, api::DeleteThingError> {
        Ok(answer("DeleteThing", query.into_inner().thing_name))
    }

    async fn put_thing(
        _: RequestContext<()>,
        _: Header<api::PutThingHeaders>,
        body: TypedBody<types::Thing>,
    ) -> Result<HttpResponseOk<types::Answer>, api::PutThingError> {
        let thing = body.into_inner();
        Ok(answer("PutThing", format!("{} {:?} {:?}", thing.name, thing.f_1, thing.f_1_2)))
    }

    async fn list_tags(
        _: RequestContext<()>,
        path: Path<api::ListTagsPath>,
        query: Query<api::ListTagsQuery>,
    ) -> Result<HttpResponseOk<types::Answer>, api::ListTagsError> {
        let query = query.into_inner();
        Ok(answer(
            "ListTags",
            format!("{} {:?} {:?}", path.into_inner().resource_arn, query.max_results, query.max_results_2),
        ))
    }

    async fn get_operation(
        _: RequestContext<()>,
        path: Path<api::GetOperationPath>,
    ) -> Result<HttpResponseOk<types::Answer>, api::GetOperationError> {
        Ok(answer("GetOperation", path.into_inner().name))
    }

    async fn cancel_operation(
        _: RequestContext<()>,
        path: Path<api::CancelOperationPath>,
    ) -> Result<HttpResponseOk<types::Answer>, api::CancelOperationError> {
        Ok(answer("CancelOperation", path.into_inner().name))
    }

    async fn get_archive(
        _: RequestContext<()>,
        path: Path<api::GetArchivePath>,
    ) -> Result<HttpResponseOk<types::Answer>, api::GetArchiveError> {
        let path = path.into_inner();
        Ok(answer("GetArchive", format!("{} {}", path.name, path.version)))
    }

    async fn search(
        _: RequestContext<()>,
        query: squared_support::ArrayQuery<api::SearchQuery>,
        headers: Header<api::SearchHeaders>,
    ) -> Result<HttpResponseOk<types::Answer>, api::SearchError> {
        let query = query.into_inner();
        let scope = headers.into_inner().x_scope;
        let filter = query.filter.map(|f| (f.name, f.age));
        let page = query.page.map(|p| (p.size, p.number));
        let where_ = query.where_.map(|w| w.any);
        let detail = format!(
            "{filter:?} {page:?} {where_:?} {:?} {:?} {:?} {:?}",
            query.ids,
            scope.map(|s| (s.team, s.level)),
            query.sort.map(|s| s.as_str()),
            query.level.map(|l| l.0)
        );
        Ok(answer("Search", detail))
    }

    async fn untag_resource(
        _: RequestContext<()>,
        path: Path<api::UntagResourcePath>,
        query: squared_support::ArrayQuery<api::UntagResourceQuery>,
    ) -> Result<HttpResponseOk<types::Answer>, api::UntagResourceError> {
        Ok(answer("UntagResource", format!("{} {:?}", path.into_inner().resource_arn, query.into_inner().tag_keys)))
    }
}

async fn serve() -> (dropshot::HttpServer<()>, String) {
    let api = api::squared_api_mod::api_description::<Aws>().expect("the fixture's API");
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let config = dropshot::ConfigDropshot { bind_address: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let server = dropshot::ServerBuilder::new(api, (), log).config(config).start().expect("the server starts");
    let base = format!("http://{}", server.local_addr());
    (server, base)
}

async fn operation(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn operations_at_one_path_are_told_apart_by_their_query_and_headers() {
    let (server, base) = serve().await;
    let http = reqwest::Client::new();
    let get = |query: &str| http.get(format!("{base}/?{query}")).send();

    let (status, body) = operation(get("Action=DescribeThing&ThingName=lamp").await.unwrap()).await;
    assert_eq!((status, &body["operation"], &body["detail"]), (200, &json!("DescribeThing"), &json!("lamp")));
    let (status, body) = operation(get("ThingName=lamp&Action=DeleteThing").await.unwrap()).await;
    assert_eq!((status, &body["operation"]), (200, &json!("DeleteThing")));
    // No operation has this query: 404, in dropshot's shape.
    assert_eq!(get("Action=Unknown&ThingName=lamp").await.unwrap().status(), 404);
    // A look-ahead pattern (ECMA-262, checked with regress).
    assert_eq!(get("Action=DescribeThing&ThingName=aws:lamp").await.unwrap().status(), 400);

    // By a header: `/#X-Amz-Target=Things.Put`.
    let put = |name: &str, target: &str| {
        http.post(format!("{base}/"))
            .header("X-Amz-Target", target)
            .json(&json!({"name": name, "+1": 1, "-1": 2}))
            .send()
    };
    let (status, body) = operation(put("desk-lamp", "Things.Put").await.unwrap()).await;
    assert_eq!((status, &body["detail"]), (200, &json!("desk-lamp Some(1) Some(2)")), "{body}");
    assert_eq!(put("desk-lamp", "Things.Other").await.unwrap().status(), 404);
    // A look-behind pattern: the name may not end with `-`.
    assert_eq!(put("desk-", "Things.Put").await.unwrap().status(), 400);

    // A fragment after a variable, beside the path without it.
    let (status, body) =
        operation(http.get(format!("{base}/tags/arn1?maxResults=1&max_results=2")).send().await.unwrap()).await;
    assert_eq!((status, &body["detail"]), (200, &json!("arn1 Some(1) Some(2)")), "{body}");
    let (status, body) =
        operation(http.delete(format!("{base}/tags/arn1?tagKeys=a&tagKeys=b")).send().await.unwrap()).await;
    assert_eq!((status, &body["detail"]), (200, &json!("arn1 [\"a\", \"b\"]")), "{body}");
    // Without `tagKeys` the request is the plain path's, which has no DELETE.
    let response = http.delete(format!("{base}/tags/arn1")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    server.close().await.unwrap();
}

#[tokio::test]
async fn segments_that_mix_a_variable_with_text_are_matched_by_their_dispatcher() {
    let (server, base) = serve().await;
    let http = reqwest::Client::new();
    let (status, body) = operation(http.get(format!("{base}/v1/ops%2F7")).send().await.unwrap()).await;
    assert_eq!((status, &body["operation"], &body["detail"]), (200, &json!("GetOperation"), &json!("ops/7")), "{body}");
    let (status, body) = operation(http.post(format!("{base}/v1/ops%2F7:cancel")).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["operation"], &body["detail"]),
        (200, &json!("CancelOperation"), &json!("ops/7")),
        "{body}"
    );
    // `{name}:cancel` is not `{name}`'s for POST, and `{name}` has no POST.
    assert_eq!(http.post(format!("{base}/v1/ops")).send().await.unwrap().status(), 405);
    let (status, body) = operation(http.get(format!("{base}/archives/my-tool-1.2.zip")).send().await.unwrap()).await;
    assert_eq!((status, &body["detail"]), (200, &json!("my tool-1.2")), "{body}");
    assert_eq!(http.get(format!("{base}/archives/tool.tar")).send().await.unwrap().status(), 404);
    server.close().await.unwrap();
}

#[tokio::test]
async fn object_parameters_are_read_from_their_keys_and_texts() {
    let (server, base) = serve().await;
    let http = reqwest::Client::new();
    let search = |query: &str| http.get(format!("{base}/search?{query}")).header("X-Scope", "team,core,level,2").send();
    let (status, body) = operation(
        search("filter[name]=Rex&filter%5Bage%5D=4&size=10&number=2&where=%7B%22any%22%3A%5B%22a%22%5D%7D&ids=1|2|3&sort=asc&level=1")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &body["detail"]),
        (
            200,
            &json!(
                "Some((Some(\"Rex\"), Some(4))) Some((Some(10), Some(2))) Some(Some([\"a\"])) Some([1, 2, 3]) \
                 Some((Some(\"core\"), Some(2))) Some(\"asc\") Some(1)"
            )
        ),
        "{body}"
    );
    // Each object's properties are checked as any value of its type is.
    assert_eq!(search("filter[age]=-1").await.unwrap().status(), 400);
    assert_eq!(search("filter[age]=old").await.unwrap().status(), 400);
    assert_eq!(search("where=not-json").await.unwrap().status(), 400);
    assert_eq!(search("ids=1|x").await.unwrap().status(), 400);
    // The enum written as strings is one of integers; `null` among the values made it nullable.
    assert_eq!(search("level=3").await.unwrap().status(), 400);
    assert_eq!(search("sort=up").await.unwrap().status(), 400);
    let (status, body) = operation(search("").await.unwrap()).await;
    assert_eq!(
        (status, &body["detail"]),
        (200, &json!("None None None None Some((Some(\"core\"), Some(2))) None None"))
    );
    server.close().await.unwrap();
}

#[tokio::test]
async fn the_client_reaches_each_operation_and_sends_colliding_names_under_their_own_keys() {
    let (server, base) = serve().await;
    let client = client::Client::new(&base);
    let described = client
        .describe_thing()
        .action(types::DescribeThingAction::DescribeThing)
        .thing_name("lamp")
        .send()
        .await
        .unwrap();
    assert_eq!(described.operation, "DescribeThing");
    let deleted =
        client.delete_thing().action(types::DeleteThingAction::DeleteThing).thing_name("lamp").send().await.unwrap();
    assert_eq!(deleted.operation, "DeleteThing");
    let thing: types::Thing = serde_json::from_value(json!({"name": "desk-lamp", "+1": 1, "-1": 2})).unwrap();
    let put = client.put_thing().x_amz_target(types::PutThingXAmzTarget::ThingsPut).body(thing).send().await.unwrap();
    assert_eq!(put.detail.as_deref(), Some("desk-lamp Some(1) Some(2)"));
    let listed = client.list_tags().resource_arn("arn1").max_results(1).max_results_query(2).send().await.unwrap();
    assert_eq!(listed.detail.as_deref(), Some("arn1 Some(1) Some(2)"));
    let canceled = client.cancel_operation().name("ops/7").send().await.unwrap();
    assert_eq!((canceled.operation.as_str(), canceled.detail.as_deref()), ("CancelOperation", Some("ops/7")));
    let archive = client.get_archive().name("tool").version("1.2").send().await.unwrap();
    assert_eq!(archive.detail.as_deref(), Some("tool 1.2"));
    // A `deepObject` goes as `filter[name]=…`, an exploded object as its properties, a header
    // object and JSON text as the caller's text.
    let found = client
        .search()
        .filter(types::Filter { name: Some("Rex".into()), age: Some(4) })
        .page(types::SearchPage { size: Some(10), number: None })
        .where_(r#"{"any": ["a"]}"#)
        .ids("1|2")
        .x_scope("team,core")
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.detail.as_deref(),
        Some(
            "Some((Some(\"Rex\"), Some(4))) Some((Some(10), None)) Some(Some([\"a\"])) Some([1, 2]) Some((Some(\"core\"), None)) None None"
        )
    );
    let untagged = client.untag_resource().resource_arn("arn1").tag_keys(vec!["a".to_owned()]).send().await.unwrap();
    assert_eq!(untagged.operation, "UntagResource");
    server.close().await.unwrap();
}
