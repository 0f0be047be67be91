//! Where dropshot serves each operation of a spec, and how the operations its router cannot
//! hold at their own paths are served instead.
//!
//! dropshot's router holds, at each place of a path, either literal segments or one variable
//! (under one name), and one endpoint per method and path. A spec may put a literal beside a
//! variable (`/users/me` beside `/users/{id}`), or name one place's variable differently in
//! different paths (`/apps/{appId}` beside `/apps/{id}/logo`). Here every path is first
//! *served*: at each place where some path of the same router node has a variable, every
//! path takes that (first) variable. A served path that differs from some operation's own
//! path is *dispatched*: each of its methods gets one endpoint whose provided body routes the
//! request to the operation whose own path it matches (`squared_support::dispatch` at runtime),
//! and those operations become plain trait methods. For the emitted OpenAPI document, the
//! dispatched operations are also declared at their own paths in documentation-only traits,
//! in as few *layers* as dropshot's router can hold.
//!
//! The trait generator and the round-trip normaliser both read this module; nothing else
//! decides where an operation is served.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Api, Condition, first_free, path_variables, request_path};

/// How one operation is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    /// At its own path, by an endpoint of its own.
    Own,
    /// Through `dispatchers[dispatcher]`, and declared for the document in `layers[layer]`.
    Dispatched { dispatcher: usize, layer: usize },
}

/// One endpoint that routes the requests of several paths (or of one path dropshot serves
/// under other variable names) to their operations.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    /// The HTTP method, as the model spells it (upper case).
    pub method: String,
    /// The path dropshot holds (variables only where the spec paths have literals).
    pub served_path: String,
    /// Every spec path served at `served_path` (whatever the method), most specific first
    /// (a literal before a variable at the first place they differ): the order a request is
    /// matched in.
    pub candidates: Vec<Candidate>,
}

/// A spec path served through a dispatcher.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub path: String,
    /// (served variable, literal): the request is this path's when each variable holds its
    /// literal.
    pub literals: Vec<(String, String)>,
    /// (spec variable, served variable) for each variable of the path.
    pub renames: Vec<(String, String)>,
    /// (served variable, mixed segment): the request is this path's when each variable's value
    /// matches its segment (`{name}:cancel`), whose variables it then gives.
    pub templates: Vec<(String, String)>,
    /// The path's operations (indices into `api.operations`), whatever their method.
    pub operations: Vec<usize>,
    /// What the request carries besides its path (the path's `#fragment`).
    pub conditions: Vec<Condition>,
}

/// Where each operation of a spec is served.
#[derive(Clone, Debug)]
pub struct Routing {
    /// Index-aligned with `api.operations`.
    pub served: Vec<Served>,
    pub dispatchers: Vec<Dispatcher>,
    /// The number of documentation layers.
    pub layers: usize,
}

/// The methods a dispatched path answers (405 where none of its operations has one).
const METHODS: [&str; 6] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];

/// The name of a variable segment (`{id}` → `id`), or `None` for a literal or a mixed one.
pub fn variable(segment: &str) -> Option<&str> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    (!name.contains(['{', '}'])).then_some(name)
}

/// Whether a segment mixes variables with literal text, or holds several (`{name}:cancel`,
/// `{id}.json`, `{name}-{version}.zip`): dropshot holds it as a variable, and its dispatcher
/// matches the rest (`squared_support::match_segments` at runtime).
pub fn is_mixed(segment: &str) -> bool {
    segment.contains('{') && variable(segment).is_none()
}

/// The variable a segment holds first (`{name}:cancel` → `name`).
fn first_variable_in(segment: &str) -> Option<&str> {
    path_variables(segment).into_iter().next()
}

