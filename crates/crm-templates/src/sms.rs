//! Text message length: which encoding a message needs and how many
//! fragments (billable parts) it takes.

/// Notify's limit on a text message, in characters (6 GSM-7 fragments).
pub const SMS_CHARACTER_LIMIT: usize = 918;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// GSM 03.38 default alphabet: 160 septets in one fragment, 153 each
    /// when split.
    Gsm7,
    /// Needed as soon as one character is outside GSM-7: 70 UTF-16 units
    /// in one fragment, 67 each when split.
    Ucs2,
}

/// How a message is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    pub encoding: SmsEncoding,
    /// UTF-16 units, as Notify counts characters for its limit.
    pub characters: usize,
    /// Fragments the message is sent in; 0 for an empty message.
    pub fragments: usize,
}

/// Septets a character takes in GSM-7: 1 in the default alphabet, 2 in the
/// extension table (escape + character), `None` if not encodable.
fn gsm7_septets(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{c}^{}\\[~]|€";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn sms_length(text: &str) -> SmsLength {
    let characters = text.encode_utf16().count();
    let septets: Option<usize> = text.chars().map(gsm7_septets).sum();
    let (encoding, units, single, part) = match septets {
        Some(septets) => (SmsEncoding::Gsm7, septets, 160, 153),
        None => (SmsEncoding::Ucs2, characters, 70, 67),
    };
    let fragments = match units {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    };
    SmsLength {
        encoding,
        characters,
        fragments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length(text: &str) -> (SmsEncoding, usize, usize) {
        let l = sms_length(text);
        (l.encoding, l.characters, l.fragments)
    }

    #[test]
    fn gsm7_boundaries_160_and_153() {
        assert_eq!(length(""), (SmsEncoding::Gsm7, 0, 0));
        assert_eq!(length(&"a".repeat(160)), (SmsEncoding::Gsm7, 160, 1));
        assert_eq!(length(&"a".repeat(161)), (SmsEncoding::Gsm7, 161, 2));
        assert_eq!(length(&"a".repeat(306)), (SmsEncoding::Gsm7, 306, 2));
        assert_eq!(length(&"a".repeat(307)), (SmsEncoding::Gsm7, 307, 3));
        assert_eq!(length(&"a".repeat(918)), (SmsEncoding::Gsm7, 918, 6));
    }

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(length(&"€".repeat(80)), (SmsEncoding::Gsm7, 80, 1));
        assert_eq!(
            length(&format!("{}€", "a".repeat(159))),
            (SmsEncoding::Gsm7, 160, 2)
        );
        assert_eq!(length("[]{}|~^\\"), (SmsEncoding::Gsm7, 8, 1));
    }

    #[test]
    fn accented_gsm_letters_stay_gsm7() {
        assert_eq!(length("Ça coûte"), (SmsEncoding::Ucs2, 8, 1)); // û is not GSM-7
        assert_eq!(length("Ça été à Ümeå"), (SmsEncoding::Gsm7, 13, 1));
    }

    #[test]
    fn ucs2_boundaries_70_and_67() {
        assert_eq!(length(&"ŵ".repeat(70)), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(length(&"ŵ".repeat(71)), (SmsEncoding::Ucs2, 71, 2));
        assert_eq!(length(&"ŵ".repeat(134)), (SmsEncoding::Ucs2, 134, 2));
        assert_eq!(length(&"ŵ".repeat(135)), (SmsEncoding::Ucs2, 135, 3));
    }

    #[test]
    fn one_non_gsm_character_switches_the_whole_message() {
        let text = format!("{}’", "a".repeat(69));
        assert_eq!(length(&text), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(length(&format!("{text}a")), (SmsEncoding::Ucs2, 71, 2));
    }

    #[test]
    fn emoji_count_as_two_utf16_units() {
        assert_eq!(length(&"😀".repeat(35)), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(length(&"😀".repeat(36)), (SmsEncoding::Ucs2, 72, 2));
    }
}
