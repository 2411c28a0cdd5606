//! The auditor's trail and chain verification, and the reports drawn as
//! charts with their data tables, over plain HTTP: each page, its
//! refusals, and that a page shows what the API answered, no more.

use crm_tests::app::App;
use crm_tests::auth::token;
use crm_tests::json;

use crate::staff_client::StaffBrowser;
use crate::{host, person};

/// The console's navigation and start page follow the roles.
#[test]
fn the_console_offers_each_role_the_pages_it_can_use() {
    let mut auditor = StaffBrowser::sign_in("auditor", "auditor-nav", Some("audit"));
    let start = auditor.get("/staff/");
    assert_eq!(start.redirected(), "/staff/queue", "auditors search no one");
    let queue = auditor.get("/staff/queue");
    for (href, shown) in [
        ("/staff/search", false),
        ("/staff/queue", true),
        ("/staff/reports", true),
        ("/staff/audit", true),
    ] {
        assert_eq!(queue.has(&format!("href=\"{href}\"")), shown, "{href}");
    }
    let mut comms = StaffBrowser::sign_in(
        "communications-officer",
        "comms-nav",
        Some("communications"),
    );
    let search = comms.get("/staff/search");
    assert!(!search.has("href=\"/staff/queue\"") && !search.has("href=\"/staff/audit\""));
    assert!(search.has("href=\"/staff/reports\""));
    assert_eq!(comms.get("/staff/audit").status, 403);
    let reports = comms.get("/staff/reports");
    assert_eq!(reports.status, 200, "{}", reports.body);
    assert!(reports.has("Interactions over time"));
    assert!(
        !reports.has("Service levels by queue"),
        "comms read no SLA clocks"
    );
}

/// The trail, filtered and paged, shows the API's entries; bad dates are
/// refused in place; the chain's verdict is the API's.
#[test]
fn an_auditor_filters_the_trail_and_verifies_the_chain() {
    let contact = person("Audrey", "Audited", "audrey.audited@example.org", 371);
    let reader = host()
        .as_caller(&token("reader-audit", &["case-worker"]))
        .purpose("case-management");
    for _ in 0..3 {
        assert_eq!(reader.get(&format!("/api/contacts/{contact}")).status, 200);
    }
    let mut auditor = StaffBrowser::sign_in("auditor", "auditor-trail", Some("audit"));
    let filtered = auditor.get(&format!(
        "/staff/audit?actor=staff:reader-audit&action=contact.read&resource=contact/{contact}"
    ));
    assert_eq!(filtered.status, 200, "{}", filtered.body);
    assert_eq!(
        filtered.body.matches(">contact.read<").count(),
        3,
        "{}",
        filtered.body
    );
    assert!(filtered.has("case-management"));
    assert_eq!(
        filtered.input("actor").as_deref(),
        Some("staff:reader-audit")
    );
    assert!(filtered.has("Verify the chain"));
    let denied = auditor.get(&format!(
        "/staff/audit?actor=staff:reader-audit&resource=contact/{contact}&outcome=denied"
    ));
    assert!(denied.has("No entries match."));
    let bad = auditor.get("/staff/audit?since-day=31&since-month=2&since-year=2026");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.error_fields(), ["since-day"]);
    assert_eq!(
        bad.errors(),
        ["From date must be a real date, for example 27 3 2026"]
    );
    assert_eq!(bad.input("since-day").as_deref(), Some("31"));
    let verdict = auditor.get("/staff/audit/verify");
    assert_eq!(verdict.status, 200, "{}", verdict.body);
    let api = host()
        .as_caller(&token("auditor-trail", &["auditor"]))
        .purpose("audit")
        .get("/api/audit/verify")
        .json();
    assert_eq!(api["valid"], true, "{api}");
    assert!(verdict.has("The chain is intact"));

    // Others do not read the trail.
    let mut worker = StaffBrowser::sign_in("case-worker", "worker-trail", Some("case-management"));
    assert_eq!(worker.get("/staff/audit").status, 403);
    assert_eq!(worker.get("/staff/audit/verify").status, 403);
}