/// Each operation's path as dropshot can hold it (see the module docs).
fn served_paths(api: &Api) -> Vec<Vec<String>> {
    let mut served: Vec<Vec<String>> =
        api.operations.iter().map(|op| route(op.request_path()).split('/').map(str::to_owned).collect()).collect();
    let longest = served.iter().map(Vec::len).max().unwrap_or(0);
    for place in 0..longest {
        // Operations whose served prefixes agree share a router node at this place.
        let mut nodes: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
        for (index, segments) in served.iter().enumerate() {
            if segments.len() > place {
                nodes.entry(segments[..place].to_vec()).or_default().push(index);
            }
        }
        for (prefix, members) in &nodes {
            // A plain variable names the place; failing one, the first variable of a mixed segment.
            let first_variable = members
                .iter()
                .find(|&&index| variable(&served[index][place]).is_some())
                .or_else(|| members.iter().find(|&&index| is_mixed(&served[index][place])));
            if let Some(&first) = first_variable {
                // One path may not name two variables alike (a renamed place above may already
                // hold this name): a number keeps them apart.
                let segment = &served[first][place];
                let base = variable(segment).or_else(|| first_variable_in(segment)).expect("a variable");
                let name = first_free(base, "", |name| prefix.contains(&format!("{{{name}}}")));
                let name = format!("{{{name}}}");
                for &index in members {
                    served[index][place] = name.clone();
                }
            }
        }
    }
    served
}

/// Where a documentation trait declares an operation: its spec path, with a `/` before a
/// `#fragment` that follows a variable and between the pieces of a mixed segment (dropshot
/// holds `{Bucket}#tagging` and `{name}:cancel` as neither a variable nor a literal). The emitted document names it by its spec path again
/// ([`documented_paths`]).
pub fn documented_path(path: &str) -> String {
    let (before, fragment) = match path.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (path, None),
    };
    // A mixed segment is declared as its pieces, a segment each (`{name}/:cancel`).
    let mut declared: Vec<String> = Vec::new();
    for segment in before.split('/') {
        if !is_mixed(segment) {
            declared.push(segment.to_owned());
            continue;
        }
        let mut rest = segment;
        while !rest.is_empty() {
            let cut = if rest.starts_with('{') {
                rest.find('}').map_or(rest.len(), |end| end + 1)
            } else {
                rest.find('{').unwrap_or(rest.len())
            };
            declared.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
    }
    let before = declared.join("/");
    match fragment {
        Some(fragment) if !before.ends_with('/') => format!("{before}/#{fragment}"),
        Some(fragment) => format!("{before}#{fragment}"),
        None => before,
    }
}

/// (documented path, spec path) for each operation a documentation trait declares elsewhere
/// than at its spec path.
pub fn documented_paths(api: &Api) -> Vec<(String, String)> {
    let mut renamed: Vec<(String, String)> = api
        .operations
        .iter()
        .filter(|op| documented_path(&op.path) != op.path)
        .map(|op| (documented_path(&op.path), op.path.clone()))
        .collect();
    renamed.sort();
    renamed.dedup();
    renamed
}

/// A path's segments ordered for matching: a literal sorts before a mixed segment, and that
/// before a variable.
fn specificity(path: &str) -> Vec<(u8, &str)> {
    path.split('/')
        .map(|segment| {
            let rank = if variable(segment).is_some() {
                2
            } else if is_mixed(segment) {
                1
            } else {
                0
            };
            (rank, segment)
        })
        .collect()
}

/// A model of dropshot's router, to find which paths one API description can hold together.
#[derive(Default)]
struct RouterNode {
    literals: BTreeMap<String, RouterNode>,
    variable: Option<(String, Box<RouterNode>)>,
    methods: Vec<String>,
}

impl RouterNode {
    /// Whether the router can also hold `method path`.
    fn fits(&self, segments: &[&str], method: &str) -> bool {
        match segments.split_first() {
            None => !self.methods.iter().any(|m| m == method),
            Some((segment, rest)) => match variable(segment) {
                Some(name) => {
                    self.literals.is_empty()
                        && match &self.variable {
                            None => true,
                            Some((held, node)) => held == name && node.fits(rest, method),
                        }
                }
                None => {
                    self.variable.is_none() && self.literals.get(*segment).is_none_or(|node| node.fits(rest, method))
                }
            },
        }
    }

    fn insert(&mut self, segments: &[&str], method: &str) {
        match segments.split_first() {
            None => self.methods.push(method.to_owned()),
            Some((segment, rest)) => match variable(segment) {
                Some(name) => {
                    let (_, node) = self.variable.get_or_insert_with(|| (name.to_owned(), Box::default()));
                    node.insert(rest, method);
                }
                None => self.literals.entry((*segment).to_owned()).or_default().insert(rest, method),
            },
        }
    }
}

