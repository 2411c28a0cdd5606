//! Synthetic contacts with realistic shape: names drawn with a skew (a few
//! common names, a long tail), so that matching blocks range from empty to
//! crowded; dates of birth over 75 years; most with an email, a mobile and
//! a postal address; some tags; one in twenty a business with a valid ABN.
//! Person `i` is the same on every run.

use serde_json::{Value, json};

/// SplitMix64: small, fast, and good enough to spread synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Skewed towards the start of a list of `n` (roughly Zipf).
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

pub const GIVEN: [&str; 60] = [
    "Oliver",
    "Charlotte",
    "Jack",
    "Olivia",
    "William",
    "Amelia",
    "Noah",
    "Isla",
    "Thomas",
    "Mia",
    "James",
    "Ava",
    "Lucas",
    "Grace",
    "Henry",
    "Chloe",
    "Ethan",
    "Zoe",
    "Liam",
    "Sophie",
    "Mason",
    "Ruby",
    "Leo",
    "Emily",
    "Samuel",
    "Harper",
    "Alexander",
    "Matilda",
    "Joshua",
    "Ella",
    "Daniel",
    "Lily",
    "Benjamin",
    "Sienna",
    "Max",
    "Evie",
    "Harrison",
    "Hannah",
    "Lachlan",
    "Willow",
    "Mohammed",
    "Aisha",
    "Wei",
    "Mei",
    "Minh",
    "Linh",
    "Raj",
    "Priya",
    "Aroha",
    "Tane",
    "Giuseppe",
    "Maria",
    "Dimitri",
    "Eleni",
    "Sean",
    "Siobhan",
    "Jose",
    "Lucia",
    "Kai",
    "Anh",
];

pub const FAMILY: [&str; 60] = [
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Johnson",
    "White",
    "Martin",
    "Anderson",
    "Thompson",
    "Nguyen",
    "Thomas",
    "Walker",
    "Harris",
    "Lee",
    "Ryan",
    "Robinson",
    "Kelly",
    "King",
    "Davis",
    "Wright",
    "Evans",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mitchell",
    "Tran",
    "Scott",
    "O'Brien",
    "Campbell",
    "Young",
    "Allen",
    "Murphy",
    "Edwards",
    "Baker",
    "Hughes",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Papadopoulos",
    "Rossi",
    "Russo",
    "Kowalski",
    "Murray",
    "Stewart",
    "Morris",
    "Turner",
    "Cooper",
    "Pham",
];

const SYLLABLES: [&str; 20] = [
    "ka", "lo", "mi", "ne", "ra", "to", "vi", "sa", "de", "ri", "mo", "an", "el", "or", "us", "in",
    "ba", "ho", "ju", "we",
];

/// (locality, state, postcode)
pub const PLACES: [(&str, &str, &str); 24] = [
    ("Canberra", "ACT", "2600"),
    ("Belconnen", "ACT", "2617"),
    ("Tuggeranong", "ACT", "2900"),
    ("Sydney", "NSW", "2000"),
    ("Parramatta", "NSW", "2150"),
    ("Newcastle", "NSW", "2300"),
    ("Wollongong", "NSW", "2500"),
    ("Queanbeyan", "NSW", "2620"),
    ("Melbourne", "VIC", "3000"),
    ("Geelong", "VIC", "3220"),
    ("Ballarat", "VIC", "3350"),
    ("Bendigo", "VIC", "3550"),
    ("Brisbane", "QLD", "4000"),
    ("Townsville", "QLD", "4810"),
    ("Cairns", "QLD", "4870"),
    ("Adelaide", "SA", "5000"),
    ("Mount Gambier", "SA", "5290"),
    ("Perth", "WA", "6000"),
    ("Fremantle", "WA", "6160"),
    ("Bunbury", "WA", "6230"),
    ("Hobart", "TAS", "7000"),
    ("Launceston", "TAS", "7250"),
    ("Darwin", "NT", "0800"),
    ("Alice Springs", "NT", "0870"),
];

