//! Scoring a pair of contacts: are they the same customer?

use crate::profile::{MatchProfile, NameForm, PersonForm, Prepared};
use crm_domain::CalendarDate;
use serde::Serialize;

/// Candidates scoring below this are not returned. A name alone, however
/// similar, stays below it; a similar name with the same date of birth, or
/// the same name and postcode, reaches it.
pub const MATCH_THRESHOLD: f64 = 0.6;

// Weights of the evidence for people. A perfect fuzzy match (name, date of
// birth, postcode, sound) reaches 0.99: only a shared identifier scores 1.
const PERSON_NAME_WEIGHT: f64 = 0.5;
const SAME_DOB_WEIGHT: f64 = 0.35;
const NEAR_DOB_WEIGHT: f64 = 0.2;
/// A different date of birth is strong evidence of a different person (a
/// parent and child of the same name at the same address).
const DIFFERENT_DOB_WEIGHT: f64 = -0.3;
const PERSON_POSTCODE_WEIGHT: f64 = 0.1;
const PHONETIC_WEIGHT: f64 = 0.04;
/// Names less similar than this are not compared further unless they sound alike.
const PERSON_NAME_GATE: f64 = 0.8;
/// What a missing given name on one side leaves of the name evidence.
const ONE_NAME_FACTOR: f64 = 0.85;

// Organisations have no date of birth: the name carries more.
const ORGANISATION_NAME_WEIGHT: f64 = 0.75;
const ORGANISATION_POSTCODE_WEIGHT: f64 = 0.15;
const ORGANISATION_NAME_GATE: f64 = 0.85;

/// A possible match and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchCandidate {
    /// 1 for a shared identifier; otherwise the weighted fuzzy evidence, from
    /// [`MATCH_THRESHOLD`] to 0.99, to three decimals.
    pub score: f64,
    pub reasons: Vec<MatchReason>,
}

/// One piece of evidence, serialised as `{"rule": "same-email"}` or
/// `{"rule": "similar-name", "similarity": 0.93}`. Evidence against a match
/// (`different-date-of-birth`) is listed too, so that a reviewer sees why a
/// shared phone number may be a household rather than one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum MatchReason {
    SameEmail,
    SamePhone,
    SameAbn,
    SameAcn,
    SameIdentifier {
        scheme: String,
    },
    /// Jaro-Winkler similarity of the normalised names.
    SimilarName {
        similarity: f64,
    },
    /// The names match with given and family names swapped.
    SwappedNames,
    /// The names sound alike (Double Metaphone).
    PhoneticName,
    SimilarOrganisationName {
        similarity: f64,
    },
    SameDateOfBirth,
    NearDateOfBirth {
        difference: DateDifference,
    },
    DifferentDateOfBirth,
    SamePostcode,
}

impl MatchReason {
    /// The contact fields whose contents this evidence discloses, by the
    /// names of the contact record (`identifiers` holds ABNs and ACNs too).
    pub fn fields(&self) -> &'static [&'static str] {
        match self {
            Self::SameEmail => &["emails"],
            Self::SamePhone => &["phones"],
            Self::SameAbn | Self::SameAcn | Self::SameIdentifier { .. } => &["identifiers"],
            Self::SimilarName { .. } | Self::SwappedNames | Self::PhoneticName => {
                &["display_name", "given_name", "family_name"]
            }
            Self::SimilarOrganisationName { .. } => &["display_name", "organisation_name"],
            Self::SameDateOfBirth | Self::NearDateOfBirth { .. } | Self::DifferentDateOfBirth => {
                &["date_of_birth"]
            }
            Self::SamePostcode => &["postal_address", "residential_address"],
        }
    }
}

/// How two nearly equal dates of birth differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateDifference {
    DayMonthSwapped,
    OneDigit,
}

