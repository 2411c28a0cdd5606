//! `guest-greeter-client`: HTTP guest calling its two dependencies.
//! `GET /...?name=N` → `hello, N (from greeter) #42`;
//! `GET /...?try=<what>&arg=<arg>` → what the dependency's capability attempt returned.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../guest-wit",
    world: "crm-test:guests/greeter-client",
    generate_all,
});

use crm_test::counter::count;
use crm_test::greeter::greet;

fn param(req: &Request, name: &str) -> Option<String> {
    req.query().split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.replace("%3A", ":").replace("%2F", "/"))
    })
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let body = match param(&req, "try") {
        Some(what) => greet::try_capability(&what, &param(&req, "arg").unwrap_or_default()),
        None => format!(
            "{} #{}",
            greet::hello(&param(&req, "name").unwrap_or_else(|| "world".into())),
            count::next()
        ),
    };
    Ok(Response::new(200, body))
}
