//! The staff console's pages over plain HTTP (JavaScript off, as a form
//! posts): each page, each refusal (a form sent back with the error
//! summary and what was typed; a missing CSRF token; a role without the
//! action, which is not offered it), and what each form wrote, read back
//! through the API.

use crm_tests::auth::token;
use crm_tests::consent::decision;
use crm_tests::{Caller, json};

use crate::staff_client::StaffBrowser;
use crate::{app, host, person};

fn staff(id: &str, roles: &[&str]) -> Caller<'static> {
    host()
        .as_caller(&token(id, roles))
        .purpose("case-management")
}

fn admin() -> Caller<'static> {
    staff("admin-pages", &["administrator"])
}

/// Every form the console posts: none is taken without the session's
/// CSRF token, and none writes anything then.
#[test]
fn no_console_form_is_taken_without_its_csrf_token() {
    let contact = person("Csrf", "Tokenless", "csrf.tokenless@example.org", 501);
    let case = staff("intake-csrf", &["intake-officer"]).post_json(
        "/api/cases",
        &json!({"case_type": "general-enquiry", "subject": "Csrf", "contact_id": contact}),
    );
    assert_eq!(case.status, 201, "{}", case.body);
    let case = case.json()["id"].as_str().unwrap().to_string();
    let read = || {
        staff("worker-csrf", &["case-worker"])
            .get(&format!("/api/cases/{case}"))
            .json()
    };
    let before = read();
    let mut browser = StaffBrowser::sign_in("case-worker", "worker-csrf", Some("case-management"));
    let record = format!("/staff/contacts/{contact}");
    for path in [
        "/staff/contacts/new".to_string(),
        "/staff/contacts/new/duplicates".to_string(),
        "/staff/contacts/new/use".to_string(),
        "/staff/contacts/new/check".to_string(),
        format!("{record}/correct"),
        format!("{record}/interactions/new"),
        format!("{record}/messages/new"),
        format!("{record}/messages/new/personalise"),
        format!("{record}/messages/new/check"),
        format!("/staff/cases/{case}/transition"),
        format!("/staff/cases/{case}/activities"),
        format!("/staff/cases/{case}/participants"),
        "/staff/queue/take-next".to_string(),
    ] {
        for token in [None, Some("forged")] {
            let mut fields = vec![("subject", "Forged"), ("to", "in-progress")];
            if let Some(token) = token {
                fields.push(("csrf_token", token));
            }
            let refused = browser.post_bare(&path, &fields);
            assert_eq!(refused.status, 403, "{path} {token:?}: {}", refused.body);
            assert!(refused.has("Your form could not be sent"), "{path}");
        }
    }
    assert_eq!(read(), before, "nothing was written to the case");
}

