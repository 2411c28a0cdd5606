//! Postal and residential addresses, Australian states and postcodes.
//!
//! Postcode ranges are Australia Post's allocation as tabulated in
//! "Postcodes in Australia" (Wikipedia, section "Australian states and
//! territories", checked 2026-11): delivery areas, and ranges reserved for
//! PO boxes and large-volume receivers (LVRs). The cross-border exceptions
//! below are the localities that Australia Post serves from a neighbouring
//! state's range.

use crate::country;
use crate::error::{FieldErrors, Invalid, invalid};
use crate::text::clean_bounded;
use std::fmt;
use std::ops::RangeInclusive;

/// A state or territory as Australia Post addresses it. Norfolk Island (NSW
/// 2899), Christmas Island (WA 6798) and the Cocos (Keeling) Islands (WA 6799)
/// are addressed with the state that sorts their mail; Jervis Bay Territory
/// has its own abbreviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AustralianState {
    Nsw,
    Vic,
    Qld,
    Wa,
    Sa,
    Tas,
    Act,
    Nt,
    Jbt,
}

const STATES: [(AustralianState, &str, &str); 9] = [
    (AustralianState::Nsw, "NSW", "New South Wales"),
    (AustralianState::Vic, "VIC", "Victoria"),
    (AustralianState::Qld, "QLD", "Queensland"),
    (AustralianState::Wa, "WA", "Western Australia"),
    (AustralianState::Sa, "SA", "South Australia"),
    (AustralianState::Tas, "TAS", "Tasmania"),
    (AustralianState::Act, "ACT", "Australian Capital Territory"),
    (AustralianState::Nt, "NT", "Northern Territory"),
    (AustralianState::Jbt, "JBT", "Jervis Bay Territory"),
];

impl AustralianState {
    /// The abbreviation or the full name, in any case.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        STATES
            .iter()
            .find(|(_, code, name)| {
                raw.eq_ignore_ascii_case(code) || raw.eq_ignore_ascii_case(name)
            })
            .map(|(state, _, _)| *state)
            .ok_or_else(|| invalid("must be one of NSW, VIC, QLD, WA, SA, TAS, ACT, NT, JBT"))
    }

    /// The abbreviation, e.g. `NSW`.
    pub fn as_str(self) -> &'static str {
        STATES
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("", |(_, code, _)| code)
    }

    pub fn name(self) -> &'static str {
        STATES
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("", |(_, _, name)| name)
    }
}

/// What a range of postcodes is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Delivery,
    PoBoxesAndLvrs,
}

use AustralianState::*;

const POSTCODE_RANGES: [(AustralianState, RangeInclusive<u16>, Use); 22] = [
    (Act, 200..=299, Use::PoBoxesAndLvrs),
    (Act, 2600..=2618, Use::Delivery),
    (Act, 2900..=2920, Use::Delivery),
    (Nsw, 1000..=1999, Use::PoBoxesAndLvrs),
    (Nsw, 2000..=2599, Use::Delivery),
    (Nsw, 2619..=2899, Use::Delivery),
    (Nsw, 2921..=2999, Use::Delivery),
    (Vic, 3000..=3999, Use::Delivery),
    (Vic, 8000..=8999, Use::PoBoxesAndLvrs),
    (Qld, 4000..=4999, Use::Delivery),
    (Qld, 9000..=9999, Use::PoBoxesAndLvrs),
    (Sa, 5000..=5799, Use::Delivery),
    (Sa, 5800..=5999, Use::PoBoxesAndLvrs),
    // 6798 and 6799 are Christmas Island and the Cocos (Keeling) Islands.
    (Wa, 6000..=6799, Use::Delivery),
    (Wa, 6800..=6999, Use::PoBoxesAndLvrs),
    (Tas, 7000..=7799, Use::Delivery),
    (Tas, 7800..=7999, Use::PoBoxesAndLvrs),
    (Nt, 800..=899, Use::Delivery),
    (Nt, 900..=999, Use::PoBoxesAndLvrs),
    (Jbt, 2540..=2540, Use::Delivery),
    // Mungindi QLD shares 2406 with Mungindi NSW.
    (Qld, 2406..=2406, Use::Delivery),
    // Oaks Estate ACT is served as part of Queanbeyan.
    (Act, 2620..=2620, Use::Delivery),
];

