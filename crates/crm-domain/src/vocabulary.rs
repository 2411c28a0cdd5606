//! Closed vocabularies: fieldless enums spelled in kebab-case.

/// Defines a closed vocabulary: a fieldless enum with its kebab-case
/// spelling, `ALL` (in the order refusals list them), `parse` (the exact
/// spelling only), `as_str`, `Display`, `Serialize` and `Deserialize` (by
/// `parse`, so a request body's refusal names the field and the spellings).
#[macro_export]
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::Invalid> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::Invalid(format!(
                        "must be one of {}",
                        [$($text),+].join(", ")
                    ))),
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

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <String as $crate::__serde::Deserialize>::deserialize(d)?;
                Self::parse(&raw)
                    .map_err(|e| <D::Error as $crate::__serde::de::Error>::custom(e.0))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::vocabulary!(
        /// A test vocabulary.
        Size {
            Small => "small",
            /// Documented variants are allowed.
            ExtraLarge => "extra-large",
        }
    );

    #[test]
    fn names_round_trip_exactly() {
        for size in Size::ALL {
            assert_eq!(Size::parse(size.as_str()), Ok(*size));
            assert_eq!(size.to_string(), size.as_str());
        }
        assert_eq!(Size::parse("extra-large"), Ok(Size::ExtraLarge));
        assert_eq!(
            Size::parse(" small").unwrap_err().0,
            "must be one of small, extra-large"
        );
        assert!(Size::parse("Small").is_err());
    }

    #[test]
    fn deserialising_parses_and_names_the_spellings() {
        let size: Size = serde_json::from_str("\"extra-large\"").unwrap();
        assert_eq!(size, Size::ExtraLarge);
        let refused = serde_json::from_str::<Size>("\"huge\"").unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("must be one of small, extra-large")
        );
    }
}