/// The record's sections and actions follow the reader's roles, and a
/// section shows only what the API answered them.
#[test]
fn a_records_sections_and_actions_follow_the_readers_roles() {
    let household = person("Hazel", "Housemate", "hazel.housemate@example.org", 511);
    let contact = person("Harriet", "Household", "harriet.household@example.org", 512);
    let officer = staff("intake-sections", &["intake-officer"]);
    let read = officer.get(&format!("/api/contacts/{contact}"));
    let related = staff("intake-sections", &["intake-officer"]).header("if-match", read.header("etag").unwrap()).request(
        "PATCH",
        &format!("/api/contacts/{contact}"),
        Some(&json!({"changes": {"relationships": [{"kind": "household-member", "contact_id": household}]},
                     "reason": "Lives with Hazel"})),
    );
    assert_eq!(related.status, 200, "{}", related.body);
    let consent = staff("worker-sections", &["case-worker"]).post_json(
        "/api/consents",
        &decision(&contact, "newsletters", "email", "given", "worker-sections"),
    );
    assert_eq!(consent.status, 201, "{}", consent.body);
    let case = staff("worker-sections", &["case-worker"]).post_json(
        "/api/cases",
        &json!({"case_type": "general-enquiry", "subject": "Bins collected late", "contact_id": contact}),
    );
    assert_eq!(case.status, 201, "{}", case.body);
    let record = format!("/staff/contacts/{contact}");

    // A case worker reads everything and may do everything.
    let mut worker =
        StaffBrowser::sign_in("case-worker", "worker-sections", Some("case-management"));
    let page = worker.get(&record);
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "Relationships",
        "Lives in the same household as",
        household.as_str(),
        "Interactions",
        "Correct the record",
        "Record an interaction",
        "Send a message",
        &format!("href=\"{record}/consents\""),
        &format!("href=\"{record}/messages\""),
        &format!("href=\"{record}/cases\""),
    ] {
        assert!(page.has(shown), "{shown}");
    }
    let consents = worker.get(&format!("{record}/consents"));
    assert_eq!(consents.status, 200, "{}", consents.body);
    assert!(
        consents.has("newsletters") && consents.has(">given<"),
        "{}",
        consents.body
    );
    let cases = worker.get(&format!("{record}/cases"));
    assert!(cases.has("Bins collected late"), "{}", cases.body);
    assert!(cases.has(case.json()["reference"].as_str().unwrap()));
    let messages = worker.get(&format!("{record}/messages"));
    assert_eq!(messages.status, 200, "{}", messages.body);
    assert!(messages.has("No messages sent."));

    // A communications officer: no relationships (the API hides them), no
    // timeline, cases or corrections (their role reads and makes none), but
    // messages, and they record interactions.
    let mut comms = StaffBrowser::sign_in(
        "communications-officer",
        "comms-sections",
        Some("communications"),
    );
    let page = comms.get(&record);
    assert_eq!(page.status, 200, "{}", page.body);
    for hidden in [
        "Relationships",
        household.as_str(),
        "timeline-heading",
        "Correct the record",
        &format!("href=\"{record}/cases\""),
    ] {
        assert!(
            !page.has(hidden),
            "{hidden} shown to a communications officer"
        );
    }
    assert!(page.has("Send a message") && page.has("Record an interaction"));
    assert!(page.has(&format!("href=\"{record}/messages\"")));
    let refused = comms.get(&format!("{record}/cases"));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(comms.get(&format!("{record}/correct")).status, 403);

    // An intake officer sends no messages and reads none.
    let mut intake =
        StaffBrowser::sign_in("intake-officer", "intake-sections", Some("case-management"));
    let page = intake.get(&record);
    assert!(!page.has("Send a message"));
    assert!(!page.has(&format!("href=\"{record}/messages\"")));
    assert_eq!(intake.get(&format!("{record}/messages/new")).status, 403);
}