/// A path as dropshot's router holds it: without a trailing `/` (its router ignores empty
/// segments, so `/users/` is `/users`), the root alone excepted.
fn route(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(bare) if !bare.is_empty() => bare,
        _ => path,
    }
}

/// The non-empty segments of a path.
fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Where each operation of `api` is served.
pub fn routing(api: &Api) -> Routing {
    let served = served_paths(api);
    let joined: Vec<String> = served.iter().map(|segments| segments.join("/")).collect();
    let dispatched_paths: BTreeSet<&String> = api
        .operations
        .iter()
        .zip(&joined)
        .filter(|(op, served_path)| route(&op.path) != served_path.as_str())
        .map(|(_, served_path)| served_path)
        .collect();
    let mut dispatchers: Vec<Dispatcher> = Vec::new();
    let mut served_by: Vec<Option<usize>> = vec![None; api.operations.len()];
    for (index, op) in api.operations.iter().enumerate() {
        if !dispatched_paths.contains(&&joined[index]) {
            continue;
        }
        let existing = dispatchers.iter().position(|d| d.method == op.method && d.served_path == joined[index]);
        let dispatcher = match existing {
            Some(existing) => existing,
            None => {
                dispatchers.push(Dispatcher {
                    method: op.method.clone(),
                    served_path: joined[index].clone(),
                    candidates: candidates(api, &served, &joined, &joined[index]),
                });
                dispatchers.len() - 1
            }
        };
        served_by[index] = Some(dispatcher);
    }
    // A method no operation of a dispatched path has gets a dispatcher too: dropshot's own 405
    // would list the methods of every path served there, not those of the path requested.
    for path in dispatched_paths {
        for method in METHODS {
            if !dispatchers.iter().any(|d| d.method == method && &d.served_path == path) {
                dispatchers.push(Dispatcher {
                    method: method.to_owned(),
                    served_path: path.clone(),
                    candidates: candidates(api, &served, &joined, path),
                });
            }
        }
    }
    // The documentation layers: each dispatched operation at its own path, in the first
    // layer whose router can hold it.
    let mut layers: Vec<RouterNode> = Vec::new();
    let served = served_by
        .iter()
        .enumerate()
        .map(|(index, dispatcher)| match dispatcher {
            None => Served::Own,
            Some(dispatcher) => {
                let op = &api.operations[index];
                let documented = documented_path(&op.path);
                let path = segments(&documented);
                let layer = match layers.iter().position(|layer| layer.fits(&path, &op.method)) {
                    Some(layer) => layer,
                    None => {
                        layers.push(RouterNode::default());
                        layers.len() - 1
                    }
                };
                layers[layer].insert(&path, &op.method);
                Served::Dispatched { dispatcher: *dispatcher, layer }
            }
        })
        .collect();
    Routing { served, dispatchers, layers: layers.len() }
}

