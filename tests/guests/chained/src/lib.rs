//! `guest-chained`: exports `crm-test:greeter/greet` but itself imports
//! `crm-test:counter/count`. Spin 4 does not resolve a dependency's own
//! imports of non-host functions, so an app using it must fail to start.

wit_bindgen::generate!({
    path: "../../guest-wit",
    world: "crm-test:guests/chained-leaf",
    generate_all,
});

struct Chained;

impl exports::crm_test::greeter::greet::Guest for Chained {
    fn hello(name: String) -> String {
        format!("hello, {name} #{}", crm_test::counter::count::next())
    }

    fn try_capability(_what: String, _arg: String) -> String {
        "error:unsupported".into()
    }
}

export!(Chained);