/// On a host of its own, so that no other test's interactions move the
/// counts between the page and the API: the table under each chart is the
/// API's table, suppressed cells and all, and the chart draws only the
/// counts shown.
#[test]
fn reports_draw_the_apis_counts_and_suppress_what_it_suppresses() {
    let app = App::start(&[]);
    let host = &app.host;
    let intake = host
        .as_caller(&token("intake-reports", &["intake-officer"]))
        .purpose("service-delivery");
    let made = intake.post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Rita Reported"}),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let contact = made.json()["id"].as_str().unwrap().to_string();
    for (channel, times) in [("phone", 7), ("email", 2)] {
        for n in 0..times {
            let logged = intake.post_json(
                "/api/interactions",
                &json!({"contact_id": contact, "channel": channel, "direction": "inbound",
                        "category": "enquiry", "subject": format!("Call {n}")}),
            );
            assert_eq!(logged.status, 201, "{}", logged.body);
        }
    }
    let mut worker = StaffBrowser::sign_in_at(
        host,
        "case-worker",
        "worker-reports",
        Some("case-management"),
    );
    let page = worker.get("/staff/reports?granularity=day&by=channel");
    assert_eq!(page.status, 200, "{}", page.body);
    // The API's table for the same fortnight, asked for now.
    let now = crm_tests::consent::now_ms();
    let from = crm_domain::rfc3339_utc(now - 14 * 86_400_000);
    let to = crm_domain::rfc3339_utc(now);
    let stats = host
        .as_caller(&token("worker-reports", &["case-worker"]))
        .get(&format!(
            "/api/interactions/stats?from={from}&to={to}&granularity=day&by=channel"
        ))
        .json();
    let shown = |cell: &serde_json::Value| {
        if cell["suppressed"] == true {
            "suppressed".to_string()
        } else {
            cell["count"].to_string()
        }
    };
    let table = page
        .body
        .split_once("Interactions over time: the chart")
        .and_then(|(_, t)| t.split("</table>").next())
        .expect("the trends table");
    let mut any_suppressed = false;
    for row in stats["rows"].as_array().unwrap() {
        let label = row["label"].as_str().unwrap();
        let mut cells: Vec<String> = row["cells"].as_array().unwrap().iter().map(shown).collect();
        cells.push(shown(&row["total"]));
        any_suppressed |= cells.iter().any(|c| c == "suppressed");
        assert_eq!(table_row(table, label), cells, "{label}");
        // Each count shown is a dot of the chart; a suppressed one is not.
        for (cell, column) in row["cells"]
            .as_array()
            .unwrap()
            .iter()
            .zip(stats["columns"].as_array().unwrap())
        {
            let dot = format!("<title>{label}, {}: ", column.as_str().unwrap());
            assert_eq!(page.has(&dot), cell["suppressed"] != true, "{dot}");
        }
    }
    assert!(
        any_suppressed,
        "two emails are fewer than the smallest cell: {stats}"
    );
    assert!(page.has("are suppressed, with enough others"));
    // Nothing is shown that the API suppressed: the two emails are nowhere.
    assert!(!table.contains(">2<"), "{table}");

    // The SLA summary's table is the API's: one case, two running clocks.
    let opened = host
        .as_caller(&token("intake-reports", &["intake-officer"]))
        .purpose("case-management")
        .post_json(
            "/api/cases",
            &json!({"case_type": "general-enquiry", "subject": "Reported", "contact_id": contact}),
        );
    assert_eq!(opened.status, 201, "{}", opened.body);
    let page = worker.get("/staff/reports");
    let sla = page
        .body
        .split_once("SLA clocks by queue and state: the chart")
        .and_then(|(_, t)| t.split("</table>").next())
        .expect("the SLA table");
    assert_eq!(
        table_row(sla, "No queue"),
        ["0", "0", "2", "0", "0", "0", "2"]
    );
    assert!(page.has("No queue: 2 on track</title>"));
}

/// The cells of the row labelled `label` in a table's HTML.
fn table_row(table: &str, label: &str) -> Vec<String> {
    let row = table
        .split(&format!(">{label}</th>"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row {label} in {table}"));
    row.split("</td>")
        .filter_map(|cell| cell.rsplit('>').next())
        .filter(|text| !text.trim().is_empty())
        .map(str::to_string)
        .collect()
}
