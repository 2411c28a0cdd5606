//! A contact's timeline: interactions newest first, filtered, in pages
//! reached by an opaque cursor (keyset pagination, never OFFSET).
//!
//! The order is `occurred_at DESC, sequence DESC`: the per-contact chain
//! sequence breaks ties and makes every position unique. A survivor's
//! timeline also shows the contacts merged into it, one keyset page per
//! contact merged in order; the contact's store key then breaks ties
//! between contacts (`occurred_at DESC, contact DESC, sequence DESC`). A cursor names the
//! last position shown; the next page is every position strictly after it.
//! Appends made while a caller pages never shift positions, so nothing is
//! shown twice or skipped: an interaction recorded later but occurring
//! earlier than the cursor simply appears on a later page.
//!
//! # Store
//!
//! The component keeps one row per interaction with the sort and filter
//! columns of its *corrected* view (a projection, rewritten when an
//! amendment changes them and rebuildable from the entries), indexed so that
//! each filter is an index range, never a scan:
//!
//! ```sql
//! CREATE INDEX timeline_newest_first ON interaction_timeline
//!     (contact_id, occurred_at DESC, sequence DESC);
//! CREATE INDEX timeline_by_channel ON interaction_timeline
//!     (contact_id, channel, occurred_at DESC, sequence DESC);
//! -- and likewise (contact_id, direction, …), (contact_id, category, …),
//! -- (contact_id, case_ref, …).
//! ```
//!
//! A page is then, with each bracketed predicate present only when its
//! filter or the cursor is (not `? IS NULL OR …`, which hides the index from
//! the planner):
//!
//! ```sql
//! SELECT entry_id, occurred_at, sequence FROM interaction_timeline
//! WHERE contact_id = :contact
//!   [AND channel = :channel] [AND direction = :direction]
//!   [AND category = :category] [AND case_ref = :case_ref]
//!   [AND occurred_at >= :from] [AND occurred_at < :to]
//!   [AND (occurred_at, sequence) < (:cursor_occurred_at, :cursor_sequence)]
//! ORDER BY occurred_at DESC, sequence DESC
//! LIMIT :page_size + 1;
//! ```
//!
//! The row-value comparison is SQLite's (3.15+) and is served as a range of
//! the index (name it with `INDEXED BY`: without statistics the planner may
//! prefer walking the contact by primary key to a filter's index); fetching
//! one row more than the page tells whether another page follows
//! ([`Page::from_rows`]). An amendment that moves an interaction's
//! occurred-at moves it in the timeline, and a pager may then see it twice
//! or not at all; only appends are guaranteed not to disturb paging.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::FieldError;
use crm_domain::{Invalid, parse_rfc3339_ms};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use thiserror::Error;

use crate::canonical::Canonical;
use crate::field_errors::FieldErrors;
use crate::interaction::optional;
use crate::values::{CaseRef, Channel, ContactId, Direction, Slug};

/// Where an interaction sits in its contact's timeline. The derived order is
/// ascending; the timeline shows it descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimelinePosition {
    pub occurred_at_ms: i64,
    /// The store's key for the contact whose chain holds the interaction:
    /// a survivor's timeline shows the interactions of the contacts merged
    /// into it too, and this orders those that occurred at the same instant
    /// (each chain's sequence is its own).
    pub contact_key: i64,
    pub sequence: u64,
}

/// Which interactions a timeline shows; `from` is inclusive, `to` exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineFilter {
    pub contact_id: ContactId,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub category: Option<Slug>,
    pub case_ref: Option<CaseRef>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl TimelineFilter {
    /// A digest of the filter, carried in cursors so that a cursor is only
    /// accepted with the filter it was made for.
    pub fn fingerprint(&self) -> [u8; FINGERPRINT_LEN] {
        let mut c = Canonical::new("crm-interactions/timeline-filter/v1");
        c.str(self.contact_id.as_str())
            .opt(self.channel, |c, v| {
                c.str(v.as_str());
            })
            .opt(self.direction, |c, v| {
                c.str(v.as_str());
            })
            .opt(self.category.as_ref(), |c, v| {
                c.str(v.as_str());
            })
            .opt(self.case_ref.as_ref(), |c, v| {
                c.str(v.as_str());
            })
            .opt(self.from_ms, |c, v| {
                c.i64(v);
            })
            .opt(self.to_ms, |c, v| {
                c.i64(v);
            });
        let mut fingerprint = [0; FINGERPRINT_LEN];
        fingerprint.copy_from_slice(&c.sha256().0[..FINGERPRINT_LEN]);
        fingerprint
    }
}