/// Localities served from a neighbouring state's range (besides those above).
const CROSS_BORDER: [(AustralianState, u16, &str); 7] = [
    (Nsw, 3500, "Paringi"),
    (Nsw, 3644, "Barooga"),
    (Nsw, 4380, "Mingoola"),
    (Nsw, 4383, "Jennings"),
    (Nsw, 4385, "Texas border"),
    // Remote communities of the APY Lands and the Ngaanyatjarra Lands get their
    // mail through Alice Springs.
    (Sa, 872, "APY Lands"),
    (Wa, 872, "Ngaanyatjarra Lands"),
];

/// An allocated Australian postcode (0200–0299 or 0800–9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Postcode(u16);

impl Postcode {
    /// Exactly four digits.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.len() != 4 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("must be 4 digits"));
        }
        let code: u16 = raw.parse().map_err(|_| invalid("must be 4 digits"))?;
        if !POSTCODE_RANGES
            .iter()
            .any(|(_, range, _)| range.contains(&code))
        {
            return Err(invalid(format!(
                "{raw} is not an Australian postcode (they run 0200–0299 and 0800–9999)"
            )));
        }
        Ok(Self(code))
    }

    /// Whether Australia Post allocates this postcode to `state`.
    pub fn belongs_to(self, state: AustralianState) -> bool {
        POSTCODE_RANGES
            .iter()
            .any(|(s, range, _)| *s == state && range.contains(&self.0))
            || CROSS_BORDER
                .iter()
                .any(|(s, code, _)| *s == state && *code == self.0)
    }

    /// Whether the postcode is reserved for PO boxes and large-volume
    /// receivers, so no one lives at it.
    pub fn is_po_boxes_only(self) -> bool {
        POSTCODE_RANGES
            .iter()
            .any(|(_, range, usage)| *usage == Use::PoBoxesAndLvrs && range.contains(&self.0))
    }

    fn ranges_text(state: AustralianState) -> String {
        let mut ranges: Vec<_> = POSTCODE_RANGES
            .iter()
            .filter(|(s, _, _)| *s == state)
            .map(|(_, range, _)| range)
            .collect();
        ranges.sort_by_key(|range| range.start());
        ranges
            .into_iter()
            .map(|range| {
                if range.start() == range.end() {
                    format!("{:04}", range.start())
                } else {
                    format!("{:04}–{:04}", range.start(), range.end())
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (`AU`, `NZ`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn australia() -> Self {
        Self("AU".to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "must be a two-letter ISO 3166 country code, e.g. AU",
            ));
        }
        // An unassigned code names nowhere mail can go.
        if country::name_of(&code).is_none() {
            return Err(invalid(format!("{code} is not an ISO 3166 country code")));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every country code there is, in code order.
    pub fn all() -> impl Iterator<Item = Self> {
        country::COUNTRIES
            .iter()
            .map(|(code, _)| Self((*code).to_string()))
    }

    /// Every country's English short name, in code order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        country::COUNTRIES.iter().map(|(_, name)| *name)
    }

    /// The country's English short name, as written on the last line of
    /// mail sent there (`New Zealand`).
    pub fn name(&self) -> &'static str {
        country::name_of(&self.0).expect("parsed codes are assigned")
    }

    pub fn is_australia(&self) -> bool {
        self.0 == "AU"
    }
}

/// Where mail goes, or where someone lives (no PO boxes, no PO-box postcodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    Postal,
    Residential,
}

/// An address as typed, before checking.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddressInput<'a> {
    pub lines: &'a [String],
    pub locality: &'a str,
    pub state: Option<&'a str>,
    pub postcode: Option<&'a str>,
    /// ISO 3166-1 alpha-2; `AU` when absent.
    pub country: Option<&'a str>,
}

/// The part of an address after the locality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Region {
    Australia {
        state: AustralianState,
        postcode: Postcode,
    },
    Overseas {
        country: CountryCode,
        region: Option<String>,
        postal_code: Option<String>,
    },
}

/// A checked address: 1 to 3 lines, a locality, and a state and postcode that
/// agree (Australia) or a country with optional region and postal code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    kind: AddressKind,
    lines: Vec<String>,
    locality: String,
    region: Region,
}

const MAX_LINES: usize = 3;
const LINE_MAX: usize = 80;
const LOCALITY_MAX: usize = 60;
const REGION_MAX: usize = 60;
const POSTAL_CODE_MAX: usize = 12;