/// How `new` matches `existing`, if at all: a shared email, phone, ABN, ACN
/// or agency identifier scores 1; otherwise similar names with agreeing date
/// of birth and postcode score up to 0.99, and below [`MATCH_THRESHOLD`]
/// nothing is returned. Symmetric: `score(a, b) == score(b, a)`.
pub fn score(new: &MatchProfile, existing: &MatchProfile) -> Option<MatchCandidate> {
    let a = Prepared::new(new);
    let b = Prepared::new(existing);
    let mut reasons = shared_identifiers(&a, &b);
    let deterministic = !reasons.is_empty();
    let dates = compare_dates(a.date_of_birth, b.date_of_birth);
    let same_postcode = new.postcodes.iter().any(|p| existing.postcodes.contains(p));

    let person = a
        .person
        .as_ref()
        .zip(b.person.as_ref())
        .and_then(|(pa, pb)| person_evidence(pa, pb, dates, same_postcode));
    let organisation = a
        .organisation
        .as_ref()
        .zip(b.organisation.as_ref())
        .and_then(|(oa, ob)| organisation_evidence(oa, ob, same_postcode));
    let fuzzy = match (person, organisation) {
        (Some(p), Some(o)) => Some(if o.0 > p.0 { o } else { p }),
        (p, o) => p.or(o),
    };

    let score = match (deterministic, &fuzzy) {
        (true, _) => 1.0,
        (false, Some((fuzzy_score, _))) if *fuzzy_score >= MATCH_THRESHOLD => *fuzzy_score,
        _ => return None,
    };
    if let Some((_, fuzzy_reasons)) = fuzzy {
        reasons.extend(fuzzy_reasons);
    }
    if dates == DateAgreement::Different && !reasons.contains(&MatchReason::DifferentDateOfBirth) {
        reasons.push(MatchReason::DifferentDateOfBirth);
    }
    Some(MatchCandidate { score, reasons })
}

fn shared_identifiers(a: &Prepared<'_>, b: &Prepared<'_>) -> Vec<MatchReason> {
    let (pa, pb) = (a.profile, b.profile);
    let mut reasons = Vec::new();
    if a.emails.iter().any(|e| b.emails.contains(e)) {
        reasons.push(MatchReason::SameEmail);
    }
    if pa.phones.iter().any(|p| pb.phones.contains(p)) {
        reasons.push(MatchReason::SamePhone);
    }
    if pa.abn.is_some() && pa.abn == pb.abn {
        reasons.push(MatchReason::SameAbn);
    }
    if pa.acn.is_some() && pa.acn == pb.acn {
        reasons.push(MatchReason::SameAcn);
    }
    let mut schemes: Vec<&str> = pa
        .identifiers
        .iter()
        .filter(|id| pb.identifiers.contains(id))
        .map(|id| id.scheme())
        .collect();
    schemes.sort_unstable();
    schemes.dedup();
    reasons.extend(
        schemes
            .into_iter()
            .map(|scheme| MatchReason::SameIdentifier {
                scheme: scheme.to_string(),
            }),
    );
    reasons
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateAgreement {
    Same,
    Near(DateDifference),
    Different,
    Unknown,
}

fn compare_dates(a: Option<CalendarDate>, b: Option<CalendarDate>) -> DateAgreement {
    let (Some(a), Some(b)) = (a, b) else {
        return DateAgreement::Unknown;
    };
    if a == b {
        return DateAgreement::Same;
    }
    if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        return DateAgreement::Near(DateDifference::DayMonthSwapped);
    }
    let (da, db) = (a.to_string(), b.to_string());
    let differing = da.bytes().zip(db.bytes()).filter(|(x, y)| x != y).count();
    if differing == 1 {
        DateAgreement::Near(DateDifference::OneDigit)
    } else {
        DateAgreement::Different
    }
}

/// Jaro-Winkler similarity, with its arguments in a fixed order so that the
/// result does not depend on which contact is new.
fn similarity(a: &str, b: &str) -> f64 {
    if a <= b {
        strsim::jaro_winkler(a, b)
    } else {
        strsim::jaro_winkler(b, a)
    }
}

