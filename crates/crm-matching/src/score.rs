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
