//! `guest-greeter`: a dependency leaf. Besides greeting, it tries host
//! capabilities (key-value, SQLite 2 and 3, variables, outbound HTTP) from
//! inside the dependency, so tests can observe what the parent's
//! `inherit_configuration` granted it.

wit_bindgen::generate!({
    path: "../../guest-wit",
    world: "crm-test:guests/greeter-leaf",
    generate_all,
});

use spin_sdk::{key_value, sqlite, sqlite3, variables};

struct Greeter;

impl exports::crm_test::greeter::greet::Guest for Greeter {
    fn hello(name: String) -> String {
        format!("hello, {name} (from greeter)")
    }

    fn try_capability(what: String, arg: String) -> String {
        match what.as_str() {
            "kv" => match key_value::Store::open(&arg).and_then(|s| {
                s.set("from-dep", b"1")?;
                s.get("from-dep")
            }) {
                Ok(_) => "ok".into(),
                Err(key_value::Error::AccessDenied) => "error:access-denied".into(),
                Err(e) => format!("error:{e:?}"),
            },
            "sql" => {
                match sqlite::Connection::open(&arg).and_then(|c| c.execute("SELECT 1", &[])) {
                    Ok(_) => "ok".into(),
                    Err(sqlite::Error::AccessDenied) => "error:access-denied".into(),
                    Err(e) => format!("error:{e:?}"),
                }
            }
            "sql3" => {
                match sqlite3::Connection::open(&arg).and_then(|c| c.execute("SELECT 1", &[])) {
                    Ok(_) => "ok".into(),
                    Err(sqlite3::Error::AccessDenied) => "error:access-denied".into(),
                    Err(e) => format!("error:{e:?}"),
                }
            }
            "var" => match variables::get(&arg) {
                Ok(v) => format!("ok:{v}"),
                Err(e) => format!("error:{e:?}"),
            },
            "fetch" => spin_sdk::http::run(async move {
                match spin_sdk::http::send::<_, spin_sdk::http::Response>(
                    spin_sdk::http::Request::get(&arg),
                )
                .await
                {
                    Ok(resp) => Ok::<_, std::convert::Infallible>(format!("ok:{}", resp.status())),
                    Err(spin_sdk::http::SendError::Http(code)) => Ok(format!(
                        "error:{}",
                        format!("{code:?}").trim_start_matches("ErrorCode::")
                    )),
                    Err(e) => Ok(format!("error:{e}")),
                }
            })
            .unwrap_or_else(|e| match e {}),
            other => format!("error:unknown capability {other}"),
        }
    }
}

impl exports::crm_test::greeter::farewell::Guest for Greeter {
    fn bye(name: String) -> String {
        format!("bye, {name}")
    }
}

export!(Greeter);