/// How many interactions a page holds: 1 to 100, 50 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    pub const MAX: usize = 100;
    pub const DEFAULT: PageSize = PageSize(50);

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().parse::<usize>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Invalid(format!(
                "must be a whole number from 1 to {}",
                Self::MAX
            ))),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// A timeline request as it arrives (query parameters).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimelineQuery {
    pub contact_id: Option<String>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub category: Option<String>,
    pub case_reference: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page_size: Option<String>,
    pub cursor: Option<String>,
}

/// A validated timeline request: the filter, the page size, and the
/// position after which the page starts (none for the first page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineQuery {
    pub filter: TimelineFilter,
    pub page_size: PageSize,
    pub after: Option<TimelinePosition>,
}

impl TimelineQuery {
    /// Reports every refused parameter; a cursor is checked against the
    /// filter given with it.
    pub fn parse(raw: &RawTimelineQuery, codec: &CursorCodec) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let contact_id = errors
            .required("contact_id", &raw.contact_id)
            .and_then(|r| errors.check("contact_id", ContactId::parse(r)));
        let channel = optional(&mut errors, "channel", &raw.channel, |r| {
            Channel::parse(r.trim())
        });
        let direction = optional(&mut errors, "direction", &raw.direction, |r| {
            Direction::parse(r.trim())
        });
        let category = optional(&mut errors, "category", &raw.category, Slug::parse);
        let case_ref = optional(
            &mut errors,
            "case_reference",
            &raw.case_reference,
            CaseRef::parse,
        );
        let from_ms = optional(&mut errors, "from", &raw.from, parse_rfc3339_ms);
        let to_ms = optional(&mut errors, "to", &raw.to, parse_rfc3339_ms);
        if let (Some(Some(from)), Some(Some(to))) = (from_ms, to_ms)
            && from >= to
        {
            errors.push("to", "must be later than from");
        }
        let page_size = match &raw.page_size {
            None => Some(PageSize::DEFAULT),
            Some(r) => errors.check("page_size", PageSize::parse(r)),
        };
        let filter = (|| {
            Some(TimelineFilter {
                contact_id: contact_id?,
                channel: channel?,
                direction: direction?,
                category: category?,
                case_ref: case_ref?,
                from_ms: from_ms?,
                to_ms: to_ms?,
            })
        })();
        let after = match (&raw.cursor, &filter) {
            (None, _) => Some(None),
            (Some(cursor), Some(filter)) => codec
                .decode(cursor, filter)
                .map_err(|e| errors.push("cursor", e.to_string()))
                .ok()
                .map(Some),
            // The filter is refused already; the cursor cannot be judged.
            (Some(_), None) => None,
        };
        errors.finish(|| {
            Some(Self {
                filter: filter?,
                page_size: page_size?,
                after: after?,
            })
        })
    }
}

/// One page, and the position to continue after if more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<TimelinePosition>,
}

impl<T> Page<T> {
    /// `rows` are what the keyset query returned with `LIMIT page_size + 1`,
    /// in timeline order; the extra row, if any, only says another page
    /// follows.
    pub fn from_rows(
        mut rows: Vec<T>,
        page_size: PageSize,
        position_of: impl Fn(&T) -> TimelinePosition,
    ) -> Self {
        let more = rows.len() > page_size.get();
        rows.truncate(page_size.get());
        let next_after = more.then(|| rows.last().map(&position_of)).flatten();
        Self {
            items: rows,
            next_after,
        }
    }
}