const TAGS: [&str; 8] = [
    "housing-support",
    "aged-care",
    "carer",
    "veteran",
    "student",
    "small-business",
    "disaster-recovery",
    "priority",
];

const DOMAINS: [&str; 6] = [
    "example.com",
    "mail.example.net",
    "example.org",
    "post.example.com.au",
    "inbox.example",
    "example.gov.au",
];

/// A family name: a common one (skewed), or from a long synthetic tail.
pub fn family_name(rng: &mut Rng) -> String {
    if rng.chance(60) {
        return FAMILY[rng.skewed(FAMILY.len())].to_string();
    }
    let parts = 2 + rng.below(2);
    let mut name: String = (0..parts)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    if rng.chance(50) {
        name.push_str(["son", "ton", "ley", "ford", "er", "ez"][rng.below(6)]);
    }
    let mut chars = name.chars();
    let first = chars.next().expect("non-empty").to_ascii_uppercase();
    format!("{first}{}", chars.as_str())
}

/// Where a seed's phone numbers start: the generated contacts (seed 1)
/// take the first million, other seeds a pseudo-random stretch after it.
fn phone_base(seed: u64) -> u64 {
    match seed {
        1 => 0,
        _ => 1_000_000 + Rng::new(seed).next_u64() % 98_000_000,
    }
}

/// A valid ABN with body `n` (two check digits chosen to pass the ATO rule).
fn abn(n: u64) -> String {
    let body = format!("{:09}", n % 1_000_000_000);
    (10..100)
        .map(|check| format!("{check}{body}"))
        .find(|candidate| crm_domain::Abn::parse(candidate).is_ok())
        .expect("one check pair fits")
}

/// Contact `i` of the run seeded with `seed`, as an intake body.
pub fn contact(seed: u64, i: u64) -> Value {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let place = PLACES[rng.skewed(PLACES.len())];
    let address = json!({
        "lines": [format!("{} {} St", 1 + rng.below(300), FAMILY[rng.below(FAMILY.len())].replace('\'', ""))],
        "locality": place.0, "state": place.1, "postcode": place.2
    });
    let domain = DOMAINS[rng.below(DOMAINS.len())];
    if rng.chance(5) {
        let name = format!(
            "{} {}",
            family_name(&mut rng),
            [
                "Pty Ltd",
                "Holdings",
                "Services",
                "Consulting",
                "Trading Co"
            ][rng.below(5)]
        );
        return json!({
            "archetype": "business",
            "organisation_name": name,
            "emails": [format!("accounts.{seed}.{i}@{domain}")],
            "postal_address": address,
            "identifiers": [{"scheme": "abn", "value": abn(seed.wrapping_mul(1_000_003) ^ i)}],
            "tags": ["small-business"],
        });
    }
    let given = GIVEN[rng.skewed(GIVEN.len())];
    let family = family_name(&mut rng);
    let mut body = json!({
        "archetype": "individual",
        "given_name": given,
        "family_name": family,
        "date_of_birth": format!("{}-{:02}-{:02}", 1935 + rng.below(75), 1 + rng.below(12), 1 + rng.below(28)),
    });
    if rng.chance(70) {
        let local = format!(
            "{}.{}.{seed}.{i}",
            given.to_lowercase(),
            family.to_lowercase().replace('\'', "")
        );
        body["emails"] = json!([format!("{local}@{domain}")]);
    }
    if rng.chance(60) {
        body["phones"] = json!([format!("04{:08}", (phone_base(seed) + i) % 100_000_000)]);
    }
    if rng.chance(80) {
        body["postal_address"] = address;
    }
    if rng.chance(20) {
        body["tags"] = json!([TAGS[rng.below(TAGS.len())]]);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_valid_and_repeatable() {
        let today = crm_domain::CalendarDate::parse("2026-11-24").unwrap();
        for i in 0..2000 {
            let body = contact(1, i);
            assert_eq!(body, contact(1, i));
            let fields = serde_json::from_value(body.clone()).unwrap();
            contacts_rules::validate(&fields, today).unwrap_or_else(|e| panic!("{body}: {e}"));
        }
    }
}
