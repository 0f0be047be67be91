//! What the code generated from `fixtures/every-construct.yaml` does: each schema construct
//! reads what the schema allows and refuses the rest, and each operation construct answers
//! over HTTP as the spec says (through a dropshot server implementing the generated trait).

use corpus::every_construct::{api, types};
use dropshot::{
    ErrorStatusCode, Header, HttpError, HttpResponseCreated, HttpResponseOk, HttpResponseUpdatedNoContent, Path,
    RequestContext,
};
use serde_json::{Value, json};

fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn new_pet() -> Value {
    json!({"name": "Rex", "kind": "dog"})
}

fn with(mut value: Value, key: &str, member: Value) -> Value {
    value[key] = member;
    value
}

#[test]
fn string_formats_patterns_and_number_keywords_are_checked_when_read() {
    assert!(read::<types::NewPet>(new_pet()).is_ok());
    let refused = [
        ("email", json!("nobody")),
        ("home", json!("300.1.1.1")),
        ("office", json!("::g")),
        ("photo", json!("not base64!")),
        ("weight", json!(100)),
        ("weight", json!(1.25)),
        ("small", json!(200)),
        ("large", json!(-1)),
        ("labels", json!({})),
        ("labels", json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"})),
        ("name", json!("R2-D2")),
        ("name", json!("")),
        ("status", json!("lost")),
        ("extra", json!("not an integer")),
    ];
    for (key, value) in refused {
        assert!(read::<types::NewPet>(with(new_pet(), key, value.clone())).is_err(), "{key}: {value} was taken");
    }
    let taken = [
        ("email", json!("rex@example.com")),
        ("home", json!("10.0.0.1")),
        ("home", Value::Null),
        ("office", json!("::1")),
        ("photo", json!("UmV4")),
        ("weight", json!(99.5)),
        ("small", json!(-100)),
        ("labels", json!({"a": "1"})),
        ("status", json!("retired")),
        ("extra", json!(7)),
    ];
    for (key, value) in taken {
        let pet: types::NewPet = read(with(new_pet(), key, value.clone())).unwrap_or_else(|e| panic!("{key}: {e}"));
        if key == "extra" {
            assert_eq!(pet.additional_properties["extra"], 7);
        }
    }
    assert!(read::<types::ProblemCode>(json!(2)).is_ok());
    assert!(read::<types::ProblemCode>(json!(4)).is_err());
    assert!(read::<types::Pets>(Value::Array(vec![json!({"name": "A", "kind": "cat"}); 51])).is_err());
}

#[test]
fn read_only_and_write_only_properties_keep_to_their_direction() {
    let pet: types::Pet =
        read(json!({"id": "0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b", "name": "Rex", "kind": "dog"})).unwrap();
    assert_eq!(pet.id, None, "a readOnly property is not read from a request");
    let mut pet = pet;
    pet.id = Some("0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b".into());
    pet.secret = Some("hunter2".into());
    let written = serde_json::to_value(&pet).unwrap();
    assert_eq!(written["id"], "0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b");
    assert!(written.get("secret").is_none(), "a writeOnly property is never written: {written}");
    let new: types::NewPet = read(with(new_pet(), "secret", json!("hunter2"))).unwrap();
    assert_eq!(new.secret.as_deref(), Some("hunter2"));
}

#[test]
fn absent_values_take_their_defaults() {
    let new: types::NewPet = read(new_pet()).unwrap();
    assert_eq!((*new.legs, new.notify), (4, true), "a number enum's and a writeOnly value's default");
    let new: types::NewPet = read(with(with(new_pet(), "legs", json!(2)), "notify", json!(false))).unwrap();
    assert_eq!((*new.legs, new.notify), (2, false));
    assert!(read::<types::NewPet>(with(new_pet(), "legs", json!(3))).is_err());
    let written = serde_json::to_value(&new).unwrap();
    assert_eq!(written["legs"], 2);
    assert!(written.get("notify").is_none(), "a writeOnly value is never written: {written}");
}

#[test]
fn one_of_any_of_and_not_pick_as_the_schema_says() {
    let cat: types::Animal = read(json!({"kind": "kitty", "lives": 9})).unwrap();
    assert!(matches!(&cat, types::Animal::Cat(c) if c.lives == Some(9)));
    assert!(matches!(read::<types::Animal>(json!({"kind": "Dog", "barks": true})).unwrap(), types::Animal::Dog(_)));
    assert!(read::<types::Animal>(json!({"kind": "Cat"})).is_err(), "only the mapped value names Cat");
    assert!(read::<types::Animal>(json!({"lives": 9})).is_err());
    assert_eq!(serde_json::to_value(&cat).unwrap(), json!({"kind": "kitty", "lives": 9}));

    assert!(matches!(read::<types::IdOrName>(json!({"id": 3})).unwrap(), types::IdOrName::Object(_)));
    assert!(matches!(read::<types::IdOrName>(json!({"name": "x"})).unwrap(), types::IdOrName::Object1(_)));
    assert!(read::<types::IdOrName>(json!({"other": 1})).is_err());

    assert!(read::<types::NotAString>(json!(3)).is_ok());
    assert!(read::<types::NotAString>(json!({"a": 1})).is_ok());
    assert!(read::<types::NotAString>(json!("text")).is_err());
}

#[test]
fn recursive_types_nest() {
    let owner: types::Owner =
        read(json!({"name": "A", "best_friend": {"name": "B", "best_friend": {"name": "C"}}, "pets": []})).unwrap();
    let friend = owner.best_friend.as_ref().unwrap();
    assert_eq!(friend.best_friend.as_ref().unwrap().name.as_deref(), Some("C"));
}

/// The fixture's server: each method answers what its inputs ask for, so the tests can
/// drive every response and error the spec declares.
enum Fixture {}

impl api::SquaredApi for Fixture {
    type Context = ();

    async fn list_pets(
        _: RequestContext<()>,
        query: squared_support::ArrayQuery<api::ListPetsQuery>,
        headers: Header<api::ListPetsHeaders>,
    ) -> Result<api::ListPetsResponse, api::ListPetsError> {
        let query = query.into_inner();
        let trace = headers.into_inner().trace_id;
        match query.limit {
            0 => Ok(api::ListPetsResponse::Status203("cached".into())),
            1 => Err(api::ListPetsError::StatusDefault(ErrorStatusCode::SERVICE_UNAVAILABLE, "down".into())),
            2 => Err(api::ListPetsError::Status4xx(
                ErrorStatusCode::GONE,
                types::Problem { message: "gone".into(), code: Some(types::ProblemCode(3)) },
            )),
            _ => Ok(api::ListPetsResponse::Status200(
                types::Pets(Vec::new()),
                api::ListPetsHeaders200 { x_next: Some(format!("{:?} {:?} {:?}", query.tags, query.ids, trace)) },
            )),
        }
    }

    async fn create_pet(
        _: RequestContext<()>,
        _: Header<api::CreatePetHeaders>,
        body: dropshot::TypedBody<types::NewPet>,
    ) -> Result<api::CreatePetResponse, api::CreatePetError> {
        match body.into_inner().name.0.as_str() {
            "Taken" => Err(api::CreatePetError::Status409(types::Conflict { existing: None })),
            _ => Ok(api::CreatePetResponse::Status201),
        }
    }

    async fn show_pet(
        _: RequestContext<()>,
        _: Path<api::ShowPetPath>,
    ) -> Result<HttpResponseOk<types::Pet>, HttpError> {
        Err(HttpError::for_not_found(None, "no such pet".into()))
    }

    async fn tag_pet(
        _: RequestContext<()>,
        _: Path<api::TagPetPath>,
        body: squared_support::OptionalBody<types::TagPetBody>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        match body.into_inner() {
            None => Ok(HttpResponseUpdatedNoContent()),
            Some(_) => Err(HttpError::for_bad_request(None, "tagged".into())),
        }
    }

    async fn my_pets(
        _: RequestContext<()>,
        query: dropshot::Query<api::MyPetsQuery>,
    ) -> Result<HttpResponseOk<Vec<String>>, HttpError> {
        Ok(HttpResponseOk(vec![format!("page {:?}", query.into_inner().page)]))
    }

    async fn adopt_pet(
        _: RequestContext<()>,
        body: dropshot::TypedBody<types::AdoptPetBody>,
    ) -> Result<HttpResponseCreated<types::AdoptPetResponse>, api::AdoptPetError> {
        match body.into_inner().name.as_str() {
            "Taken" => Err(api::AdoptPetError::Status422(types::Problem { message: "taken".into(), code: None })),
            name => Ok(HttpResponseCreated(types::AdoptPetResponse { name: Some(name.to_owned()) })),
        }
    }

    async fn pet_owner(
        _: RequestContext<()>,
        path: Path<api::PetOwnerPath>,
    ) -> Result<HttpResponseOk<String>, HttpError> {
        Ok(HttpResponseOk(format!("owner of {}", path.into_inner().id)))
    }

    async fn put_photo(
        _: RequestContext<()>,
        _: Path<api::PutPhotoPath>,
        body: dropshot::UntypedBody,
    ) -> Result<api::PutPhotoResponse, HttpError> {
        // Streamed: one frame per byte, so the answer is a body the method never holds whole.
        let frames: Vec<Result<http_body::Frame<bytes::Bytes>, std::convert::Infallible>> =
            body.as_bytes().iter().rev().map(|b| Ok(http_body::Frame::data(bytes::Bytes::from(vec![*b])))).collect();
        let stream = http_body_util::StreamBody::new(futures::stream::iter(frames));
        Ok(api::PutPhotoResponse::Status200(dropshot::Body::wrap(stream)))
    }

    async fn post_note(_: RequestContext<()>, body: dropshot::UntypedBody) -> Result<api::PostNoteResponse, HttpError> {
        let text = body.as_str().map_err(|e| HttpError::for_bad_request(None, e.to_string()))?.to_owned();
        Ok(api::PostNoteResponse::Status303(api::PostNoteHeaders303 {
            location: format!("https://notes.example/{text}"),
        }))
    }

    async fn search(
        _: RequestContext<()>,
        body: dropshot::TypedBody<types::SearchBody>,
    ) -> Result<HttpResponseOk<Value>, HttpError> {
        let body = body.into_inner();
        Ok(HttpResponseOk(json!({"q": body.q, "rows": body.rows})))
    }
}

async fn serve() -> (dropshot::HttpServer<()>, String) {
    let api = api::squared_api_mod::api_description::<Fixture>().expect("the fixture's API");
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let config = dropshot::ConfigDropshot { bind_address: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let server = dropshot::ServerBuilder::new(api, (), log).config(config).start().expect("the server starts");
    let base = format!("http://{}", server.local_addr());
    (server, base)
}

#[tokio::test]
async fn operations_answer_every_response_the_spec_declares() {
    let (server, base) = serve().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let pets = format!("{base}/pets");

    // Query arrays, repeated and comma-separated, and a header parameter with a pattern.
    let response =
        http.get(format!("{pets}?tags=a&ids=1,2&tags=b&limit=5")).header("Trace-Id", "0a1b2c3d").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["X-Next"], "Some([\"a\", \"b\"]) [1, 2] Some(\"0a1b2c3d\")");
    assert_eq!(http.get(format!("{pets}?ids=1,x&limit=5")).send().await.unwrap().status(), 400);
    assert_eq!(
        http.get(format!("{pets}?ids=1&limit=5")).header("Trace-Id", "nothex!!").send().await.unwrap().status(),
        400
    );
    // A second success status, a status range with its body, and a default text error.
    let cached = http.get(format!("{pets}?ids=1&limit=0")).send().await.unwrap();
    assert_eq!(cached.status(), 203);
    assert_eq!(cached.json::<Value>().await.unwrap(), "cached");
    let gone = http.get(format!("{pets}?ids=1&limit=2")).send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.json::<Value>().await.unwrap(), json!({"message": "gone", "code": 3}));
    assert_eq!(http.get(format!("{pets}?ids=1&limit=1")).send().await.unwrap().status(), 503);

    // 201 without a body; a per-status error body; a request the schema refuses.
    let created = http.post(&pets).json(&new_pet()).send().await.unwrap();
    assert_eq!(created.status(), 201);
    assert!(created.bytes().await.unwrap().is_empty());
    let taken = http.post(&pets).json(&json!({"name": "Taken", "kind": "cat"})).send().await.unwrap();
    assert_eq!(taken.status(), 409);
    assert_eq!(taken.json::<Value>().await.unwrap(), json!({}));
    let refused = http.post(&pets).json(&json!({"name": "Rex", "kind": "cow"})).send().await.unwrap();
    assert_eq!(refused.status(), 400);

    // A path parameter in the uuid format; an error without a body.
    assert_eq!(http.get(format!("{pets}/not-a-uuid")).send().await.unwrap().status(), 400);
    let pet = format!("{pets}/0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b");
    assert_eq!(http.get(&pet).send().await.unwrap().status(), 404);
    // An optional body, absent and present.
    assert_eq!(http.patch(&pet).send().await.unwrap().status(), 204);
    assert_eq!(http.patch(&pet).json(&json!({"tags": ["x"]})).send().await.unwrap().status(), 400);
    assert_eq!(http.patch(&pet).json(&json!({"tags": ["x", "x"]})).send().await.unwrap().status(), 400);

    // A literal beside a variable (`/pets/mine` beside `/pets/{petId}`): the literal's
    // operations, with their own query, form body and error type; the variable's still served.
    let mine = format!("{pets}/mine");
    let listed = http.get(format!("{mine}?page=2")).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.json::<Value>().await.unwrap(), json!(["page Some(2)"]));
    assert_eq!(http.get(format!("{mine}?page=0")).send().await.unwrap().status(), 400, "its query's bound");
    let adopt =
        |body: &'static str| http.post(&mine).header("Content-Type", "application/x-www-form-urlencoded").body(body);
    let adopted = adopt("name=Rex").send().await.unwrap();
    assert_eq!(adopted.status(), 201);
    assert_eq!(adopted.json::<Value>().await.unwrap(), json!({"name": "Rex"}));
    assert_eq!(adopt("name=").send().await.unwrap().status(), 400, "its body's bound");
    let taken = adopt("name=Taken").send().await.unwrap();
    assert_eq!(taken.status(), 422);
    assert_eq!(taken.json::<Value>().await.unwrap(), json!({"message": "taken"}));
    let as_json = http.post(&mine).json(&json!({"name": "Rex"})).send().await.unwrap();
    assert_eq!(as_json.status(), 400, "the form body's content type is checked");
    // A method the path does not have: 405 with that path's methods, not the node's.
    let patched = http.patch(&mine).send().await.unwrap();
    assert_eq!(patched.status(), 405);
    assert_eq!(patched.headers()["Allow"], "GET, POST");
    let deleted = http.delete(&pet).send().await.unwrap();
    assert_eq!(deleted.status(), 405);
    assert_eq!(deleted.headers()["Allow"], "GET, PATCH");
    // The variable's operations, through the same endpoints.
    assert_eq!(http.get(&pet).send().await.unwrap().status(), 404);
    assert_eq!(http.get(format!("{pets}/not-a-uuid")).send().await.unwrap().status(), 400);
    // A variable dropshot holds under another name is read under its own.
    let owner = http.get(format!("{pet}/owner")).send().await.unwrap();
    assert_eq!(owner.status(), 200);
    assert_eq!(owner.json::<Value>().await.unwrap(), json!("owner of 0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b"));
    assert_eq!(http.get(format!("{mine}/owner")).send().await.unwrap().status(), 400, "`mine` is an `{{id}}` there");
    let unknown = http.get(format!("{pet}/nothing")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    // Bytes in, bytes out under their own media type.
    let photo = http
        .put(format!("{pet}/photo"))
        .body(vec![1u8, 2, 3])
        .header("Content-Type", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["Content-Type"], "image/png");
    assert_eq!(photo.bytes().await.unwrap().as_ref(), [3, 2, 1]);
    // Text in, a redirect with its header out.
    let note = http
        .post(format!("{base}/notes"))
        .body("hello")
        .header("Content-Type", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), 303);
    assert_eq!(note.headers()["Location"], "https://notes.example/hello");
    // A form body, with its bounds.
    let form = |body: &'static str| {
        http.post(format!("{base}/search")).header("Content-Type", "application/x-www-form-urlencoded").body(body)
    };
    let found = form("q=rex&rows=2").send().await.unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(found.json::<Value>().await.unwrap(), json!({"q": "rex", "rows": 2}));
    assert_eq!(form("q=rex&rows=1").send().await.unwrap().status(), 400);
    server.close().await.unwrap();
}

#[test]
fn security_is_available_per_operation() {
    assert_eq!(api::security::CREATE_PET, [&["bearerAuth", "apiKey"][..], &["oauth"][..]]);
    assert!(api::security::SHOW_PET.is_empty());
    assert_eq!(api::security::LIST_PETS, [&["bearerAuth"][..]]);
}
