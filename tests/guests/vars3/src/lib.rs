//! `guest-vars3`: reads component variables through
//! `spin:variables/variables@3.0.0`, which `spin-sdk` 5.2 does not bind (its
//! `get` is a component-model `async func`). `GET /?name=N` answers
//! `ok:<value>` or `error:<kind>`.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit/deps/spin-variables@3.0.0",
    inline: "
        package crm-test:vars3;
        world vars3 {
            import spin:variables/variables@3.0.0;
        }
    ",
    world: "crm-test:vars3/vars3",
    generate_all,
});

use spin::variables::variables::{self, Error};

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let name = req
        .query()
        .split('&')
        .find_map(|pair| pair.strip_prefix("name="))
        .unwrap_or_default()
        .to_string();
    let answer = wit_bindgen::block_on(async move { variables::get(name).await });
    let body = match answer {
        Ok(value) => format!("ok:{value}"),
        Err(Error::Undefined(_)) => "error:undefined".into(),
        Err(Error::InvalidName(_)) => "error:invalid-name".into(),
        Err(e) => format!("error:{e:?}"),
    };
    Ok(Response::new(200, body))
}
