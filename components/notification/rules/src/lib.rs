//! GOV.UK Notify v2 compatibility, without I/O: API keys and the JWTs made
//! from them, Notify's error bodies and status names, test-key simulation,
//! retry timing, rate and daily limits, status callback bodies, and the
//! allowed-outbound-host patterns callback URLs must fall within, phone
//! numbers and personalisation as Notify reads and sanitises them, and
//! letters as PDFs, and files sent by email.
//! Callers pass in the time and any randomness.

mod api_key;
mod callback;
mod document;
mod error;
mod jwt;
mod letter_pdf;
mod letter_timings;
mod limits;
mod phone;
mod reference;
mod retry;
mod sanitise;
mod schedule;
mod sealed;
mod signature;
mod simulator;
mod status;
mod timestamp;

pub use api_key::{ApiKey, ApiKeyError, KeySecret, KeyType, ServiceId};
pub use callback::StatusCallback;
pub use document::{Document, DocumentError, MAX_DOCUMENT_BYTES};
pub use error::{ErrorEntry, NotifyError};
pub use jwt::{
    AuthError, Claims, TOKEN_LEEWAY_SECS, bearer_token, create_notify_jwt, token_issuer,
    verify_notify_jwt,
};
pub use letter_pdf::{
    LetterContent, MAX_PRECOMPILED_PDF_BYTES, PdfUnavailable, PrecompiledError, PrecompiledPdf,
    letter_pdf_availability, render_letter,
};
pub use letter_timings::{Postage, estimated_delivery};
pub use limits::{
    BucketDecodeError, DailyLimits, RateLimit, RateLimitError, RetryAfterMs, TokenBucket, UtcDay,
    daily_limit_key,
};
pub use phone::{InvalidPhone, NotifyPhoneNumber, check_sms_sender, same_sender, sms_sender_text};
pub use reference::{MAX_REFERENCE_CHARS, check_reference};
pub use retry::{AttemptOutcome, NextStep, RetryPolicy, Verdict};
pub use sanitise::sanitise_personalisation_item;
pub use schedule::{MAX_SCHEDULE_AHEAD_MS, ScheduleError, check_schedule};
pub use sealed::{SEAL_NONCE_LEN, SealError, SealingKey};
pub use signature::{SIGNATURE_HEADER, same_secret, sign_body, verify_body_signature};
pub use simulator::{Recipient, is_simulated_recipient, test_key_outcome};
pub use status::{NotificationStatus, SENDING_TIMEOUT_MS};
pub use timestamp::notify_time;