/// Every spec path served at `served_path`, most specific first.
fn candidates(api: &Api, served: &[Vec<String>], joined: &[String], served_path: &str) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for (index, op) in api.operations.iter().enumerate() {
        if joined[index] != served_path {
            continue;
        }
        if let Some(candidate) = candidates.iter_mut().find(|c| c.path == op.path) {
            candidate.operations.push(index);
            continue;
        }
        let mut literals = Vec::new();
        let mut renames = Vec::new();
        let mut templates = Vec::new();
        for (own, held) in op.request_path().split('/').zip(&served[index]) {
            match (variable(own), variable(held)) {
                (Some(own), Some(held)) => renames.push((own.to_owned(), held.to_owned())),
                (None, Some(held)) if is_mixed(own) => templates.push((held.to_owned(), own.to_owned())),
                (None, Some(held)) => literals.push((held.to_owned(), own.to_owned())),
                _ => {}
            }
        }
        let conditions = op.conditions.clone();
        candidates.push(Candidate {
            path: op.path.clone(),
            literals,
            renames,
            templates,
            operations: vec![index],
            conditions,
        });
    }
    // The most specific path first; at one path, the candidate with the most conditions.
    candidates.sort_by(|a, b| {
        specificity(request_path(&a.path))
            .cmp(&specificity(request_path(&b.path)))
            .then(b.conditions.len().cmp(&a.conditions.len()))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    fn spec(paths: &[(&str, &str)]) -> Api {
        let mut text = String::from("openapi: 3.0.3\ninfo: {title: T, version: 1.0.0}\npaths:\n");
        let mut by_path: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (method, path) in paths {
            by_path.entry(path).or_default().push(method);
        }
        for (path, methods) in by_path {
            text.push_str(&format!("  {path}:\n"));
            for method in methods {
                let params: Vec<String> = path_variables(request_path(path))
                    .into_iter()
                    .map(|name| format!("{{name: {name}, in: path, required: true, schema: {{type: string}}}}"))
                    .collect();
                text.push_str(&format!(
                    "    {method}:\n      parameters: [{}]\n      responses: {{\"204\": {{description: ok}}}}\n",
                    params.join(", ")
                ));
            }
        }
        model::load(&text).unwrap()
    }

    #[test]
    fn paths_dropshot_can_hold_are_served_as_they_are() {
        let api = spec(&[("get", "/users"), ("get", "/users/{id}"), ("delete", "/users/{id}")]);
        let routing = routing(&api);
        assert!(routing.served.iter().all(|s| *s == Served::Own));
        assert!(routing.dispatchers.is_empty());
    }

    /// dropshot's router ignores empty segments: `/projects/` is `/projects`, so a trailing `/`
    /// is no segment (it was taken for one, and `/projects/` and `/projects/{id}/` became one
    /// route twice).
    #[test]
    fn a_trailing_slash_is_no_segment() {
        let api = spec(&[("get", "/projects/"), ("get", "/projects/{id}/"), ("get", "/projects/{id}/tags/")]);
        let own = routing(&api);
        assert!(own.served.iter().all(|s| *s == Served::Own), "{own:?}");
        let api = spec(&[
            ("get", "/accounts/{id}/"),
            ("get", "/accounts/{id}/balances/"),
            ("get", "/accounts/premium/{id}/"),
        ]);
        let dispatched = routing(&api);
        let served: Vec<(&str, &str)> =
            dispatched.dispatchers.iter().map(|d| (d.method.as_str(), d.served_path.as_str())).collect();
        let unique: BTreeSet<&(&str, &str)> = served.iter().collect();
        assert_eq!(unique.len(), served.len(), "one dispatcher per method and path: {served:?}");
        assert!(served.iter().all(|(_, path)| *path == "/accounts/{id}/{id2}"), "{served:?}");
        // The operation at `/accounts/{id}/` is served at its own path.
        let own = api.operations.iter().position(|op| op.path == "/accounts/{id}/").unwrap();
        assert_eq!(dispatched.served[own], Served::Own);
    }

    #[test]
    fn a_literal_beside_a_variable_is_dispatched_literal_first() {
        let api = spec(&[("get", "/users/{id}"), ("put", "/users/{id}"), ("get", "/users/me"), ("post", "/users/me")]);
        let routing = routing(&api);
        // GET, PUT and POST route to operations; DELETE, PATCH and OPTIONS answer 405.
        assert_eq!(routing.dispatchers.len(), 6, "every method at /users/{{id}}: {routing:?}");
        let get = routing.dispatchers.iter().find(|d| d.method == "GET").unwrap();
        assert_eq!(get.served_path, "/users/{id}");
        let order: Vec<&str> = get.candidates.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(order, ["/users/me", "/users/{id}"]);
        assert_eq!(get.candidates[0].literals, [("id".to_owned(), "me".to_owned())]);
        // Both paths cannot be held by one router: two documentation layers.
        assert_eq!(routing.layers, 2);
    }

    #[test]
    fn deep_paths_collapse_under_a_variable_met_earlier() {
        // `/{kind}/{id}/tags` puts every first segment under `{kind}`, and then `/incidents/count`
        // beside `/incidents/{id}` under `{id}`.
        let api = spec(&[
            ("get", "/{kind}/{id}/tags"),
            ("get", "/incidents/{id}"),
            ("get", "/incidents/count"),
            ("get", "/abilities"),
            ("get", "/apps/{appId}/logo"),
            ("get", "/apps/{appName}"),
        ]);
        let routing = routing(&api);
        // The first variable met at a place (in the spec's order) names it for every path.
        let served: Vec<&str> = routing.dispatchers[..4].iter().map(|d| d.served_path.as_str()).collect();
        assert_eq!(routing.dispatchers.len(), 4 * 6, "every method at each of the four paths");
        assert_eq!(served, ["/{kind}", "/{kind}/{appId}/logo", "/{kind}/{appId}", "/{kind}/{appId}/tags"]);
        let two = &routing.dispatchers[2];
        let order: Vec<&str> = two.candidates.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(order, ["/apps/{appName}", "/incidents/count", "/incidents/{id}"]);
        assert_eq!(two.candidates[0].renames, [("appName".to_owned(), "appId".to_owned())]);
        assert_eq!(two.candidates[1].literals, [("kind".into(), "incidents".into()), ("appId".into(), "count".into())]);
        let tags = &routing.dispatchers[3].candidates[0];
        assert_eq!(tags.renames, [("kind".into(), "kind".into()), ("id".into(), "appId".into())]);
        assert!(tags.literals.is_empty());
        // `/apps/{appName}` and `/apps/{appId}/logo` name one place differently, `/incidents/count`
        // sits beside `/incidents/{id}`, and `/{kind}` beside every literal: three layers.
        assert_eq!(routing.layers, 3);
    }

    #[test]
    fn a_served_path_never_names_two_variables_alike() {
        // `{appName}` is served as `{appId}` (the first name at its place), so the `{appId}`
        // after it takes another name.
        let api = spec(&[("get", "/apps/{appId}/x"), ("get", "/apps/{appName}/{appId}")]);
        let routing = routing(&api);
        let served: Vec<&str> = routing.dispatchers.iter().map(|d| d.served_path.as_str()).collect();
        assert!(served.iter().all(|p| *p == "/apps/{appId}/{appId2}"), "{served:?}");
        let candidate = routing.dispatchers[0].candidates.iter().find(|c| c.path == "/apps/{appName}/{appId}").unwrap();
        assert_eq!(candidate.renames, [("appName".into(), "appId".into()), ("appId".into(), "appId2".into())]);
    }

    #[test]
    fn fragments_and_mixed_segments_are_dispatched_most_specific_first() {
        let api = spec(&[
            ("get", "/v1/{name}"),
            ("post", "/v1/{name}:cancel"),
            ("get", "/tags/{arn}"),
            ("delete", "/tags/{arn}#tagKeys"),
        ]);
        // `#tagKeys` is a query condition (the spec helper declares no query parameters).
        let untag = api.operations.iter().find(|op| op.path.contains('#')).unwrap();
        assert_eq!(untag.conditions.len(), 1);
        assert_eq!(untag.request_path(), "/tags/{arn}");
        let routing = routing(&api);
        let delete =
            routing.dispatchers.iter().find(|d| d.method == "DELETE" && d.served_path == "/tags/{arn}").unwrap();
        let order: Vec<&str> = delete.candidates.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(order, ["/tags/{arn}#tagKeys", "/tags/{arn}"], "more conditions first");
        let post = routing.dispatchers.iter().find(|d| d.method == "POST" && d.served_path == "/v1/{name}").unwrap();
        let cancel = post.candidates.iter().find(|c| c.path == "/v1/{name}:cancel").unwrap();
        assert_eq!(cancel.templates, [("name".to_owned(), "{name}:cancel".to_owned())]);
        assert_eq!(post.candidates[0].path, "/v1/{name}:cancel", "a mixed segment before a variable");
        assert_eq!(documented_path("/v1/{name}:cancel"), "/v1/{name}/:cancel");
        assert_eq!(documented_path("/tags/{arn}#tagKeys"), "/tags/{arn}/#tagKeys");
        assert_eq!(documented_path("/#Action=Describe"), "/#Action=Describe");
        assert_eq!(documented_path("/a/{name}-{version}.zip"), "/a/{name}/-/{version}/.zip");
    }

    #[test]
    fn the_router_model_refuses_what_dropshot_refuses() {
        let mut router = RouterNode::default();
        router.insert(&["users", "{id}"], "GET");
        assert!(!router.fits(&["users", "me"], "GET"), "a literal beside a variable");
        assert!(!router.fits(&["users", "{name}"], "PUT"), "another name for the variable");
        assert!(!router.fits(&["users", "{id}"], "GET"), "the same method and path");
        assert!(router.fits(&["users", "{id}"], "PUT"));
        assert!(router.fits(&["users", "{id}", "me"], "GET"));
    }
}