/// Line starts that name a PO box or a bag rather than a place (after
/// upper-casing and dropping full stops).
const PO_BOX_STARTS: [&str; 8] = [
    "PO BOX",
    "GPO BOX",
    "POBOX",
    "LOCKED BAG",
    "PRIVATE BAG",
    "PARCEL LOCKER",
    "CARE PO",
    "POSTE RESTANTE",
];

impl Address {
    /// Field names in errors: `lines`, `lines[i]`, `locality`, `state`,
    /// `postcode`, `country`.
    pub fn parse(input: AddressInput<'_>, kind: AddressKind) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut lines = Vec::with_capacity(input.lines.len());
        if input.lines.is_empty() || input.lines.len() > MAX_LINES {
            errors.check::<()>(
                "lines",
                Err(invalid(format!("must have 1 to {MAX_LINES} lines"))),
            );
        }
        for (i, raw) in input.lines.iter().enumerate() {
            let line = clean_bounded(raw, LINE_MAX).and_then(|line| {
                if kind == AddressKind::Residential && names_po_box(&line) {
                    Err(invalid(
                        "a residential address cannot be a PO box or bag; give where the person lives",
                    ))
                } else {
                    Ok(line)
                }
            });
            lines.extend(errors.check(&format!("lines[{i}]"), line));
        }
        let locality = errors.check("locality", clean_bounded(input.locality, LOCALITY_MAX));
        let country = errors.check(
            "country",
            input
                .country
                .map_or(Ok(CountryCode::australia()), CountryCode::parse),
        );
        let region = match country {
            Some(country) if country.is_australia() => australian_region(&input, kind, &mut errors),
            Some(country) => overseas_region(&input, country, &mut errors),
            None => None,
        };
        let (Some(locality), Some(region), true) = (locality, region, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Self {
            kind,
            lines,
            locality,
            region,
        })
    }

    pub fn kind(&self) -> AddressKind {
        self.kind
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn locality(&self) -> &str {
        &self.locality
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    /// `AU` or the overseas country's code.
    pub fn country(&self) -> &str {
        match &self.region {
            Region::Australia { .. } => "AU",
            Region::Overseas { country, .. } => country.as_str(),
        }
    }

    pub fn postcode(&self) -> Option<Postcode> {
        match self.region {
            Region::Australia { postcode, .. } => Some(postcode),
            Region::Overseas { .. } => None,
        }
    }
}

fn names_po_box(line: &str) -> bool {
    let upper = line.to_uppercase().replace('.', "");
    PO_BOX_STARTS.iter().any(|start| upper.starts_with(start))
}

fn australian_region(
    input: &AddressInput<'_>,
    kind: AddressKind,
    errors: &mut FieldErrors,
) -> Option<Region> {
    let state = errors.check(
        "state",
        required(input.state).and_then(AustralianState::parse),
    );
    let postcode = errors.check(
        "postcode",
        required(input.postcode).and_then(Postcode::parse),
    )?;
    if kind == AddressKind::Residential && postcode.is_po_boxes_only() {
        errors.check::<()>(
            "postcode",
            Err(invalid(format!(
                "{postcode} is reserved for PO boxes and large-volume receivers; a residential address needs the postcode of where the person lives"
            ))),
        );
        return None;
    }
    let state = state?;
    if !postcode.belongs_to(state) {
        errors.check::<()>(
            "postcode",
            Err(invalid(format!(
                "{postcode} is outside {}'s postcodes ({})",
                state.as_str(),
                Postcode::ranges_text(state)
            ))),
        );
        return None;
    }
    Some(Region::Australia { state, postcode })
}

fn required(value: Option<&str>) -> Result<&str, Invalid> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| invalid("is required for an Australian address"))
}

