//! Writes a store straight into a SQLite file, natively, through the app's
//! own code: the schema from `crm-migrations`, every entry validated and
//! sealed onto its contact's chain by `interactions-rules`, and written by
//! `interactions-store`'s row functions, so the host later reads exactly
//! what it would have written itself.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use crm_domain::rfc3339_utc;
use interactions_rules::values::{ContactId, EntryId, OfficerId};
use interactions_rules::{ChainTip, EntryBody, NewInteraction, RawInteraction};
use interactions_store::{create_chain, insert_entry, insert_timeline_row, set_tip};

/// The contact the benchmark appends to and pages through.
pub const BIG_CONTACT: &str = "con_benchmark_big";

/// What to generate.
pub struct Plan {
    pub total: u64,
    pub big: u64,
    pub per_contact: u64,
}

/// splitmix64: fast, deterministic, good enough to spread test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// 32 hex digits, as `new_id` makes them.
    fn hex_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{:016x}{:016x}", self.next(), self.next())
    }
}

const CHANNELS: &[&str] = &[
    "phone",
    "phone",
    "phone",
    "email",
    "email",
    "portal",
    "portal",
    "counter",
    "sms",
    "letter",
    "video",
    "social",
    "field-visit",
];
const CATEGORIES: &[&str] = &[
    "enquiry",
    "enquiry",
    "enquiry",
    "payment",
    "change-of-circumstances",
    "complaint",
    "hardship",
    "appointment",
    "notification",
];
const OUTCOMES: &[&str] = &[
    "resolved",
    "information-provided",
    "referred",
    "follow-up-required",
];
const TAGS: &[&str] = &[
    "rent",
    "arrears",
    "urgent",
    "interpreter",
    "carer",
    "online",
];
const SUBJECTS: &[&str] = &[
    "Asked about a payment date",
    "Updated a postal address",
    "Follow-up on a document request",
    "Complaint about wait times",
    "Appointment rescheduled",
    "Status update sent",
];
const NOTES: &[&str] = &[
    "Caller confirmed identity. Explained the next steps and the expected timeframe.",
    "Advised to upload the remaining documents through the portal.",
];

/// 2016-01-01T00:00:00Z and 2026-11-01T00:00:00Z: when the entries were recorded.
const FIRST_MS: i64 = 1_451_606_400_000;
const LAST_MS: i64 = 1_793_491_200_000;
const DAY_MS: i64 = 86_400_000;

/// Entries committed per transaction.
const BATCH: u64 = 50_000;

pub fn generate(db_file: &Path, plan: &Plan) -> Result<()> {
    if db_file.exists() {
        bail!(
            "{} exists; remove it (and its -wal/-shm) to generate again",
            db_file.display()
        );
    }
    if let Some(dir) = db_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let db = rusqlite::Connection::open(db_file)?;
    // A generator that fails is run again: no journal, no syncing.
    db.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -3000000; PRAGMA temp_store = MEMORY;",
    )?;
    crm_migrations::migrate(&db).map_err(|e| anyhow::anyhow!("{e}"))?;

    let started = Instant::now();
    let mut rng = Rng(0x5eed);
    let mut written = 0u64;
    let mut key = 0i64;
    db.execute_batch("BEGIN")?;
    while written < plan.total {
        key += 1;
        let (contact, count) = if key == 1 {
            (BIG_CONTACT.to_string(), plan.big)
        } else {
            (
                rng.hex_id("con"),
                plan.per_contact.min(plan.total - written),
            )
        };
        let contact = create_chain(&db, key, &ContactId::parse(&contact).map_err(invalid)?)?;
        let mut tip = ChainTip::genesis(contact.id.clone());
        for i in 0..count {
            let recorded_at = FIRST_MS + (LAST_MS - FIRST_MS) / count as i64 * i as i64;
            let raw = interaction(&mut rng, &contact.id, recorded_at);
            let new = NewInteraction::parse(&raw, recorded_at).map_err(|errors| {
                anyhow::anyhow!("generated an invalid interaction: {errors:?}")
            })?;
            let recorded_by =
                OfficerId::parse(&format!("staff:officer-{}", rng.below(500))).map_err(invalid)?;
            let id = EntryId::parse(&rng.hex_id("int")).map_err(invalid)?;
            let entry = interactions_rules::append_interaction(&tip, id, recorded_by, new)?;
            let EntryBody::Interaction { facts, .. } = &entry.body else {
                unreachable!("an interaction was sealed")
            };
            insert_entry(&db, &contact, &entry, None)?;
            insert_timeline_row(&db, &contact, entry.sequence, facts)?;
            tip = entry.tip();
            written += 1;
            if written.is_multiple_of(BATCH) {
                db.execute_batch("COMMIT; BEGIN")?;
            }
            if written.is_multiple_of(1_000_000) {
                eprintln!(
                    "{written} entries, {} contacts, {:.0} s",
                    key,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        set_tip(&db, contact.key, tip.sequence, &tip.hash)?;
    }
    db.execute_batch("COMMIT")?;
    db.execute_batch("PRAGMA journal_mode = WAL;")
        .context("switching to WAL, as the host runs it")?;
    eprintln!(
        "generated {written} entries for {key} contacts in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn invalid(e: crm_domain::Invalid) -> anyhow::Error {
    anyhow::anyhow!("generated an invalid value: {}", e.0)
}

/// One plausible interaction recorded at `recorded_at`, which mostly
/// occurred a little before (out of order with its neighbours).
fn interaction(rng: &mut Rng, contact: &ContactId, recorded_at: i64) -> RawInteraction {
    let lag = if rng.below(10) == 0 {
        rng.below(365) as i64 * DAY_MS
    } else {
        rng.below(14 * DAY_MS as u64) as i64
    };
    let tags = (0..rng.below(3))
        .map(|_| rng.pick(TAGS).to_string())
        .collect();
    RawInteraction {
        contact_id: Some(contact.to_string()),
        channel: Some(rng.pick(CHANNELS).to_string()),
        direction: Some(
            if rng.below(5) == 0 {
                "outbound"
            } else {
                "inbound"
            }
            .to_string(),
        ),
        occurred_at: Some(rfc3339_utc(recorded_at - lag)),
        officer_id: Some(format!("staff:officer-{}", rng.below(500))),
        category: Some(rng.pick(CATEGORIES).to_string()),
        tags,
        case_reference: (rng.below(5) == 0)
            .then(|| format!("CASE-{}-{}", 2016 + rng.below(10), rng.below(1_000_000))),
        subject: Some(rng.pick(SUBJECTS).to_string()),
        notes: (rng.below(2) == 0).then(|| rng.pick(NOTES).to_string()),
        outcome: Some(rng.pick(OUTCOMES).to_string()),
        notification_id: None,
        documents: Vec::new(),
    }
}
