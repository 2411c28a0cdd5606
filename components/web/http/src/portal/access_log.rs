//! Who looked at my record (`/who-looked`): the citizen's own access log
//! through the audit API with their own token, a page at a time.

use web_pages::citizen::access_log::{self as view, WhoLookedPage};
use web_pages::{Errors, render};

use crate::session::Audience;
use crate::visit::{Handled, Visit, html};

/// Entries a page shows.
const PAGE_SIZE: u32 = 25;

/// `GET /who-looked[?after=N]`: the page of uses after sequence `N` (the
/// first page when it is missing or not a number).
pub fn page(visit: &mut Visit) -> Handled {
    let after = visit
        .query("after")
        .and_then(|a| a.parse::<u64>().ok())
        .filter(|a| *a > 0);
    let path = match after {
        Some(after) => format!("/api/audit/me?limit={PAGE_SIZE}&after={after}"),
        None => format!("/api/audit/me?limit={PAGE_SIZE}"),
    };
    let log = visit.api(Audience::Citizen)?.get(&path)?;
    let page = WhoLookedPage {
        chrome: visit.chrome("/who-looked"),
        errors: Errors::default(),
        accesses: view::accesses(&log),
        first_href: after.map(|_| "/who-looked".to_string()),
        next_href: view::next_after(&log).map(|n| format!("/who-looked?after={n}")),
    };
    Ok(html(200, &render(&page)))
}
