//! `guest-counter`: a dependency leaf exporting `crm-test:counter/count`.

wit_bindgen::generate!({
    path: "../../guest-wit",
    world: "crm-test:guests/counter-leaf",
    generate_all,
});

struct Counter;

impl exports::crm_test::counter::count::Guest for Counter {
    fn next() -> u64 {
        42
    }
}

export!(Counter);
