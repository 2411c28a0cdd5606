//! Fills an app database with case management's rows directly, through
//! `cases-store` (the same row functions, gapless references and clocks
//! `cases-http` writes, with `cases-sla` computing every clock), run with
//! rusqlite in large transactions.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use cases_rules::{
    ActivityKind, CaseTypeKey, Confidentiality, Direction, Priority, StatusCategory, StatusKey,
};
use cases_sla::{Calendar, Clock, Timestamp};
use cases_store::{
    ActivityStatus, ActorKind, CaseRecord, ClockRecord, ClockTarget, NewActivity, Queue,
    QueueMember, QueueOrder, SlaPolicy,
};
use crm_domain::{Channel, ContactId, OfficerId};
use rusqlite::Connection;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Cases written per transaction.
const BATCH: u64 = 2_000;

/// What to generate.
pub struct Plan {
    pub cases: u64,
    /// The newest `open` cases are open; the rest are closed.
    pub open: u64,
    /// Activities in all: one case in 25 holds [`LONG_TIMELINE`], the others
    /// share the rest evenly.
    pub activities: u64,
    pub queues: u32,
    pub staff: u32,
}

/// Activities of one case in 25: the detail scenario reads these.
pub const LONG_TIMELINE: u64 = 100;

pub fn queue_id(queue: u32) -> String {
    format!("q-{:02}", queue + 1)
}

pub fn officer(staff: u32) -> OfficerId {
    OfficerId::parse(&format!("staff:officer-{staff:03}")).expect("an officer id")
}

/// The JWT subject of `officer(staff)` (the app names staff `staff:<sub>`).
pub fn subject(staff: u32) -> String {
    format!("officer-{staff:03}")
}

/// Queue `queue`'s members: every officer works two queues, so each queue
/// has `2 × staff / queues` members (20 at the default plan).
pub fn members(plan: &Plan, queue: u32) -> Vec<u32> {
    let per = plan.staff / plan.queues;
    let next = (queue + 1) % plan.queues;
    (queue * per..(queue + 1) * per)
        .chain(next * per..(next + 1) * per)
        .collect()
}

/// A case's id: random-looking, as `new_id("cas")` makes them.
pub fn case_id(n: u64) -> String {
    format!("cas_{:016x}{:016x}", mix(n), mix(n ^ 0xcafe))
}

/// How many activities case `n` has.
pub fn activity_count(plan: &Plan, n: u64) -> u64 {
    let long = plan.cases.div_ceil(25);
    let rest = plan.activities.saturating_sub(long * LONG_TIMELINE);
    let short_cases = plan.cases - long;
    if n.is_multiple_of(25) {
        LONG_TIMELINE
    } else {
        // Spread the remainder so the total comes out exact.
        let k = n - n / 25 - 1;
        rest * (k + 1) / short_cases - rest * k / short_cases
    }
}

/// splitmix64: a fixed, well-spread pseudo-random value for each `n`.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the configuration holds that every case needs.
struct Setting {
    calendar: Calendar,
    policies: Vec<SlaPolicy>,
    now: i64,
}

impl Setting {
    fn policy(&self, case_type: &CaseTypeKey, priority: Priority) -> Result<&SlaPolicy> {
        self.policies
            .iter()
            .find(|p| &p.case_type == case_type && p.priority == priority)
            .ok_or_else(|| anyhow!("no policy for {} {priority}", case_type.as_str()))
    }
}

