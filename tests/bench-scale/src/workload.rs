//! What the clients send: new people (intake), audited reads of generated
//! contacts and interaction appends onto them, as one staff member.

use crm_bench_contacts::{generate, people};
use crm_tests::load::Call;
use serde_json::{Value, json};

/// The kinds of request in the mixed workload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Intake,
    Read,
    Append,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Intake, Kind::Read, Kind::Append];

    /// Request `n` of a mixed run: of every ten, two intakes, six reads and
    /// two appends.
    pub fn of(n: u64) -> Self {
        match n % 10 {
            0 | 1 => Kind::Intake,
            2..=7 => Kind::Read,
            _ => Kind::Append,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Intake => "intake `POST /api/contacts`",
            Kind::Read => "read `GET /api/contacts/{id}`",
            Kind::Append => "append `POST /api/interactions`",
        }
    }
}

/// New person `n` of the series `series`: a name from `people`'s lists and
/// an email address no one else has. No date of birth nor address, so
/// matching finds a candidate only by that address: every series-`n` pair
/// is a different person, and the same pair sent twice is a duplicate.
pub fn newcomer(series: u64, n: u64) -> Value {
    let mut rng = people::Rng::new(series.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ n);
    let given = people::GIVEN[rng.skewed(people::GIVEN.len())];
    let family = people::family_name(&mut rng);
    let local = format!(
        "{}.{}.{series}.{n}",
        given.to_lowercase(),
        family.to_lowercase().replace('\'', "")
    );
    json!({
        "archetype": "individual",
        "given_name": given,
        "family_name": family,
        "emails": [format!("{local}@scale.example")],
    })
}

/// The headers of an intake officer who also works cases, stating their
/// purpose of use (reads need one).
pub fn staff(token: &str) -> Vec<(String, String)> {
    vec![
        ("authorization".into(), format!("Bearer {token}")),
        ("purpose-of-use".into(), "case-management".into()),
    ]
}

/// An intake of `newcomer(series, n)`.
pub fn intake(headers: &[(String, String)], series: u64, n: u64) -> Call {
    Call {
        method: "POST",
        path: "/api/contacts".into(),
        body: Some(newcomer(series, n).to_string()),
        headers: headers.to_vec(),
    }
}

/// Request `n` of the mixed workload over `contacts` generated contacts;
/// its intakes are of the series `series`.
pub fn mixed(headers: &[(String, String)], contacts: u64, series: u64, n: u64) -> Call {
    match Kind::of(n) {
        Kind::Intake => intake(headers, series, n),
        Kind::Read => Call {
            method: "GET",
            path: format!(
                "/api/contacts/{}",
                generate::id(n.wrapping_mul(7_919) % contacts)
            ),
            body: None,
            headers: headers.to_vec(),
        },
        Kind::Append => Call {
            method: "POST",
            path: "/api/interactions".into(),
            body: Some(
                json!({
                    "contact_id": generate::id(n.wrapping_mul(104_729) % contacts),
                    "channel": "phone", "direction": "inbound", "category": "enquiry",
                    "occurred_at": "2026-05-01T10:00:00Z", "subject": format!("Call {n}"),
                })
                .to_string(),
            ),
            headers: headers.to_vec(),
        },
    }
}
