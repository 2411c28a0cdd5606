//! The interaction log's rules, free of storage and transport: validated
//! input ([`NewInteraction`], [`NewAmendment`], [`DisposalRequest`]), the
//! per-contact hash chain that survives disposal ([`chain`]), the corrected
//! view of an amended interaction ([`corrected_view`]), disposal under a
//! records authority ([`may_dispose`]), timeline cursors ([`timeline`]) and
//! trend buckets with small-cell suppression ([`trends`]), and the requests
//! that place and lift legal holds ([`hold`]) and ask for trends
//! ([`trend_query`]).
//!
//! Time is passed in by the caller (UTC milliseconds since the epoch), as are
//! ids and keys; nothing here reads a clock or a random source.

pub mod amendment;
pub mod calendar;
mod canonical;
pub mod chain;
pub mod disposal;
mod field_errors;
#[cfg(test)]
mod fixtures;
pub mod hold;
pub mod interaction;
pub mod timeline;
pub mod trend_query;
pub mod trends;
pub mod values;

pub use amendment::{
    AmendmentPatch, AmendmentTrail, CorrectedView, FieldSources, NewAmendment, OriginalRecord,
    RawAmendment, ViewError, corrected_view,
};
pub use chain::{
    AppendRefused, BrokenLink, ChainBreak, ChainHead, ChainTip, ChainVerifier, Entry, EntryBody,
    GENESIS, Retained, append_amendment, append_interaction, verify_chain,
};
pub use crm_domain::FieldError;
pub use disposal::{
    ADMINISTRATOR_ROLE, AuthorityClass, Disposal, DisposalRefused, DisposalRequest, HoldScope,
    LegalHold, RawDisposal, Tombstone, TombstoneRefused, append_disposal, may_dispose, tombstone,
};
pub use field_errors::CLOCK_SKEW_MS;
pub use hold::{NewLegalHold, RawHoldLift, RawLegalHold};
pub use interaction::{
    InteractionContent, InteractionFacts, NewInteraction, RawDocumentRef, RawInteraction,
};
pub use timeline::{
    CursorCodec, CursorError, Page, PageSize, RawTimelineQuery, TimelineFilter, TimelinePosition,
    TimelineQuery,
};
pub use trend_query::{Breakdown, RawTrendQuery, TrendQuery};
pub use trends::{
    Bucketing, CountTable, Granularity, SuppressedTable, TrendRange, UtcOffset, suppress,
};