/// 2: the position names its contact (1 had none).
const CURSOR_VERSION: u8 = 2;
const FINGERPRINT_LEN: usize = 16;
const TAG_LEN: usize = 16;
const PAYLOAD_LEN: usize = 1 + 8 + 8 + 8 + FINGERPRINT_LEN;
const CURSOR_LEN: usize = PAYLOAD_LEN + TAG_LEN;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CursorError {
    #[error("is not a cursor this service issued (not URL-safe base64)")]
    NotBase64,
    #[error("is not a cursor this service issued (wrong length)")]
    WrongLength,
    #[error("was issued by another version of this service; start from the first page")]
    UnknownVersion(u8),
    #[error("has been altered or was issued under another key")]
    Tampered,
    #[error("was issued for different filters; start from the first page")]
    OtherFilter,
}

/// Why a cursor key was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a cursor key must be at least {min} bytes")]
pub struct KeyTooShort {
    pub min: usize,
}

/// Issues and checks cursors: `version ‖ occurred_at ‖ contact key ‖
/// sequence ‖ filter fingerprint ‖ HMAC-SHA-256 tag (truncated to 16 bytes)`, in URL-safe
/// base64 without padding. The key is a deployment secret supplied by the
/// caller; the tag makes an edited or invented cursor a typed error rather
/// than a jump to an arbitrary position.
#[derive(Clone)]
pub struct CursorCodec {
    mac: Hmac<Sha256>,
}

impl CursorCodec {
    pub const MIN_KEY_LEN: usize = 32;

    pub fn new(key: &[u8]) -> Result<Self, KeyTooShort> {
        if key.len() < Self::MIN_KEY_LEN {
            return Err(KeyTooShort {
                min: Self::MIN_KEY_LEN,
            });
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| KeyTooShort {
            min: Self::MIN_KEY_LEN,
        })?;
        Ok(Self { mac })
    }

