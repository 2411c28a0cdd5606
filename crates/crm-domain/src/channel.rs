//! The ways the agency and a person deal with each other, and the narrower
//! sets of them that a use allows (a contact's preference, what a consent
//! can cover, a template's type).

crate::vocabulary!(
    /// How the agency and a person deal with each other: every value of
    /// `crm:types/types.channel`, listed as interaction log refusals name them.
    Channel {
        Portal => "portal",
        Phone => "phone",
        Counter => "counter",
        Email => "email",
        Sms => "sms",
        Letter => "letter",
        Video => "video",
        Social => "social",
        FieldVisit => "field-visit",
    }
);

/// Defines a narrower set of [`Channel`]s: an enum whose variants are named
/// as the channels it allows, with `ALL` (in the order its refusals list
/// them), `parse` (the exact spelling of an allowed channel), `as_str`,
/// `Display`, `Serialize`, `From<Self> for Channel` and
/// `TryFrom<Channel>` (which hands back a channel outside the set).
#[macro_export]
macro_rules! channel_subset {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                $crate::Channel::from(self).as_str()
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::Invalid> {
                $crate::Channel::parse(raw)
                    .ok()
                    .and_then(|channel| Self::try_from(channel).ok())
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                        $crate::Invalid(format!("must be one of {}", names.join(", ")))
                    })
            }
        }

        impl From<$name> for $crate::Channel {
            fn from(channel: $name) -> Self {
                match channel {
                    $($name::$variant => $crate::Channel::$variant),+
                }
            }
        }

        impl TryFrom<$crate::Channel> for $name {
            type Error = $crate::Channel;

            fn try_from(channel: $crate::Channel) -> Result<Self, $crate::Channel> {
                match channel {
                    $($crate::Channel::$variant => Ok($name::$variant),)+
                    #[allow(unreachable_patterns)]
                    other => Err(other),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

crate::channel_subset!(
    /// The channel a contact prefers to be reached by.
    PreferredChannel {
        Portal,
        Email,
        Sms,
        Letter,
        Phone,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_use_kebab_case_names() {
        assert_eq!(Channel::parse("field-visit"), Ok(Channel::FieldVisit));
        assert!(Channel::parse("field_visit").is_err());
        assert!(Channel::parse("Phone").is_err());
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Ok(*channel));
        }
        assert_eq!(Channel::ALL.len(), 9);
        assert_eq!(
            Channel::parse("fax").unwrap_err().0,
            "must be one of portal, phone, counter, email, sms, letter, video, social, field-visit"
        );
    }

    #[test]
    fn preferred_channels_round_trip() {
        for name in ["portal", "email", "sms", "letter", "phone"] {
            assert_eq!(PreferredChannel::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(
            PreferredChannel::parse("fax").unwrap_err().0,
            "must be one of portal, email, sms, letter, phone"
        );
    }

    #[test]
    fn a_subset_converts_to_and_from_the_channels() {
        for channel in Channel::ALL {
            match PreferredChannel::try_from(*channel) {
                Ok(preferred) => assert_eq!(Channel::from(preferred), *channel),
                Err(refused) => assert_eq!(refused, *channel),
            }
        }
        assert_eq!(
            PreferredChannel::parse("counter").unwrap_err().0,
            "must be one of portal, email, sms, letter, phone"
        );
        assert_eq!(
            PreferredChannel::try_from(Channel::FieldVisit),
            Err(Channel::FieldVisit)
        );
    }
}