fn overseas_region(
    input: &AddressInput<'_>,
    country: CountryCode,
    errors: &mut FieldErrors,
) -> Option<Region> {
    let optional = |value: Option<&str>, max| {
        value
            .filter(|v| !v.trim().is_empty())
            .map(|v| clean_bounded(v, max))
            .transpose()
    };
    let region = errors.check("state", optional(input.state, REGION_MAX));
    let postal_code = errors.check(
        "postcode",
        optional(input.postcode, POSTAL_CODE_MAX).and_then(|code| match code {
            Some(code)
                if !code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') =>
            {
                Err(invalid(
                    "must contain only letters, digits, spaces and hyphens",
                ))
            }
            code => Ok(code.map(|c| c.to_ascii_uppercase())),
        }),
    );
    Some(Region::Overseas {
        country,
        region: region?,
        postal_code: postal_code?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postcode(raw: &str) -> Postcode {
        Postcode::parse(raw).unwrap()
    }

    #[test]
    fn states_parse_by_abbreviation_or_name() {
        assert_eq!(AustralianState::parse("nsw").unwrap(), Nsw);
        assert_eq!(AustralianState::parse(" Victoria ").unwrap(), Vic);
        assert_eq!(
            AustralianState::parse("JBT").unwrap().name(),
            "Jervis Bay Territory"
        );
        for (state, code, _) in STATES {
            assert_eq!(AustralianState::parse(code).unwrap(), state);
            assert_eq!(state.as_str(), code);
        }
        assert_eq!(
            AustralianState::parse("N.S.W.").unwrap_err().0,
            "must be one of NSW, VIC, QLD, WA, SA, TAS, ACT, NT, JBT"
        );
    }

    #[test]
    fn postcodes_are_allocated_four_digit_numbers() {
        assert_eq!(postcode("0200").to_string(), "0200");
        assert_eq!(postcode("0800").to_string(), "0800");
        for bad in ["200", "02000", "2 600", "abcd", "", "２６００"] {
            assert_eq!(
                Postcode::parse(bad).unwrap_err().0,
                "must be 4 digits",
                "{bad}"
            );
        }
        for unallocated in ["0000", "0199", "0300", "0799"] {
            assert_eq!(
                Postcode::parse(unallocated).unwrap_err().0,
                format!(
                    "{unallocated} is not an Australian postcode (they run 0200–0299 and 0800–9999)"
                )
            );
        }
    }

    #[test]
    fn postcode_ranges_follow_state_boundaries() {
        let cases = [
            ("0200", Act, true),
            ("0299", Act, true),
            ("2600", Act, true),
            ("2618", Act, true),
            ("2619", Act, false),
            ("2619", Nsw, true),
            ("2899", Nsw, true), // Norfolk Island
            ("2900", Act, true),
            ("2920", Act, true),
            ("2921", Act, false),
            ("2921", Nsw, true),
            ("2599", Nsw, true),
            ("2600", Nsw, false),
            ("1000", Nsw, true),
            ("0800", Nt, true),
            ("0999", Nt, true),
            ("0800", Act, false),
            ("3000", Vic, true),
            ("8999", Vic, true),
            ("3000", Nsw, false),
            ("4000", Qld, true),
            ("9999", Qld, true),
            ("5000", Sa, true),
            ("5999", Sa, true),
            ("6000", Wa, true),
            ("6797", Wa, true),
            ("6798", Wa, true), // Christmas Island
            ("6799", Wa, true), // Cocos (Keeling) Islands
            ("6999", Wa, true),
            ("7000", Tas, true),
            ("7151", Tas, true), // Antarctic bases
            ("7999", Tas, true),
            ("2540", Jbt, true),
            ("2540", Nsw, true),
            ("2541", Jbt, false),
            ("2620", Act, true), // Oaks Estate
            ("2406", Qld, true), // Mungindi
            ("4383", Nsw, true), // Jennings
            ("0872", Sa, true),
            ("0872", Wa, true),
            ("0873", Sa, false),
        ];
        for (code, state, expected) in cases {
            assert_eq!(
                postcode(code).belongs_to(state),
                expected,
                "{code} {state:?}"
            );
        }
    }

    #[test]
    fn po_box_postcodes_are_known() {
        for code in [
            "0200", "0900", "1000", "1999", "5800", "6800", "7800", "8000", "9999",
        ] {
            assert!(postcode(code).is_po_boxes_only(), "{code}");
        }
        for code in [
            "0800", "2000", "2600", "5799", "6799", "7799", "3999", "4999",
        ] {
            assert!(!postcode(code).is_po_boxes_only(), "{code}");
        }
    }

    fn lines(lines: &[&str]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    fn fields(errors: &FieldErrors) -> Vec<(&str, &str)> {
        errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.reason.as_str()))
            .collect()
    }

    #[test]
    fn australian_addresses() {
        let lines = lines(&["Unit 3", "  10   Northbourne Ave "]);
        let address = Address::parse(
            AddressInput {
                lines: &lines,
                locality: "Braddon",
                state: Some("act"),
                postcode: Some("2612"),
                country: None,
            },
            AddressKind::Residential,
        )
        .unwrap();
        assert_eq!(address.lines(), ["Unit 3", "10 Northbourne Ave"]);
        assert_eq!(address.locality(), "Braddon");
        assert_eq!(address.country(), "AU");
        assert_eq!(address.postcode(), Some(postcode("2612")));
        assert_eq!(
            address.region(),
            &Region::Australia {
                state: Act,
                postcode: postcode("2612")
            }
        );
    }

    #[test]
    fn australian_address_refusals_name_fields() {
        let one_line = lines(&["1 Main St"]);
        let errors = Address::parse(
            AddressInput {
                lines: &one_line,
                locality: "Queanbeyan",
                state: Some("ACT"),
                postcode: Some("2621"),
                country: None,
            },
            AddressKind::Postal,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [(
                "postcode",
                "2621 is outside ACT's postcodes (0200–0299, 2600–2618, 2620, 2900–2920)"
            )]
        );

        let errors = Address::parse(
            AddressInput {
                lines: &[],
                locality: " ",
                state: None,
                postcode: Some("0123"),
                country: Some("AU"),
            },
            AddressKind::Postal,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                ("lines", "must have 1 to 3 lines"),
                ("locality", "must not be empty"),
                ("state", "is required for an Australian address"),
                (
                    "postcode",
                    "0123 is not an Australian postcode (they run 0200–0299 and 0800–9999)"
                ),
            ]
        );
    }

    #[test]
    fn residential_addresses_are_places() {
        let po_box = lines(&["P.O. Box 123"]);
        let input = AddressInput {
            lines: &po_box,
            locality: "Canberra",
            state: Some("ACT"),
            postcode: Some("2601"),
            country: None,
        };
        assert!(Address::parse(input, AddressKind::Postal).is_ok());
        let errors = Address::parse(input, AddressKind::Residential).unwrap_err();
        assert_eq!(
            fields(&errors),
            [(
                "lines[0]",
                "a residential address cannot be a PO box or bag; give where the person lives"
            )]
        );

        let street = lines(&["1 Martin Pl"]);
        let input = AddressInput {
            lines: &street,
            locality: "Sydney",
            state: Some("NSW"),
            postcode: Some("1100"),
            country: None,
        };
        assert!(Address::parse(input, AddressKind::Postal).is_ok());
        assert_eq!(
            fields(&Address::parse(input, AddressKind::Residential).unwrap_err()),
            [(
                "postcode",
                "1100 is reserved for PO boxes and large-volume receivers; a residential address needs the postcode of where the person lives"
            )]
        );
    }

    #[test]
    fn overseas_addresses() {
        let street = lines(&["1 Queen St"]);
        let address = Address::parse(
            AddressInput {
                lines: &street,
                locality: "Auckland",
                state: None,
                postcode: Some("1010"),
                country: Some("nz"),
            },
            AddressKind::Residential,
        )
        .unwrap();
        assert_eq!(address.country(), "NZ");
        assert_eq!(CountryCode::parse("nz").unwrap().name(), "New Zealand");
        assert_eq!(
            CountryCode::parse("ZZ").unwrap_err().to_string(),
            "ZZ is not an ISO 3166 country code"
        );
        assert_eq!(address.postcode(), None);
        assert_eq!(
            address.region(),
            &Region::Overseas {
                country: CountryCode::parse("NZ").unwrap(),
                region: None,
                postal_code: Some("1010".to_string())
            }
        );
        let errors = Address::parse(
            AddressInput {
                lines: &street,
                locality: "London",
                state: None,
                postcode: Some("SW1A 1AA!"),
                country: Some("United Kingdom"),
            },
            AddressKind::Postal,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [(
                "country",
                "must be a two-letter ISO 3166 country code, e.g. AU"
            )]
        );
        let errors = Address::parse(
            AddressInput {
                lines: &street,
                locality: "London",
                state: None,
                postcode: Some("SW1A 1AA!"),
                country: Some("GB"),
            },
            AddressKind::Postal,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [(
                "postcode",
                "must contain only letters, digits, spaces and hyphens"
            )]
        );
    }
}
