//! Notification statuses, spelt as Notify's API spells them, and the moves
//! between them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationStatus {
    Created,
    Sending,
    /// Text message: the provider is still trying to deliver.
    Pending,
    /// Text message to an international number: sent, and no receipt will
    /// follow.
    Sent,
    Delivered,
    PermanentFailure,
    TemporaryFailure,
    TechnicalFailure,
    /// Letter: being printed and posted.
    Accepted,
    /// Letter: posted.
    Received,
    /// Letter: cancelled before printing.
    Cancelled,
    /// Precompiled letter: waiting for its virus scan.
    PendingVirusCheck,
    VirusScanFailed,
    ValidationFailed,
}

/// How long a message may stay `sending` or `pending` before it counts as a
/// `temporary-failure` (Notify's 72 hours).
pub const SENDING_TIMEOUT_MS: i64 = 72 * 60 * 60 * 1000;

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 14] = [
        Self::Created,
        Self::Sending,
        Self::Pending,
        Self::Sent,
        Self::Delivered,
        Self::PermanentFailure,
        Self::TemporaryFailure,
        Self::TechnicalFailure,
        Self::Accepted,
        Self::Received,
        Self::Cancelled,
        Self::PendingVirusCheck,
        Self::VirusScanFailed,
        Self::ValidationFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Sending => "sending",
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::PermanentFailure => "permanent-failure",
            Self::TemporaryFailure => "temporary-failure",
            Self::TechnicalFailure => "technical-failure",
            Self::Accepted => "accepted",
            Self::Received => "received",
            Self::Cancelled => "cancelled",
            Self::PendingVirusCheck => "pending-virus-check",
            Self::VirusScanFailed => "virus-scan-failed",
            Self::ValidationFailed => "validation-failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The status Notify's API shows for a letter in this one: a letter
    /// not yet handed over (`created`, `sending`) is `accepted`, a
    /// delivered one `received`; the rest as they are.
    /// (`notification_store::messages::list` filters by the same mapping.)
    pub fn as_letter_status(self) -> Self {
        match self {
            Self::Created | Self::Sending => Self::Accepted,
            Self::Delivered => Self::Received,
            other => other,
        }
    }

    /// The statuses this one may move to. Final statuses move nowhere: a
    /// late or repeated receipt never changes an outcome already recorded.
    fn next(self) -> &'static [NotificationStatus] {
        use NotificationStatus::*;
        match self {
            Created => &[Sending, Accepted, TechnicalFailure, Cancelled],
            PendingVirusCheck => &[Created, VirusScanFailed, ValidationFailed, TechnicalFailure],
            Sending => &[
                Pending,
                Sent,
                Delivered,
                PermanentFailure,
                TemporaryFailure,
                TechnicalFailure,
            ],
            Pending => &[
                Delivered,
                PermanentFailure,
                TemporaryFailure,
                TechnicalFailure,
            ],
            Accepted => &[Received, Cancelled, PermanentFailure, TechnicalFailure],
            Sent | Delivered | PermanentFailure | TemporaryFailure | TechnicalFailure
            | Received | Cancelled | VirusScanFailed | ValidationFailed => &[],
        }
    }

    pub fn can_transition(from: Self, to: Self) -> bool {
        from.next().contains(&to)
    }

    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// What a message in this status becomes when it has been in flight
    /// since `since_ms` and nothing was heard: `temporary-failure` after
    /// [`SENDING_TIMEOUT_MS`] for `sending` and `pending`.
    pub fn timed_out(self, since_ms: i64, now_ms: i64) -> Option<Self> {
        let in_flight = matches!(self, Self::Sending | Self::Pending);
        (in_flight && now_ms.saturating_sub(since_ms) >= SENDING_TIMEOUT_MS)
            .then_some(Self::TemporaryFailure)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn letters_show_notifys_letter_statuses() {
        use super::NotificationStatus::*;
        for (stored, shown) in [
            (Created, Accepted),
            (Sending, Accepted),
            (Delivered, Received),
            (Accepted, Accepted),
            (TechnicalFailure, TechnicalFailure),
            (PendingVirusCheck, PendingVirusCheck),
        ] {
            assert_eq!(stored.as_letter_status(), shown, "{stored:?}");
        }
    }

    use super::*;
    use NotificationStatus::*;

    #[test]
    fn spelt_as_notify_spells_them() {
        let spellings: Vec<_> = NotificationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            spellings,
            [
                "created",
                "sending",
                "pending",
                "sent",
                "delivered",
                "permanent-failure",
                "temporary-failure",
                "technical-failure",
                "accepted",
                "received",
                "cancelled",
                "pending-virus-check",
                "virus-scan-failed",
                "validation-failed"
            ]
        );
        for status in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert_eq!(NotificationStatus::parse("failed"), None);
    }

    #[test]
    fn email_and_sms_paths() {
        assert!(NotificationStatus::can_transition(Created, Sending));
        assert!(NotificationStatus::can_transition(Sending, Pending));
        assert!(NotificationStatus::can_transition(Pending, Delivered));
        assert!(NotificationStatus::can_transition(Sending, Sent));
        assert!(NotificationStatus::can_transition(
            Created,
            TechnicalFailure
        ));
        assert!(!NotificationStatus::can_transition(Created, Delivered));
        assert!(!NotificationStatus::can_transition(Pending, Sending));
        assert!(!NotificationStatus::can_transition(Sending, Sending));
    }

    #[test]
    fn letter_paths() {
        assert!(NotificationStatus::can_transition(
            PendingVirusCheck,
            Created
        ));
        assert!(NotificationStatus::can_transition(
            PendingVirusCheck,
            VirusScanFailed
        ));
        assert!(NotificationStatus::can_transition(Created, Accepted));
        assert!(NotificationStatus::can_transition(Accepted, Received));
        assert!(NotificationStatus::can_transition(Created, Cancelled));
        assert!(!NotificationStatus::can_transition(Received, Cancelled));
    }

    #[test]
    fn final_statuses_never_change() {
        let finals: Vec<_> = NotificationStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                Sent,
                Delivered,
                PermanentFailure,
                TemporaryFailure,
                TechnicalFailure,
                Received,
                Cancelled,
                VirusScanFailed,
                ValidationFailed
            ]
        );
        for from in finals {
            for to in NotificationStatus::ALL {
                assert!(!NotificationStatus::can_transition(from, to));
            }
        }
    }

    #[test]
    fn every_status_is_reachable_from_a_start() {
        for status in NotificationStatus::ALL {
            let reachable = [Created, PendingVirusCheck].contains(&status)
                || NotificationStatus::ALL
                    .into_iter()
                    .any(|from| NotificationStatus::can_transition(from, status));
            assert!(reachable, "{status:?}");
        }
    }

    #[test]
    fn in_flight_messages_time_out_after_72_hours() {
        let sent = 1_000_000;
        assert_eq!(Sending.timed_out(sent, sent + SENDING_TIMEOUT_MS - 1), None);
        assert_eq!(
            Sending.timed_out(sent, sent + SENDING_TIMEOUT_MS),
            Some(TemporaryFailure)
        );
        assert_eq!(
            Pending.timed_out(sent, sent + SENDING_TIMEOUT_MS),
            Some(TemporaryFailure)
        );
        assert_eq!(Created.timed_out(sent, i64::MAX), None);
        assert_eq!(Delivered.timed_out(sent, i64::MAX), None);
        assert_eq!(
            Sending.timed_out(i64::MIN, i64::MAX),
            Some(TemporaryFailure)
        );
    }
}