fn best_similarity(a: &[NameForm], b: &[NameForm]) -> f64 {
    a.iter()
        .flat_map(|x| b.iter().map(|y| similarity(&x.compact, &y.compact)))
        .fold(0.0, f64::max)
}

fn any_agree(a: &[NameForm], b: &[NameForm]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.codes.agree(&y.codes)))
}

type Evidence = (f64, Vec<MatchReason>);

fn person_evidence(
    a: &PersonForm,
    b: &PersonForm,
    dates: DateAgreement,
    same_postcode: bool,
) -> Option<Evidence> {
    let family = similarity(&a.family.compact, &b.family.compact);
    let family_sounds = a.family.codes.agree(&b.family.codes);
    let (mut name, mut sounds, mut swapped) = match (a.given.is_empty(), b.given.is_empty()) {
        (true, true) => (family, family_sounds, false),
        (false, false) => (
            (family + best_similarity(&a.given, &b.given)) / 2.0,
            family_sounds && any_agree(&a.given, &b.given),
            false,
        ),
        _ => (family * ONE_NAME_FACTOR, family_sounds, false),
    };
    if let (Some(ga), Some(gb)) = (a.given.first(), b.given.first()) {
        let crossed = (similarity(&a.family.compact, &gb.compact)
            + similarity(&ga.compact, &b.family.compact))
            / 2.0;
        if crossed > name {
            name = crossed;
            sounds = a.family.codes.agree(&gb.codes) && ga.codes.agree(&b.family.codes);
            swapped = true;
        }
    }
    if name < PERSON_NAME_GATE && !sounds {
        return None;
    }
    let mut total = PERSON_NAME_WEIGHT * name;
    let mut reasons = vec![MatchReason::SimilarName {
        similarity: round3(name),
    }];
    if swapped {
        reasons.push(MatchReason::SwappedNames);
    }
    if sounds {
        total += PHONETIC_WEIGHT;
        reasons.push(MatchReason::PhoneticName);
    }
    match dates {
        DateAgreement::Same => {
            total += SAME_DOB_WEIGHT;
            reasons.push(MatchReason::SameDateOfBirth);
        }
        DateAgreement::Near(difference) => {
            total += NEAR_DOB_WEIGHT;
            reasons.push(MatchReason::NearDateOfBirth { difference });
        }
        DateAgreement::Different => {
            total += DIFFERENT_DOB_WEIGHT;
            reasons.push(MatchReason::DifferentDateOfBirth);
        }
        DateAgreement::Unknown => {}
    }
    if same_postcode {
        total += PERSON_POSTCODE_WEIGHT;
        reasons.push(MatchReason::SamePostcode);
    }
    Some((round3(total.max(0.0)), reasons))
}