/// A new contact's details are checked against who we hold ("tell us
/// once"); a refused form comes back with what was typed, a duplicate is
/// used or overruled with a reason, and only the last step writes.
#[test]
fn a_new_contact_is_checked_for_duplicates_before_it_is_made() {
    let existing = person("Ingrid", "Intaker", "ingrid.intaker@example.org", 521);
    let mut officer =
        StaffBrowser::sign_in("intake-officer", "intake-new", Some("service-delivery"));
    let search = officer.get("/staff/search");
    assert!(search.has("Add a new contact"));
    let form = officer.get("/staff/contacts/new");
    assert_eq!(form.status, 200, "{}", form.body);

    // The API's refusals, in the error summary and by each box, with what
    // was typed kept.
    let refused = officer.post(
        "/staff/contacts/new",
        &[
            ("archetype", "individual"),
            ("family_name", "Newcomb <b>"),
            ("emails", "not an email"),
            ("birth-day", "31"),
            ("birth-month", "2"),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.errors(),
        ["Date of birth must include a day, month and year"]
    );
    let refused = officer.post(
        "/staff/contacts/new",
        &[
            ("archetype", "individual"),
            ("family_name", "Newcomb <b>"),
            ("emails", "not an email"),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.error_fields(),
        ["family_name", "emails"],
        "{:?}",
        refused.errors()
    );
    assert!(refused.errors()[0].starts_with("Family name must not contain '<'"));
    assert!(
        refused.errors()[1].starts_with("Email address 1 "),
        "{:?}",
        refused.errors()
    );
    assert_eq!(refused.input("family_name").as_deref(), Some("Newcomb <b>"));
    assert_eq!(refused.textarea("emails").as_deref(), Some("not an email"));
    assert!(!refused.has("Newcomb <b>"), "typed text is escaped");

    // Someone with the same email: the possible duplicate, with the
    // API's reasons.
    let sent = officer.post(
        "/staff/contacts/new",
        &[
            ("archetype", "individual"),
            ("given_name", "Ingrid"),
            ("family_name", "Intaker"),
            ("emails", "ingrid.intaker@example.org"),
            ("given_by", "phone"),
        ],
    );
    assert_eq!(sent.redirected(), "/staff/contacts/new/duplicates");
    let duplicates = officer.get("/staff/contacts/new/duplicates");
    assert_eq!(duplicates.status, 200, "{}", duplicates.body);
    assert!(duplicates.has("Same email address"), "{}", duplicates.body);
    assert!(duplicates.has(&existing));
    assert!(duplicates.has("Certain: they share an identifier"));
    // Only a record shown may be used; a reason is needed to make another.
    let stranger = officer.post(
        "/staff/contacts/new/use",
        &[("contact_id", "con_not_shown")],
    );
    assert_eq!(stranger.status, 400, "{}", stranger.body);
    let reasonless = officer.post("/staff/contacts/new/duplicates", &[("reason", "  ")]);
    assert_eq!(reasonless.status, 400);
    assert_eq!(reasonless.errors(), ["Say why this is someone else"]);
    // Nothing was made meanwhile.
    let found = staff("intake-new", &["intake-officer"])
        .get("/api/contacts?email=ingrid.intaker@example.org");
    assert_eq!(found.json()["items"].as_array().unwrap().len(), 1);

    // Made after all, with the reason kept in its history.
    let reasoned = officer.post(
        "/staff/contacts/new/duplicates",
        &[("reason", "Her daughter, who shares her email address")],
    );
    assert_eq!(reasoned.redirected(), "/staff/contacts/new/check");
    let check = officer.get("/staff/contacts/new/check");
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(check.has("Her daughter, who shares her email address"));
    assert!(check.has("ingrid.intaker@example.org"));
    assert!(check.has("By phone"));
    let made = officer.post("/staff/contacts/new/check", &[]);
    let location = made.redirected();
    let id = location.trim_start_matches("/staff/contacts/").to_string();
    assert_ne!(id, existing);
    let shown = officer.get(&location);
    assert!(shown.has("The contact was added"), "{}", shown.body);
    let history = staff("intake-new", &["intake-officer"])
        .get(&format!("/api/contacts/{id}/history"))
        .json();
    let reason = history["versions"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("Her daughter, who shares her email address"),
        "{history}"
    );
    // The draft is gone: the check page sends the officer back to start.
    let again = officer.get("/staff/contacts/new/check");
    assert_eq!(again.redirected(), "/staff/contacts/new");

    // Using an existing record makes nothing.
    officer.get("/staff/contacts/new");
    let sent = officer.post(
        "/staff/contacts/new",
        &[
            ("archetype", "individual"),
            ("family_name", "Intaker"),
            ("emails", "ingrid.intaker@example.org"),
        ],
    );
    assert_eq!(sent.redirected(), "/staff/contacts/new/duplicates");
    officer.get("/staff/contacts/new/duplicates");
    let used = officer.post(
        "/staff/contacts/new/use",
        &[("contact_id", existing.as_str())],
    );
    assert_eq!(used.redirected(), format!("/staff/contacts/{existing}"));
    let found = staff("intake-new", &["intake-officer"])
        .get("/api/contacts?email=ingrid.intaker@example.org");
    assert_eq!(found.json()["items"].as_array().unwrap().len(), 2);

    // A role that may not add contacts is not offered it.
    let mut comms = StaffBrowser::sign_in(
        "communications-officer",
        "comms-new",
        Some("communications"),
    );
    assert!(!comms.get("/staff/search").has("Add a new contact"));
    assert_eq!(comms.get("/staff/contacts/new").status, 403);
}

/// A correction is sent with the version it was made on; when someone
/// else changed the record meanwhile, the conflict is a page that keeps
/// what the officer typed.
#[test]
fn a_correction_made_on_an_old_version_comes_back_as_a_conflict_page() {
    let contact = person("Connie", "Conflict", "connie.conflict@example.org", 531);
    let mut officer =
        StaffBrowser::sign_in("case-worker", "worker-correct", Some("case-management"));
    let path = format!("/staff/contacts/{contact}/correct");
    let form = officer.get(&path);
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(form.input("family_name").as_deref(), Some("Conflict"));
    assert_eq!(form.input("version").as_deref(), Some("1"));

    // Nothing changed, or a change the API refuses: the form again.
    let unchanged = officer.post(
        &path,
        &[
            ("version", "1"),
            ("etag", "\"v1\""),
            ("archetype", "individual"),
            ("given_name", "Connie"),
            ("family_name", "Conflict"),
            ("emails", "connie.conflict@example.org"),
            ("phones", "+61412345531"),
            ("reason", "No change"),
        ],
    );
    assert_eq!(unchanged.status, 400, "{}", unchanged.body);
    assert_eq!(unchanged.errors(), ["You have not changed any details"]);
    let reasonless = officer.post(
        &path,
        &[
            ("version", "1"),
            ("etag", "\"v1\""),
            ("archetype", "individual"),
            ("given_name", "Connie"),
            ("family_name", "Conflicted"),
            ("emails", "connie.conflict@example.org"),
            ("phones", "+61412345531"),
            ("reason", ""),
        ],
    );
    assert_eq!(reasonless.status, 400, "{}", reasonless.body);
    assert_eq!(
        reasonless.error_fields(),
        ["reason"],
        "{:?}",
        reasonless.errors()
    );
    assert_eq!(
        reasonless.input("family_name").as_deref(),
        Some("Conflicted")
    );

    // Someone else corrects it first.
    let api = || staff("intake-correct", &["intake-officer"]);
    let first = api().header("if-match", "\"v1\"").request(
        "PATCH",
        &format!("/api/contacts/{contact}"),
        Some(&json!({"changes": {"given_name": "Constance"}, "reason": "Her full name"})),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let stale = officer.post(
        &path,
        &[
            ("version", "1"),
            ("etag", "\"v1\""),
            ("archetype", "individual"),
            ("given_name", "Connie"),
            ("family_name", "Conflicted"),
            ("emails", "connie.conflict@example.org"),
            ("phones", "+61412345531"),
            ("reason", "Spelled wrongly"),
        ],
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.has("Someone changed this record while you were correcting it"));
    let meanwhile = stale
        .body
        .split("changed-meanwhile")
        .nth(1)
        .and_then(|table| table.split("</table>").next())
        .unwrap_or_default();
    assert!(meanwhile.contains("Given names"), "{meanwhile}");
    assert!(meanwhile.contains("Constance"), "{meanwhile}");
    assert!(!meanwhile.contains("Family name"), "{meanwhile}");
    assert!(stale.has("Her full name"));
    assert!(stale.has("staff:intake-correct"));
    // What they typed is kept, on top of the version now current.
    assert_eq!(stale.input("family_name").as_deref(), Some("Conflicted"));
    assert_eq!(stale.textarea("reason").as_deref(), Some("Spelled wrongly"));
    assert_eq!(stale.input("version").as_deref(), Some("2"));
    assert_eq!(
        api().get(&format!("/api/contacts/{contact}")).json()["family_name"],
        "Conflict",
        "nothing of theirs was written"
    );

    // Sent again on top of version 2: their change only (the given name
    // they saw is not written back over Constance).
    let again = officer.post(
        &path,
        &[
            ("version", "2"),
            ("etag", "\"v2\""),
            ("archetype", "individual"),
            ("given_name", "Constance"),
            ("family_name", "Conflicted"),
            ("emails", "connie.conflict@example.org"),
            ("phones", "+61412345531"),
            ("reason", "Spelled wrongly"),
        ],
    );
    let location = again.redirected();
    assert!(officer.get(&location).has("it is now version 3"));
    let now = api().get(&format!("/api/contacts/{contact}")).json();
    assert_eq!(now["given_name"], "Constance");
    assert_eq!(now["family_name"], "Conflicted");
}

/// The correction form takes every field of a contact the officer may
/// see: identifiers, the residential address, the preferred language,
/// accessibility needs and tags. Each refused value is named in the error
/// summary and by its box, with what was typed kept and nothing written;
/// a change made meanwhile to one of them is a conflict page.
#[test]
fn every_field_of_a_contact_is_corrected_from_the_console() {
    let contact = person("Fiona", "Fields", "fiona.fields@example.org", 601);
    let api = || staff("intake-fields", &["intake-officer"]);
    let read = || api().get(&format!("/api/contacts/{contact}")).json();
    let mut officer =
        StaffBrowser::sign_in("case-worker", "worker-fields", Some("case-management"));
    let path = format!("/staff/contacts/{contact}/correct");
    let form = officer.get(&path);
    assert_eq!(form.status, 200, "{}", form.body);
    for name in [
        "identifiers",
        "residential_address_line_1",
        "residential_postcode",
        "residential_country",
        "language",
        "accessibility",
        "interpreter",
        "accessibility_other",
        "tags",
    ] {
        assert!(form.has(&format!("name=\"{name}\"")), "no {name} box");
    }
    let kept = [
        ("archetype", "individual"),
        ("given_name", "Fiona"),
        ("family_name", "Fields"),
        ("emails", "fiona.fields@example.org"),
        ("phones", "+61412345601"),
    ];
    let post = |officer: &mut StaffBrowser, version: &str, extra: &[(&str, &str)]| {
        let etag = format!("\"v{version}\"");
        let mut fields = vec![("version", version), ("etag", etag.as_str())];
        fields.extend(kept);
        fields.extend(extra);
        officer.post(&path, &fields)
    };

    // An identifier the form cannot read: refused before the API is asked.
    let unreadable = post(
        &mut officer,
        "1",
        &[("identifiers", "51 824 753 556"), ("reason", "ABN given")],
    );
    assert_eq!(unreadable.status, 400, "{}", unreadable.body);
    assert_eq!(unreadable.error_fields(), ["identifiers"]);
    assert_eq!(
        unreadable.textarea("identifiers").as_deref(),
        Some("51 824 753 556")
    );

    // Each new field refused by the API, all at once.
    let too_long = "x".repeat(501);
    let refused = post(
        &mut officer,
        "1",
        &[
            ("identifiers", "tfn: 123 456 782"),
            ("residential_address_line_1", "1 High St"),
            ("residential_locality", "Canberra"),
            ("residential_state", "ACT"),
            ("residential_postcode", "26"),
            ("language", "english"),
            ("accessibility", "large_print"),
            ("interpreter", "x"),
            ("accessibility_other", too_long.as_str()),
            ("tags", "needs help"),
            ("reason", "Told us by phone"),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let mut fields = refused.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "accessibility_other",
            "identifiers",
            "interpreter",
            "language",
            "residential_postcode",
            "tags"
        ],
        "{:?}",
        refused.errors()
    );
    let errors = refused.errors();
    for start in [
        "Identifier 1 tax file numbers must not be recorded",
        "Residential postcode ",
        "Preferred language must start with a 2- or 3-letter language code",
        "Interpreter language ",
        "Other accessibility needs ",
        "Tag 1 must contain only letters, digits and hyphens",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(start)),
            "{start}: {errors:?}"
        );
    }
    for id in fields {
        assert!(refused.has(&format!("id=\"{id}-error\"")), "{id} inline");
    }
    assert_eq!(
        refused.textarea("identifiers").as_deref(),
        Some("tfn: 123 456 782")
    );
    assert_eq!(refused.input("residential_postcode").as_deref(), Some("26"));
    assert_eq!(refused.input("language").as_deref(), Some("english"));
    assert_eq!(refused.textarea("tags").as_deref(), Some("needs help"));
    assert!(refused.has("value=\"large_print\" checked"));
    assert_eq!(read()["version"], 1, "nothing was written");

    // The new fields as the officer fills them in, with `other` needs.
    let every_field = |other: &'static str, reason: &'static str| {
        [
            ("identifiers", "abn: 51 824 753 556"),
            ("residential_address_line_1", "1 High St"),
            ("residential_locality", "Canberra"),
            ("residential_state", "ACT"),
            ("residential_postcode", "2600"),
            ("language", "vi"),
            ("accessibility", "large_print"),
            ("accessibility", "tty"),
            ("interpreter", "vi"),
            ("accessibility_other", other),
            ("tags", "carer\nrural"),
            ("given_by", "phone"),
            ("reason", reason),
        ]
    };
    // Accessibility needs are collected only where the API's consent
    // check allows them: not with no channel given (a counter, which
    // service delivery does not use); its refusal is shown by their boxes.
    let no_channel: Vec<(&str, &str)> = every_field("Calls after 10am", "Told us by phone")
        .into_iter()
        .filter(|(name, _)| *name != "given_by")
        .collect();
    let unconsented = post(&mut officer, "1", &no_channel);
    assert_eq!(unconsented.status, 400, "{}", unconsented.body);
    assert_eq!(unconsented.error_fields(), ["interpreter"]);
    assert!(
        unconsented.errors()[0].contains("needs the contact's consent"),
        "{:?}",
        unconsented.errors()
    );
    assert_eq!(read()["version"], 1, "nothing was written");

    // Every new field corrected in one version.
    let corrected = post(
        &mut officer,
        "1",
        &every_field("Calls after 10am", "Told us by phone"),
    );
    let location = corrected.redirected();
    assert!(officer.get(&location).has("it is now version 2"));
    let record = read();
    assert_eq!(
        record["identifiers"],
        json!([{"scheme": "abn", "value": "51824753556"}])
    );
    assert_eq!(record["residential_address"]["postcode"], "2600");
    assert_eq!(record["residential_address"]["lines"], json!(["1 High St"]));
    assert_eq!(record["language"], "vi");
    assert_eq!(
        record["accessibility_needs"],
        json!({"interpreter": "vi", "large_print": true, "tty": true, "auslan": false,
               "other": "Calls after 10am"})
    );
    assert_eq!(record["tags"], json!(["carer", "rural"]));
    assert_eq!(record["family_name"], "Fields", "the rest is kept");
    assert_eq!(record["phones"], json!(["+61412345601"]));

    // The form reads them back.
    let form = officer.get(&path);
    assert_eq!(
        form.textarea("identifiers").as_deref(),
        Some("abn: 51824753556")
    );
    assert_eq!(
        form.input("residential_locality").as_deref(),
        Some("Canberra")
    );
    assert!(form.has("value=\"tty\" checked") && !form.has("value=\"auslan\" checked"));
    assert_eq!(form.textarea("tags").as_deref(), Some("carer\nrural"));

    // Someone changes the tags and language meanwhile: a conflict page
    // naming them, the officer's own change kept and not written.
    let meanwhile = api().header("if-match", "\"v2\"").request(
        "PATCH",
        &format!("/api/contacts/{contact}"),
        Some(&json!({"changes": {"tags": ["carer"], "language": "en"}, "reason": "Moved on"})),
    );
    assert_eq!(meanwhile.status, 200, "{}", meanwhile.body);
    let stale = post(
        &mut officer,
        "2",
        &every_field("Calls after 11am", "Later calls"),
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    let changed = stale
        .body
        .split("changed-meanwhile")
        .nth(1)
        .and_then(|table| table.split("</table>").next())
        .unwrap_or_default();
    assert!(
        changed.contains("Tags") && changed.contains("Preferred language"),
        "{changed}"
    );
    assert!(!changed.contains("Accessibility needs"), "{changed}");
    assert_eq!(
        stale.input("accessibility_other").as_deref(),
        Some("Calls after 11am")
    );
    assert_eq!(stale.input("version").as_deref(), Some("3"));
    assert_eq!(
        read()["accessibility_needs"]["other"],
        "Calls after 10am",
        "nothing of theirs was written"
    );
}

/// An interaction is recorded once, however often its form is sent.
#[test]
fn an_interaction_is_recorded_once_and_a_refused_one_is_shown_again() {
    let contact = person("Ivan", "Interact", "ivan.interact@example.org", 541);
    let mut officer =
        StaffBrowser::sign_in("case-worker", "worker-interaction", Some("case-management"));
    let path = format!("/staff/contacts/{contact}/interactions/new");
    let form = officer.get(&path);
    assert_eq!(form.status, 200, "{}", form.body);
    let key = form.input("key").expect("the form's idempotency key");
    let refused = officer.post(
        &path,
        &[
            ("key", &key),
            ("channel", "phone"),
            ("direction", "inbound"),
            ("notes", "Rang about bins"),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let fields = refused.error_fields();
    assert!(fields.contains(&"category".to_string()), "{fields:?}");
    assert!(fields.contains(&"subject".to_string()), "{fields:?}");
    assert_eq!(
        refused.textarea("notes").as_deref(),
        Some("Rang about bins")
    );
    let fields = [
        ("key", key.as_str()),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("category", "enquiry"),
        ("subject", "Bins not collected"),
        ("notes", "Rang about bins"),
        ("outcome", "resolved"),
    ];
    let recorded = officer.post(&path, &fields);
    assert_eq!(recorded.redirected(), format!("/staff/contacts/{contact}"));
    // The same form sent again (a double click, a reload) records nothing more.
    officer.get(&path);
    let again = officer.post(&path, &fields);
    assert_eq!(again.status, 303, "{}", again.body);
    let timeline = staff("worker-interaction", &["case-worker"])
        .get(&format!("/api/interactions?contact_id={contact}"))
        .json();
    let subjects: Vec<&str> = timeline["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["Bins not collected"]);
    let record = officer.get(&format!("/staff/contacts/{contact}"));
    assert!(record.has("Bins not collected"));
}

/// A message: the template, its values (checked by rendering it), then
/// the message and the consent decision before anything is sent.
#[test]
fn a_message_shows_its_preview_and_consent_decision_before_it_is_sent() {
    let contact = person("Mona", "Messaged", "mona.messaged@example.org", 551);
    let comms_api = host()
        .as_caller(&token("comms-message", &["communications-officer"]))
        .purpose("communications");
    let template = comms_api.post_json(
        "/api/templates",
        &json!({"name": "Newsletter issue", "type": "portal", "subject": "Issue ((issue))",
                "body": "Hello, here is issue ((issue)).", "purpose": "newsletters"}),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template = template.json()["id"].as_str().unwrap().to_string();
    let mut comms = StaffBrowser::sign_in(
        "communications-officer",
        "comms-message",
        Some("communications"),
    );
    let base = format!("/staff/contacts/{contact}/messages/new");
    let choose = comms.get(&base);
    assert_eq!(choose.status, 200, "{}", choose.body);
    assert!(choose.has("Newsletter issue"));
    let unchosen = comms.post(&base, &[]);
    assert_eq!(unchosen.status, 400);
    assert_eq!(unchosen.errors(), ["Select the message to send"]);
    let chosen = comms.post(&base, &[("template_id", template.as_str())]);
    assert_eq!(chosen.redirected(), format!("{base}/personalise"));
    let form = comms.get(&format!("{base}/personalise"));
    assert!(form.has("name=\"personalisation-issue\""), "{}", form.body);
    let blank = comms.post(
        &format!("{base}/personalise"),
        &[("personalisation-issue", " ")],
    );
    assert_eq!(blank.status, 400);
    assert_eq!(blank.errors(), ["Enter issue"]);
    let filled = comms.post(
        &format!("{base}/personalise"),
        &[("personalisation-issue", "12")],
    );
    assert_eq!(filled.redirected(), format!("{base}/check"));

    // No consent to newsletters: the page says so, and offers no send.
    let check = comms.get(&format!("{base}/check"));
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(check.has("Issue 12") && check.has("Hello, here is issue 12."));
    assert!(check.has("This message cannot be sent"), "{}", check.body);
    assert!(check.has("They have not given consent to newsletters by portal message."));
    assert!(!check.has("Send the message"));
    // Sent anyway (an old page), the API refuses it and nothing is queued.
    let forced = comms.post(&format!("{base}/check"), &[]);
    assert_eq!(forced.status, 400, "{}", forced.body);
    assert_eq!(forced.error_fields(), ["consent-decision"]);
    let listed = comms_api.get(&format!("/api/notifications?contact_id={contact}"));
    assert_eq!(listed.json()["notifications"].as_array().unwrap().len(), 0);

    // With consent, it may be sent, once.
    let given = staff("worker-message", &["case-worker"]).post_json(
        "/api/consents",
        &decision(&contact, "newsletters", "portal", "given", "worker-message"),
    );
    assert_eq!(given.status, 201, "{}", given.body);
    let check = comms.get(&format!("{base}/check"));
    assert!(check.has("May be sent"), "{}", check.body);
    assert!(check.has("They have given consent to newsletters by portal message."));
    let sent = comms.post(&format!("{base}/check"), &[]);
    assert_eq!(
        sent.redirected(),
        format!("/staff/contacts/{contact}/messages")
    );
    let messages = comms.get(&format!("/staff/contacts/{contact}/messages"));
    assert!(messages.has("The message was sent"), "{}", messages.body);
    assert!(messages.has("Issue 12"));
    let listed = comms_api.get(&format!("/api/notifications?contact_id={contact}"));
    assert_eq!(listed.json()["notifications"].as_array().unwrap().len(), 1);
}

/// A case's page offers the statuses the officer may move it to, takes
/// activities and participants, and shows refusals in place; the queue
/// filters by status, priority, SLA state and assignee.
#[test]
fn a_case_is_worked_from_its_page_and_found_by_the_queues_filters() {
    let contact = person("Cass", "Caseworked", "cass.caseworked@example.org", 561);
    let queue = "web-filters-q";
    let made = admin().request(
        "PUT",
        &format!("/api/queues/{queue}"),
        Some(
            &json!({"name": "Filters queue", "ordering": ["priority", "fifo"],
                     "members": [{"officer": "staff:worker-case", "capacity": 10}]}),
        ),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let intake = staff("intake-case", &["intake-officer"]);
    let open = |subject: &str, priority: &str| {
        let reply = intake.post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": subject, "priority": priority,
                    "contact_id": contact, "queue_id": queue}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    };
    let urgent = open("Burst water main", "urgent");
    let low = open("Faded line marking", "low");
    let urgent_id = urgent["id"].as_str().unwrap();
    // The urgent one is long overdue: the sweep breaches it.
    app()
        .db()
        .execute(
            "UPDATE case_clocks SET started_at = started_at - ?2, last_change = last_change - ?2,
                 due_at = due_at - ?2, warn_at = warn_at - ?2 WHERE case_id = ?1",
            rusqlite::params![urgent_id, 366_i64 * 86_400_000],
        )
        .unwrap();
    let swept = admin().post_json("/api/cases/sla/sweep", &json!({}));
    assert_eq!(swept.status, 200, "{}", swept.body);

    let mut worker = StaffBrowser::sign_in("case-worker", "worker-case", Some("case-management"));
    let all = worker.get(&format!("/staff/queue?queue_id={queue}"));
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.has("Burst water main") && all.has("Faded line marking"));
    assert!(all.has(">Breached<"), "{}", all.body);
    assert!(all.has("Take the next case from this queue"));
    let breached = worker.get(&format!("/staff/queue?queue_id={queue}&sla_state=breached"));
    assert!(breached.has("Burst water main") && !breached.has("Faded line marking"));
    let low_only = worker.get(&format!(
        "/staff/queue?queue_id={queue}&priority=low&priority=normal"
    ));
    assert!(!low_only.has("Burst water main") && low_only.has("Faded line marking"));
    assert!(
        low_only.has("value=\"low\" checked"),
        "the filter stays chosen"
    );
    let nobody = worker.get(&format!(
        "/staff/queue?queue_id={queue}&assignee=staff:nobody"
    ));
    assert!(nobody.has("No cases match."));
    let bad = worker.get(&format!(
        "/staff/queue?queue_id={queue}&assignee=has%20space"
    ));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.error_fields(), ["assignee"]);

    // Taken from the queue: the most urgent, opened at once.
    worker.get(&format!("/staff/queue?queue_id={queue}"));
    let taken = worker.post("/staff/queue/take-next", &[("queue_id", queue)]);
    let case_path = format!("/staff/cases/{urgent_id}");
    assert_eq!(taken.redirected(), case_path);
    let page = worker.get(&case_path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has(&format!(
        "You took {}",
        urgent["reference"].as_str().unwrap()
    )));
    assert!(page.has("staff:worker-case"));
    assert!(page.has(">Breached<"));
    // Only the statuses the table allows are offered.
    assert!(page.has("value=\"in-progress\"") && !page.has("value=\"closed\""));

    // A status it may not go to (a forged form) is refused in place.
    let forged = worker.post(
        &format!("{case_path}/transition"),
        &[("to", "closed"), ("etag", "\"v2\"")],
    );
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert_eq!(forged.error_fields(), ["to"]);
    let etag = page.input("etag").unwrap();
    let moved = worker.post(
        &format!("{case_path}/transition"),
        &[("to", "in-progress"), ("etag", &etag)],
    );
    assert_eq!(moved.redirected(), case_path);
    // A second move from the page read before it is stale: refused.
    let stale = worker.post(
        &format!("{case_path}/transition"),
        &[("to", "awaiting-citizen"), ("etag", &etag)],
    );
    assert_eq!(stale.status, 400, "{}", stale.body);
    assert_eq!(stale.error_fields(), ["to"]);

    let blank = worker.post(
        &format!("{case_path}/activities"),
        &[("kind", "call"), ("subject", " "), ("body", "Called back")],
    );
    assert_eq!(blank.status, 400, "{}", blank.body);
    assert_eq!(blank.error_fields(), ["subject"]);
    assert_eq!(blank.textarea("body").as_deref(), Some("Called back"));
    let added = worker.post(
        &format!("{case_path}/activities"),
        &[
            ("kind", "call"),
            ("subject", "Called the resident"),
            ("body", "Crew on the way"),
            ("direction", "outbound"),
            ("citizen_visible", "yes"),
        ],
    );
    assert_eq!(added.redirected(), case_path);
    let participant = worker.post(
        &format!("{case_path}/participants"),
        &[
            ("party_kind", "contact"),
            ("party_id", contact.as_str()),
            ("role", "nope-role"),
        ],
    );
    assert_eq!(participant.status, 400, "{}", participant.body);
    let page = worker.get(&case_path);
    assert!(page.has("Called the resident") && page.has("The citizen can see this."));
    let resolved = worker.post(
        &format!("{case_path}/transition"),
        &[
            ("to", "resolved"),
            ("resolution_summary", "Main repaired"),
            ("etag", &page.input("etag").unwrap()),
        ],
    );
    assert_eq!(resolved.redirected(), case_path);
    let read = staff("worker-case", &["case-worker"])
        .get(&format!("/api/cases/{urgent_id}"))
        .json();
    assert_eq!(read["status"], "resolved");
    assert_eq!(read["resolution_summary"], "Main repaired");

    // An auditor reads the case and is offered none of its forms.
    let mut auditor = StaffBrowser::sign_in("auditor", "auditor-case", Some("audit"));
    let page = auditor.get(&format!("/staff/cases/{}", low["id"].as_str().unwrap()));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has("Faded line marking"));
    for form in ["/transition", "/activities", "/participants", "take-next"] {
        assert!(!page.has(form), "{form} offered to an auditor");
    }
    let all = auditor.get(&format!("/staff/queue?queue_id={queue}"));
    assert!(!all.has("Take the next case"));
}
