//! A contact's timeline: interactions newest first, filtered, in pages
//! reached by an opaque cursor (keyset pagination, never OFFSET).
//!
//! The order is `occurred_at DESC, sequence DESC`: the per-contact chain
//! sequence breaks ties and makes every position unique. A cursor names the
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
//! the index; fetching one row more than the page tells whether another page
//! follows ([`Page::from_rows`]). An amendment that moves an interaction's
//! occurred-at moves it in the timeline, and a pager may then see it twice
//! or not at all; only appends are guaranteed not to disturb paging.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::Invalid;
use crm_http::FieldError;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use thiserror::Error;

use crate::calendar::parse_rfc3339_ms;
use crate::canonical::Canonical;
use crate::field_errors::FieldErrors;
use crate::interaction::optional;
use crate::values::{CaseRef, Channel, ContactId, Direction, Slug};

/// Where an interaction sits in its contact's timeline. The derived order is
/// ascending; the timeline shows it descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimelinePosition {
    pub occurred_at_ms: i64,
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
        let channel = optional(&mut errors, "channel", &raw.channel, Channel::parse);
        let direction = optional(&mut errors, "direction", &raw.direction, Direction::parse);
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

const CURSOR_VERSION: u8 = 1;
const FINGERPRINT_LEN: usize = 16;
const TAG_LEN: usize = 16;
const PAYLOAD_LEN: usize = 1 + 8 + 8 + FINGERPRINT_LEN;
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

/// Issues and checks cursors: `version ‖ occurred_at ‖ sequence ‖ filter
/// fingerprint ‖ HMAC-SHA-256 tag (truncated to 16 bytes)`, in URL-safe
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
        if payload[17..] != filter.fingerprint() {
            return Err(CursorError::OtherFilter);
        }
        let word = |at: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&payload[at..at + 8]);
            b
        };
        Ok(TimelinePosition {
            occurred_at_ms: i64::from_be_bytes(word(1)),
            sequence: u64::from_be_bytes(word(9)),
        })
    }
}