/// Writes the plan into the database at `path` (a new file), as of now.
pub fn generate(path: &Path, plan: &Plan) -> Result<()> {
    if path.exists() {
        anyhow::bail!("{} exists: delete it to generate again", path.display());
    }
    std::fs::create_dir_all(path.parent().context("a state dir")?)?;
    let db = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    // Bulk load: durability comes from the final checkpoint.
    db.pragma_update(None, "synchronous", "OFF")?;
    db.pragma_update(None, "cache_size", -1_000_000)?;
    db.set_prepared_statement_cache_capacity(64);
    crm_migrations::migrate(&db).map_err(|e| anyhow!("{e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let setting = Setting {
        calendar: cases_store::calendar(&db, "default")?
            .context("the default calendar")?
            .calendar()?,
        policies: ["general-enquiry", "correction-request"]
            .into_iter()
            .flat_map(|t| Priority::ALL.iter().map(move |p| (t, *p)))
            .map(|(t, p)| {
                let key = CaseTypeKey::parse(t).expect("a type key");
                cases_store::sla_policy(&db, &key, p)?.context("a shipped policy")
            })
            .collect::<Result<_>>()?,
        now,
    };
    let tx = db.unchecked_transaction()?;
    for queue in 0..plan.queues {
        cases_store::put_queue(
            &db,
            &Queue {
                id: queue_id(queue),
                name: format!("Queue {}", queue + 1),
                ordering: vec![QueueOrder::Due, QueueOrder::Priority, QueueOrder::Fifo],
            },
            now - 800 * DAY,
        )?;
        let members: Vec<QueueMember> = members(plan, queue)
            .into_iter()
            .map(|staff| QueueMember {
                officer: officer(staff),
                capacity: 500,
                last_assigned_at: None,
            })
            .collect();
        cases_store::set_members(&db, &queue_id(queue), &members)?;
    }
    tx.commit()?;
    let started = Instant::now();
    let mut n = 0;
    while n < plan.cases {
        let end = (n + BATCH).min(plan.cases);
        let tx = db.unchecked_transaction()?;
        for i in n..end {
            write_case(&db, plan, &setting, i).with_context(|| format!("case {i}"))?;
        }
        tx.commit()?;
        n = end;
        if n % 20_000 == 0 || n == plan.cases {
            eprintln!(
                "generated {n} cases ({:.0}/s)",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    // No ANALYZE: the app never runs it, so neither does its benchmark.
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// The status of open case `k` of `open` (0 the oldest) and when it opened:
/// the newest 40% still new (unassigned, for take-next), the next 10%
/// assigned, the older ones worked, a third of those waiting on someone.
fn open_case(k: u64, open: u64, now: i64, r: u64) -> (&'static str, i64) {
    let age = 20 * DAY - (20 * DAY - 10 * MINUTE) * k as i64 / open as i64;
    let share = k * 10 / open;
    let status = match share {
        6.. => "new",
        5 => "assigned",
        _ => match r % 20 {
            0..=12 => "in-progress",
            13..=17 => "awaiting-citizen",
            _ => "awaiting-third-party",
        },
    };
    (status, now - age)
}

fn write_case(db: &Connection, plan: &Plan, setting: &Setting, n: u64) -> Result<()> {
    let r = mix(n);
    let now = setting.now;
    let closed_cases = plan.cases - plan.open;
    let open = n >= closed_cases;
    let queue = (n % u64::from(plan.queues)) as u32;
    let members = members(plan, queue);
    let assignee = officer(members[(r >> 8) as usize % members.len()]);
    let case_type = CaseTypeKey::parse(if r.is_multiple_of(5) {
        "correction-request"
    } else {
        "general-enquiry"
    })?;
    let priority = match (r >> 16) % 100 {
        0..=4 => Priority::Urgent,
        5..=19 => Priority::High,
        20..=79 => Priority::Normal,
        _ => Priority::Low,
    };
    let (status, opened_at) = if open {
        open_case(n - closed_cases, plan.open, now, r >> 24)
    } else {
        let closed = match (r >> 24) % 100 {
            0..=9 => "resolved",
            10..=89 => "closed",
            90..=94 => "withdrawn",
            95..=97 => "rejected",
            _ => "duplicate",
        };
        // Over the two years before the open ones, in order.
        (
            closed,
            now - 750 * DAY + 720 * DAY * n as i64 / closed_cases as i64,
        )
    };
    let responded_at = opened_at + HOUR + (r >> 32) as i64 % (8 * HOUR);
    let year: u16 = crm_domain::rfc3339_utc(opened_at)[..4].parse()?;
    let mut case = CaseRecord {
        id: case_id(n),
        reference: cases_store::next_reference(db, year)?,
        case_type: case_type.clone(),
        subject: format!("Enquiry {n} about a payment"),
        details: "The caller asked when their payment will arrive and how to update their \
                  bank details."
            .into(),
        priority,
        channel: Some(
            [
                Channel::Phone,
                Channel::Email,
                Channel::Portal,
                Channel::Counter,
            ][(r % 4) as usize],
        ),
        contact: Some(ContactId::parse(&format!("con_gen{:07}", n % 100_000))?),
        queue: Some(queue_id(queue)),
        assignee: (status != "new").then(|| assignee.clone()),
        parent: None,
        confidentiality: if (r >> 40).is_multiple_of(20) {
            Confidentiality::Restricted
        } else {
            Confidentiality::Standard
        },
        status: StatusKey::parse(status)?,
        status_category: if open {
            StatusCategory::Open
        } else {
            StatusCategory::Closed
        },
        version: 1,
        opened_at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        resolution_code: None,
        resolution_summary: None,
        due_at: None,
        created_by: "staff:intake-officer".into(),
        updated_at: opened_at,
    };
    let ends_at = if open {
        now - MINUTE
    } else {
        let worked = opened_at + DAY + (r >> 44) as i64 % (20 * DAY);
        case.first_response_at = Some(responded_at);
        match status {
            "resolved" => case.resolved_at = Some(worked),
            "closed" => {
                case.resolved_at = Some(worked);
                case.closed_at = Some(worked + 10 * DAY);
            }
            _ => case.closed_at = Some(worked),
        }
        if case.resolved_at.is_some() {
            case.resolution_code = Some("answered".into());
            case.resolution_summary = Some("Told the caller the payment date.".into());
        }
        case.closed_at.or(case.resolved_at).unwrap_or(worked)
    };
    case.updated_at = ends_at;
    let worked = matches!(
        status,
        "in-progress" | "awaiting-citizen" | "awaiting-third-party"
    );
    if worked {
        case.first_response_at = Some(responded_at);
    }
    cases_store::insert_case(db, &case)?;
    if open {
        write_clocks(db, setting, &case, worked, responded_at, r)?;
    }
    write_activities(db, plan, &case, &assignee, ends_at, n)
}

/// The first-response and resolution clocks of an open case: met first
/// responses for worked cases, paused resolutions for cases waiting on
/// someone.
fn write_clocks(
    db: &Connection,
    setting: &Setting,
    case: &CaseRecord,
    worked: bool,
    responded_at: i64,
    r: u64,
) -> Result<()> {
    let policy = setting.policy(&case.case_type, case.priority)?;
    let calendar = &setting.calendar;
    let at = |ms: i64| Timestamp::from_millisecond(ms).expect("a time");
    for target in [ClockTarget::FirstResponse, ClockTarget::Resolution] {
        let goal = policy.target(target).context("a target")?;
        let mut clock = Clock::start(at(case.opened_at), goal);
        if worked && target == ClockTarget::FirstResponse {
            clock.complete(at(responded_at), calendar)?;
        }
        let waiting = case.status.as_str().starts_with("awaiting-");
        if waiting && target == ClockTarget::Resolution {
            let span = setting.now - responded_at;
            let since = responded_at + span / 2 + (r >> 48) as i64 % (span / 2).max(1);
            clock.pause(at(since))?;
        }
        // The state as of the clock's last change, as the app writes it:
        // a store the sweep has not run on yet.
        let changed = clock.parts().last_change;
        cases_store::save_clock(
            db,
            &ClockRecord::new(&case.id, target, clock, calendar, changed)?,
        )?;
    }
    cases_store::set_case_due(db, &case.id)?;
    Ok(())
}

/// A case's timeline from its opening to `ends_at`: notes, calls, emails,
/// letters, meetings, tasks and citizens' messages, each done touchpoint
/// already in the interaction log.
fn write_activities(
    db: &Connection,
    plan: &Plan,
    case: &CaseRecord,
    officer: &OfficerId,
    ends_at: i64,
    n: u64,
) -> Result<()> {
    let count = activity_count(plan, n);
    let span = (ends_at - case.opened_at).max(count as i64);
    for a in 0..count {
        let r = mix(n << 8 ^ a);
        let (kind, direction, visible) = match r % 20 {
            0..=5 => (ActivityKind::Note, Direction::Internal, false),
            6..=9 => (ActivityKind::Call, Direction::Outbound, true),
            10..=13 => (ActivityKind::Email, Direction::Outbound, true),
            14 => (ActivityKind::Letter, Direction::Outbound, true),
            15 => (ActivityKind::Meeting, Direction::Internal, false),
            16 | 17 => (ActivityKind::Task, Direction::Internal, false),
            _ => (ActivityKind::CitizenMessage, Direction::Inbound, true),
        };
        let citizen = kind == ActivityKind::CitizenMessage;
        let created_at = case.opened_at + span * a as i64 / count as i64;
        let activity = cases_store::insert_activity(
            db,
            &NewActivity {
                id: format!("act_{:016x}{:016x}", mix(r), r),
                case_id: case.id.clone(),
                kind,
                status: ActivityStatus::Done,
                subject: format!("{} {a} on case {n}", kind.as_str()),
                body: r.is_multiple_of(2).then(|| {
                    "Spoke about the payment date and the documents still needed.".to_string()
                }),
                direction,
                citizen_visible: visible,
                actor: if citizen {
                    case.contact.as_ref().map_or("", |c| c.as_str()).to_string()
                } else {
                    officer.as_str().to_string()
                },
                actor_kind: if citizen {
                    ActorKind::Citizen
                } else {
                    ActorKind::Staff
                },
                due_at: None,
                completed_at: Some(created_at),
                created_at,
            },
        )?;
        if direction != Direction::Internal {
            cases_store::mark_logged(db, &activity.id, &format!("int_{:016x}", mix(r ^ 1)))?;
        }
    }
    Ok(())
}