fn organisation_evidence(a: &NameForm, b: &NameForm, same_postcode: bool) -> Option<Evidence> {
    let name = similarity(&a.compact, &b.compact);
    let sounds = a.codes.agree(&b.codes);
    if name < ORGANISATION_NAME_GATE && !sounds {
        return None;
    }
    let mut total = ORGANISATION_NAME_WEIGHT * name;
    let mut reasons = vec![MatchReason::SimilarOrganisationName {
        similarity: round3(name),
    }];
    if sounds {
        total += PHONETIC_WEIGHT;
        reasons.push(MatchReason::PhoneticName);
    }
    if same_postcode {
        total += ORGANISATION_POSTCODE_WEIGHT;
        reasons.push(MatchReason::SamePostcode);
    }
    Some((round3(total), reasons))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{With, organisation, person};
    use MatchReason::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn scored(a: &MatchProfile, b: &MatchProfile) -> MatchCandidate {
        score(a, b).unwrap_or_else(|| panic!("no match:\n{a:?}\n{b:?}"))
    }

    fn similar_name(reasons: &[MatchReason]) -> f64 {
        reasons
            .iter()
            .find_map(|r| match r {
                SimilarName { similarity } | SimilarOrganisationName { similarity } => {
                    Some(*similarity)
                }
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn shared_identifiers_score_one() {
        let a = person("Ann", "Lee").email("Ann.Lee@Example.com");
        let b = person("Annie", "Li").email("ann.lee@example.COM");
        let candidate = scored(&a, &b);
        assert_eq!(candidate.score, 1.0);
        assert_eq!(candidate.reasons[0], SameEmail);

        let a = person("Ann", "Lee")
            .phone("0412 345 678")
            .identifier("medicare", "2123 45670 1 1");
        let b = person("Bob", "Brown")
            .phone("+61412345678")
            .identifier("Medicare", "21234567011");
        let candidate = scored(&a, &b);
        assert_eq!(candidate.score, 1.0);
        assert_eq!(
            candidate.reasons,
            [
                SamePhone,
                SameIdentifier {
                    scheme: "medicare".into()
                }
            ]
        );

        let a = organisation("Acme Pty Ltd").abn("51 824 753 556");
        let b = organisation("Widgets Australia").abn("51824753556");
        assert_eq!(scored(&a, &b).reasons, [SameAbn]);
    }

    #[test]
    fn a_shared_phone_with_a_different_birthday_says_so() {
        // Likely a household sharing a landline: still a candidate, with the doubt shown.
        let a = person("John", "Smith")
            .born("1950-03-01")
            .phone("(02) 6123 4567");
        let b = person("Jane", "Smith")
            .born("1952-07-09")
            .phone("02 6123 4567");
        let candidate = scored(&a, &b);
        assert_eq!(candidate.score, 1.0);
        assert_eq!(
            candidate.reasons,
            [
                SamePhone,
                SimilarName { similarity: 0.833 },
                PhoneticName,
                DifferentDateOfBirth
            ]
        );
    }

    #[test]
    fn typos_match() {
        let a = person("Jonathan", "Smith").born("1980-05-17");
        let b = person("Jonathon", "Smiht").born("1980-05-17");
        let candidate = scored(&a, &b);
        assert!(candidate.score > 0.8, "{candidate:?}");
        assert!(similar_name(&candidate.reasons) > 0.9);
        assert!(candidate.reasons.contains(&SameDateOfBirth));
    }

    #[test]
    fn swapped_given_and_family_names_match() {
        let a = person("John", "Smith").born("1980-05-17");
        let b = person("Smith", "John").born("1980-05-17");
        let candidate = scored(&a, &b);
        assert_eq!(
            candidate.reasons,
            [
                SimilarName { similarity: 1.0 },
                SwappedNames,
                PhoneticName,
                SameDateOfBirth
            ]
        );
        assert_eq!(candidate.score, 0.89);
    }

    #[test]
    fn diacritics_do_not_matter() {
        for (a, b) in [
            (("Zoë", "Smith"), ("Zoe", "Smith")),
            (("Anh", "Nguyễn"), ("Anh", "Nguyen")),
            (("Zoë", "Nguyễn"), ("ZOE", "NGUYEN")),
        ] {
            let x = person(a.0, a.1).born("1990-01-02");
            let y = person(b.0, b.1).born("1990-01-02");
            let candidate = scored(&x, &y);
            assert_eq!(similar_name(&candidate.reasons), 1.0, "{a:?} {b:?}");
            assert_eq!(candidate.score, 0.89);
        }
    }

    #[test]
    fn names_that_sound_alike_match() {
        let a = person("John", "Smith").born("1980-05-17");
        let b = person("John", "Smyth").born("1980-05-17");
        let candidate = scored(&a, &b);
        assert!(candidate.reasons.contains(&PhoneticName));
        assert!(candidate.score > 0.8);
        // Catherine and Kathryn are not close letter by letter, but sound alike.
        let a = person("Catherine", "Brown").born("1980-05-17");
        let b = person("Kathryn", "Brown").born("1980-05-17");
        let candidate = scored(&a, &b);
        assert!(candidate.reasons.contains(&PhoneticName), "{candidate:?}");
    }

    #[test]
    fn nearly_equal_birthdays_count_for_less() {
        let a = person("Mary", "Jones").born("1985-03-04").postcode("2600");
        let swapped = person("Mary", "Jones").born("1985-04-03").postcode("2600");
        let one_digit = person("Mary", "Jones").born("1986-03-04").postcode("2600");
        let same = person("Mary", "Jones").born("1985-03-04").postcode("2600");
        let candidate = scored(&a, &swapped);
        assert!(candidate.reasons.contains(&NearDateOfBirth {
            difference: DateDifference::DayMonthSwapped
        }));
        assert!(scored(&a, &one_digit).reasons.contains(&NearDateOfBirth {
            difference: DateDifference::OneDigit
        }));
        assert!(candidate.score < scored(&a, &same).score);
        assert_eq!(scored(&a, &same).score, 0.99);
    }

    #[test]
    fn a_name_and_postcode_without_a_birthday_is_a_candidate() {
        let a = person("Priya", "Raman").postcode("2612");
        let b = person("Priya", "Raman").postcode("2612");
        assert_eq!(
            scored(&a, &b),
            MatchCandidate {
                score: 0.64,
                reasons: vec![SimilarName { similarity: 1.0 }, PhoneticName, SamePostcode]
            }
        );
    }

    #[test]
    fn same_common_name_with_other_details_different_is_not_a_match() {
        let a = person("John", "Smith").born("1980-05-17").postcode("2600");
        let b = person("John", "Smith").born("1962-11-30").postcode("3000");
        assert_eq!(score(&a, &b), None);
        // A father and son of one name at one address.
        let son = person("John", "Smith").born("2004-08-21").postcode("2600");
        let father = person("John", "Smith").born("1971-02-13").postcode("2600");
        assert_eq!(score(&son, &father), None);
        // A name alone is not enough.
        assert_eq!(
            score(&person("John", "Smith"), &person("John", "Smith")),
            None
        );
        // Different people born the same day.
        let a = person("Ann", "Lee").born("1980-05-17");
        let b = person("Tom", "Walker").born("1980-05-17");
        assert_eq!(score(&a, &b), None);
    }

    #[test]
    fn a_preferred_name_is_compared_too() {
        let a = person("Robert", "Tan").preferred("Bob").born("1970-06-30");
        let b = person("Bob", "Tan").born("1970-06-30");
        assert_eq!(similar_name(&scored(&a, &b).reasons), 1.0);
    }

    #[test]
    fn one_name_people() {
        let a = person("", "Sukarno").born("1951-06-06");
        let b = person("", "Sukarno").born("1951-06-06");
        assert_eq!(scored(&a, &b).score, 0.89);
        // One side with a given name: the name counts for less.
        let c = person("Budi", "Sukarno").born("1951-06-06");
        assert!(scored(&a, &c).score < 0.89);
    }

    #[test]
    fn organisations_match_without_their_legal_form() {
        let a = organisation("ACME Pty Ltd").postcode("2000");
        let b = organisation("Acme Proprietary Limited").postcode("2000");
        let candidate = scored(&a, &b);
        assert_eq!(
            candidate.reasons,
            [
                SimilarOrganisationName { similarity: 1.0 },
                PhoneticName,
                SamePostcode
            ]
        );
        assert_eq!(candidate.score, 0.94);
        assert_eq!(
            scored(&organisation("Acme P/L"), &organisation("ACME")).score,
            0.79
        );
        assert_eq!(
            score(
                &organisation("Acme Pty Ltd"),
                &organisation("Zenith Pty Ltd")
            ),
            None
        );
        // A person and an organisation are not compared by name.
        assert_eq!(score(&person("Acme", "Acme").postcode("2000"), &a), None);
    }

    #[test]
    fn each_reason_names_the_fields_it_discloses() {
        for reason in [
            SameAbn,
            SameAcn,
            SameIdentifier {
                scheme: "crn".into(),
            },
        ] {
            assert_eq!(reason.fields(), ["identifiers"], "{reason:?}");
        }
        let near = NearDateOfBirth {
            difference: DateDifference::OneDigit,
        };
        for reason in [SameDateOfBirth, near, DifferentDateOfBirth] {
            assert_eq!(reason.fields(), ["date_of_birth"], "{reason:?}");
        }
        assert_eq!(SamePhone.fields(), ["phones"]);
    }

    #[test]
    fn reasons_serialise_as_rules() {
        let reasons = vec![
            SameEmail,
            SameIdentifier {
                scheme: "crn".into(),
            },
            SimilarName { similarity: 0.93 },
            NearDateOfBirth {
                difference: DateDifference::DayMonthSwapped,
            },
            DifferentDateOfBirth,
        ];
        assert_eq!(
            serde_json::to_value(MatchCandidate {
                score: 1.0,
                reasons
            })
            .unwrap(),
            json!({
                "score": 1.0,
                "reasons": [
                    {"rule": "same-email"},
                    {"rule": "same-identifier", "scheme": "crn"},
                    {"rule": "similar-name", "similarity": 0.93},
                    {"rule": "near-date-of-birth", "difference": "day-month-swapped"},
                    {"rule": "different-date-of-birth"},
                ]
            })
        );
    }

    /// Profiles drawn from small pools, so that pairs often share details.
    fn profiles() -> impl Strategy<Value = MatchProfile> {
        let given = prop::sample::select(vec![
            "",
            "John",
            "Jon",
            "Zoë",
            "Zoe",
            "Smith",
            "Catherine",
            "Kathryn",
            "李",
        ]);
        let family = prop::sample::select(vec![
            "Smith", "Smyth", "John", "Nguyễn", "Nguyen", "O'Brien", "Sukarno",
        ]);
        let organisation_name = prop::sample::select(vec![
            "ACME Pty Ltd",
            "Acme Proprietary Limited",
            "Zenith",
            "The Company",
        ]);
        let date = prop::sample::select(vec![
            "1980-05-17",
            "1980-05-18",
            "1980-17-05",
            "1981-05-17",
            "1962-11-30",
            "1980-04-05",
            "1980-05-04",
        ]);
        let postcode = prop::sample::select(vec!["2600", "2612", "3000"]);
        let email = prop::sample::select(vec![
            "ann@example.com",
            "ANN@example.com",
            "bob@example.com",
        ]);
        (
            any::<bool>(),
            given,
            family,
            organisation_name,
            prop::option::of(date),
            prop::collection::vec(postcode, 0..3),
            prop::option::of(email),
        )
            .prop_map(
                |(is_person, given, family, organisation_name, date, postcodes, email)| {
                    let mut profile = if is_person {
                        person(given, family)
                    } else {
                        organisation(organisation_name)
                    };
                    // Invalid dates in the pool (month 17) stand for an unknown date.
                    if let Some(date) = date.filter(|d| CalendarDate::parse(d).is_ok()) {
                        profile = profile.born(date);
                    }
                    for code in postcodes {
                        profile = profile.postcode(code);
                    }
                    if let Some(email) = email {
                        profile = profile.email(email);
                    }
                    profile
                },
            )
    }

    fn value(candidate: Option<MatchCandidate>) -> f64 {
        candidate.map_or(0.0, |c| c.score)
    }

    proptest! {
        #[test]
        fn score_is_symmetric(a in profiles(), b in profiles()) {
            prop_assert_eq!(score(&a, &b), score(&b, &a));
        }

        #[test]
        fn a_contact_matches_itself_best(a in profiles(), b in profiles()) {
            prop_assert!(value(score(&a, &b)) <= value(score(&a, &a)));
            if let Some(candidate) = score(&a, &b) {
                prop_assert!((MATCH_THRESHOLD..=1.0).contains(&candidate.score));
            }
        }
    }
}
