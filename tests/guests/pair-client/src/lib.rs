//! `guest-pair-client`: HTTP guest importing two interfaces of one package.
//! `GET /` → `hello, pair (from greeter) / bye, pair`.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../guest-wit",
    world: "crm-test:guests/pair-client",
    generate_all,
});

use crm_test::greeter::{farewell, greet};

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::new(
        200,
        format!("{} / {}", greet::hello("pair"), farewell::bye("pair")),
    ))
}