    pub fn encode(&self, after: TimelinePosition, filter: &TimelineFilter) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_LEN);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(&after.occurred_at_ms.to_be_bytes());
        bytes.extend_from_slice(&after.contact_key.to_be_bytes());
        bytes.extend_from_slice(&after.sequence.to_be_bytes());
        bytes.extend_from_slice(&filter.fingerprint());
        let mut mac = self.mac.clone();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(
        &self,
        cursor: &str,
        filter: &TimelineFilter,
    ) -> Result<TimelinePosition, CursorError> {
        // Anything longer cannot be a cursor; refuse before decoding it.
        if cursor.len() > CURSOR_LEN.div_ceil(3) * 4 {
            return Err(CursorError::WrongLength);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::NotBase64)?;
        if bytes.len() != CURSOR_LEN {
            return Err(CursorError::WrongLength);
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
        if payload[0] != CURSOR_VERSION {
            return Err(CursorError::UnknownVersion(payload[0]));
        }
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.verify_truncated_left(tag)
            .map_err(|_| CursorError::Tampered)?;
        if payload[25..] != filter.fingerprint() {
            return Err(CursorError::OtherFilter);
        }
        let word = |at: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&payload[at..at + 8]);
            b
        };
        Ok(TimelinePosition {
            occurred_at_ms: i64::from_be_bytes(word(1)),
            contact_key: i64::from_be_bytes(word(9)),
            sequence: u64::from_be_bytes(word(17)),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::chain::EntryBody;
    use crate::fixtures::Log;
    use proptest::prelude::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(&[7; 32]).unwrap()
    }

    fn filter() -> TimelineFilter {
        TimelineFilter {
            contact_id: ContactId::parse("contact-1").unwrap(),
            channel: None,
            direction: None,
            category: None,
            case_ref: None,
            from_ms: None,
            to_ms: None,
        }
    }

    const AT: TimelinePosition = TimelinePosition {
        occurred_at_ms: -1_234_567_890_123,
        contact_key: 7,
        sequence: 42,
    };

    #[test]
    fn a_cursor_round_trips_and_is_url_safe() {
        let cursor = codec().encode(AT, &filter());
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(codec().decode(&cursor, &filter()), Ok(AT));
    }

    #[test]
    fn every_altered_byte_is_refused() {
        let bytes = URL_SAFE_NO_PAD
            .decode(codec().encode(AT, &filter()))
            .unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let expected = if i == 0 {
                CursorError::UnknownVersion(CURSOR_VERSION ^ 0x01)
            } else {
                CursorError::Tampered
            };
            assert_eq!(
                codec().decode(&URL_SAFE_NO_PAD.encode(&altered), &filter()),
                Err(expected),
                "byte {i}"
            );
        }
    }

    #[test]
    fn garbage_is_not_a_cursor() {
        let decode = |text: &str| codec().decode(text, &filter());
        assert_eq!(decode("not a cursor!"), Err(CursorError::NotBase64));
        assert_eq!(decode(""), Err(CursorError::WrongLength));
        assert_eq!(decode("AAAA"), Err(CursorError::WrongLength));
        assert_eq!(decode(&"A".repeat(10_000)), Err(CursorError::WrongLength));
        let cursor = codec().encode(AT, &filter());
        // Cut by a whole base64 quantum, so what is left still decodes.
        assert_eq!(
            decode(&cursor[..cursor.len() - 4]),
            Err(CursorError::WrongLength)
        );
    }

    #[test]
    fn a_cursor_works_only_with_its_filter_and_key() {
        let cursor = codec().encode(AT, &filter());
        let others = [
            TimelineFilter {
                channel: Some(Channel::Phone),
                ..filter()
            },
            TimelineFilter {
                from_ms: Some(0),
                ..filter()
            },
            TimelineFilter {
                to_ms: Some(0),
                ..filter()
            },
            TimelineFilter {
                contact_id: ContactId::parse("contact-2").unwrap(),
                ..filter()
            },
        ];
        for other in &others {
            assert_eq!(
                codec().decode(&cursor, other),
                Err(CursorError::OtherFilter)
            );
        }
        let other_key = CursorCodec::new(&[8; 32]).unwrap();
        assert_eq!(
            other_key.decode(&cursor, &filter()),
            Err(CursorError::Tampered)
        );
        assert!(CursorCodec::new(&[7; 31]).is_err());
    }

    fn query(raw: RawTimelineQuery) -> Result<TimelineQuery, Vec<String>> {
        TimelineQuery::parse(&raw, &codec())
            .map_err(|errors| errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_timeline_query_parses_with_defaults() {
        let raw = RawTimelineQuery {
            contact_id: Some("contact-1".into()),
            channel: Some("field-visit".into()),
            from: Some("2026-01-01T00:00:00+10:00".into()),
            to: Some("2027-01-01T00:00:00+10:00".into()),
            ..RawTimelineQuery::default()
        };
        let parsed = query(raw.clone()).unwrap();
        assert_eq!(parsed.page_size, PageSize::DEFAULT);
        assert_eq!(parsed.after, None);
        assert_eq!(parsed.filter.channel, Some(Channel::FieldVisit));
        let cursor = codec().encode(AT, &parsed.filter);
        let next = query(RawTimelineQuery {
            cursor: Some(cursor.clone()),
            page_size: Some("100".into()),
            ..raw.clone()
        })
        .unwrap();
        assert_eq!(next.after, Some(AT));
        assert_eq!(next.page_size.get(), 100);
        // The same cursor with the channel filter dropped is refused.
        assert_eq!(
            query(RawTimelineQuery {
                cursor: Some(cursor),
                channel: None,
                ..raw
            }),
            Err(vec!["cursor".to_string()])
        );
    }

    #[test]
    fn a_timeline_query_reports_every_refused_parameter() {
        let errors = query(RawTimelineQuery {
            contact_id: None,
            direction: Some("up".into()),
            from: Some("2027-01-01T00:00:00Z".into()),
            to: Some("2026-01-01T00:00:00Z".into()),
            page_size: Some("0".into()),
            cursor: Some("whatever".into()),
            ..RawTimelineQuery::default()
        })
        .unwrap_err();
        assert_eq!(errors, ["contact_id", "direction", "to", "page_size"]);
        for bad in ["101", "-1", "ten", ""] {
            assert!(PageSize::parse(bad).is_err(), "{bad}");
        }
    }

    fn position(entry: &crate::chain::Entry) -> TimelinePosition {
        let EntryBody::Interaction { facts, .. } = &entry.body else {
            unreachable!()
        };
        TimelinePosition {
            occurred_at_ms: facts.occurred_at_ms,
            contact_key: 1,
            sequence: entry.sequence,
        }
    }

    #[test]
    fn the_timeline_orders_by_occurrence_not_recording() {
        let mut log = Log::new("contact-1");
        log.record("late", "2026-11-22T09:00:00+10:00", "Recorded first");
        log.record("early", "2025-03-01T09:00:00+11:00", "Recorded a year late");
        log.record("tie-a", "2026-11-21T09:00:00+10:00", "Same time");
        log.record("tie-b", "2026-11-20T23:00:00Z", "Same time, other offset");
        let mut positions: Vec<(TimelinePosition, &str)> = log
            .entries
            .iter()
            .map(|e| (position(e), e.id.as_str()))
            .collect();
        positions.sort_by_key(|p| std::cmp::Reverse(p.0));
        let order: Vec<&str> = positions.iter().map(|p| p.1).collect();
        assert_eq!(order, ["late", "tie-b", "tie-a", "early"]);
    }

    #[test]
    fn a_page_says_whether_another_follows() {
        let at = |s| TimelinePosition {
            occurred_at_ms: 0,
            contact_key: 1,
            sequence: s,
        };
        let size = PageSize::parse("2").unwrap();
        let full = Page::from_rows(vec![at(9), at(8), at(7)], size, |p| *p);
        assert_eq!(full.items, [at(9), at(8)]);
        assert_eq!(full.next_after, Some(at(8)));
        let last = Page::from_rows(vec![at(9), at(8)], size, |p| *p);
        assert_eq!(last.next_after, None);
        let empty = Page::from_rows(Vec::<TimelinePosition>::new(), size, |p| *p);
        assert_eq!(empty.next_after, None);
    }

    /// What the keyset query returns over a store of `(position, channel)`.
    fn fetch(
        store: &[(TimelinePosition, Channel)],
        channel: Option<Channel>,
        after: Option<TimelinePosition>,
        page_size: PageSize,
    ) -> Page<TimelinePosition> {
        let mut rows: Vec<TimelinePosition> = store
            .iter()
            .filter(|(p, c)| channel.is_none_or(|f| f == *c) && after.is_none_or(|a| *p < a))
            .map(|(p, _)| *p)
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        rows.truncate(page_size.get() + 1);
        Page::from_rows(rows, page_size, |p| *p)
    }

    proptest! {
        #[test]
        fn paging_is_stable_while_appends_continue(
            initial in prop::collection::vec((0i64..20, any::<bool>()), 0..40),
            appends in prop::collection::vec(prop::collection::vec((0i64..25, any::<bool>()), 0..4), 0..20),
            page_size in 1usize..6,
            by_channel in any::<bool>(),
        ) {
            let channel_of = |phone: bool| if phone { Channel::Phone } else { Channel::Email };
            let mut store: Vec<(TimelinePosition, Channel)> = Vec::new();
            let append = |store: &mut Vec<_>, occurred_at_ms, phone| {
                let sequence = store.len() as u64 + 1;
                store.push((TimelinePosition { occurred_at_ms, contact_key: 1, sequence }, channel_of(phone)));
            };
            for &(at, phone) in &initial {
                append(&mut store, at, phone);
            }
            let wanted = by_channel.then_some(Channel::Phone);
            let filter = TimelineFilter { channel: wanted, ..filter() };
            let present_at_start: HashSet<TimelinePosition> = store
                .iter()
                .filter(|(_, c)| wanted.is_none_or(|w| w == *c))
                .map(|(p, _)| *p)
                .collect();
            let page_size = PageSize::parse(&page_size.to_string()).unwrap();
            let mut seen: Vec<TimelinePosition> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut batches = appends.iter();
            loop {
                let after = cursor.as_deref().map(|c| codec().decode(c, &filter).unwrap());
                let page = fetch(&store, wanted, after, page_size);
                seen.extend(&page.items);
                let Some(next) = page.next_after else { break };
                cursor = Some(codec().encode(next, &filter));
                for &(at, phone) in batches.next().into_iter().flatten() {
                    append(&mut store, at, phone);
                }
            }
            // Strictly descending: nothing repeats and the order holds.
            prop_assert!(seen.windows(2).all(|w| w[0] > w[1]));
            let seen: HashSet<TimelinePosition> = seen.into_iter().collect();
            prop_assert!(present_at_start.is_subset(&seen));
        }
    }
}
