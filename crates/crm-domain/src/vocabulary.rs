//! Closed vocabularies: fieldless enums spelled in kebab-case.

/// Defines a closed vocabulary: a fieldless enum with its kebab-case
/// spelling, `ALL` (in the order refusals list them), `parse` (the exact
/// spelling only), `as_str`, `Display` and `Serialize`.
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
}
