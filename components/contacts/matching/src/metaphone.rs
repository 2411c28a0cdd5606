//! Double Metaphone (Lawrence Philips, 2000), as Apache Commons Codec
//! implements it: a primary and an alternate phonetic code for a name, built
//! for names of English, Germanic, Slavic, Romance, Greek and Chinese origin.
//!
//! Written here rather than taken from a crate: the maintained Rust port
//! (`rphonetic`) brings `regex`, `nom` and the Beider-Morse rule files into
//! every component that links it, for the one algorithm used here.

/// The two codes of a word; equal when the word has one likely pronunciation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneticCodes {
    pub primary: String,
    pub alternate: String,
}

impl PhoneticCodes {
    /// Whether the two words may sound alike: any of their codes agree.
    pub fn agree(&self, other: &Self) -> bool {
        !self.primary.is_empty()
            && (self.primary == other.primary
                || self.primary == other.alternate
                || self.alternate == other.primary
                || self.alternate == other.alternate)
    }
}

/// The Double Metaphone codes of `word`, each at most `max_len` characters.
/// Only ASCII letters and spaces count; callers fold diacritics first.
pub fn double_metaphone(word: &str, max_len: usize) -> PhoneticCodes {
    let letters: Vec<u8> = word
        .bytes()
        .filter(|b| b.is_ascii_alphabetic() || *b == b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    let trimmed = letters.trim_ascii();
    let mut codes = Codes {
        primary: String::new(),
        alternate: String::new(),
        max_len,
    };
    if trimmed.is_empty() {
        return codes.finish();
    }
    let w = Word(trimmed);
    let slavo_germanic =
        w.contains(b"W") || w.contains(b"K") || w.contains(b"CZ") || w.contains(b"WITZ");
    let mut i: isize = if w.has(0, &["GN", "KN", "PN", "WR", "PS"]) {
        1
    } else {
        0
    };
    while !codes.complete() && i < w.len() {
        i = match w.at(i) {
            b'A' | b'E' | b'I' | b'O' | b'U' | b'Y' => {
                if i == 0 {
                    codes.add("A");
                }
                i + 1
            }
            b'B' => {
                codes.add("P");
                w.skip_double(i, b'B')
            }
            b'C' => handle_c(&w, &mut codes, i),
            b'D' => handle_d(&w, &mut codes, i),
            b'F' => {
                codes.add("F");
                w.skip_double(i, b'F')
            }
            b'G' => handle_g(&w, &mut codes, i, slavo_germanic),
            b'H' => handle_h(&w, &mut codes, i),
            b'J' => handle_j(&w, &mut codes, i, slavo_germanic),
            b'K' => {
                codes.add("K");
                w.skip_double(i, b'K')
            }
            b'L' => handle_l(&w, &mut codes, i),
            b'M' => {
                codes.add("M");
                if condition_m0(&w, i) { i + 2 } else { i + 1 }
            }
            b'N' => {
                codes.add("N");
                w.skip_double(i, b'N')
            }
            b'P' => handle_p(&w, &mut codes, i),
            b'Q' => {
                codes.add("K");
                w.skip_double(i, b'Q')
            }
            b'R' => handle_r(&w, &mut codes, i, slavo_germanic),
            b'S' => handle_s(&w, &mut codes, i, slavo_germanic),
            b'T' => handle_t(&w, &mut codes, i),
            b'V' => {
                codes.add("F");
                w.skip_double(i, b'V')
            }
            b'W' => handle_w(&w, &mut codes, i),
            b'X' => handle_x(&w, &mut codes, i),
            b'Z' => handle_z(&w, &mut codes, i, slavo_germanic),
            _ => i + 1,
        };
    }
    codes.finish()
}

/// The word being encoded: upper-case ASCII letters and spaces.
struct Word<'a>(&'a [u8]);

impl Word<'_> {
    fn len(&self) -> isize {
        self.0.len() as isize
    }

    /// The letter at `i`, or 0 outside the word.
    fn at(&self, i: isize) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.0.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Whether one of `options` (all of one length) starts at `start`.
    fn has(&self, start: isize, options: &[&str]) -> bool {
        let len = options[0].len();
        usize::try_from(start)
            .ok()
            .and_then(|s| self.0.get(s..s + len))
            .is_some_and(|slice| options.iter().any(|o| o.as_bytes() == slice))
    }

    fn contains(&self, needle: &[u8]) -> bool {
        self.0.windows(needle.len()).any(|w| w == needle)
    }

    fn is_vowel(&self, i: isize) -> bool {
        matches!(self.at(i), b'A' | b'E' | b'I' | b'O' | b'U' | b'Y')
    }

    /// The index after `letter` at `i`, skipping a doubled one.
    fn skip_double(&self, i: isize, letter: u8) -> isize {
        if self.at(i + 1) == letter {
            i + 2
        } else {
            i + 1
        }
    }

    fn last(&self) -> isize {
        self.len() - 1
    }
}

struct Codes {
    primary: String,
    alternate: String,
    max_len: usize,
}

impl Codes {
    fn add(&mut self, both: &str) {
        self.add2(both, both);
    }

    fn add2(&mut self, primary: &str, alternate: &str) {
        self.add_primary(primary);
        self.add_alternate(alternate);
    }

    fn add_primary(&mut self, code: &str) {
        let room = self.max_len.saturating_sub(self.primary.len());
        self.primary.push_str(&code[..code.len().min(room)]);
    }

    fn add_alternate(&mut self, code: &str) {
        let room = self.max_len.saturating_sub(self.alternate.len());
        self.alternate.push_str(&code[..code.len().min(room)]);
    }

    fn complete(&self) -> bool {
        self.primary.len() >= self.max_len && self.alternate.len() >= self.max_len
    }

    fn finish(self) -> PhoneticCodes {
        PhoneticCodes {
            primary: self.primary,
            alternate: self.alternate,
        }
    }
}

fn handle_c(w: &Word, c: &mut Codes, i: isize) -> isize {
    if condition_c0(w, i) {
        c.add("K");
        i + 2
    } else if i == 0 && w.has(i, &["CAESAR"]) {
        c.add("S");
        i + 2
    } else if w.has(i, &["CH"]) {
        handle_ch(w, c, i)
    } else if w.has(i, &["CZ"]) && !w.has(i - 2, &["WICZ"]) {
        // "Czerny"
        c.add2("S", "X");
        i + 2
    } else if w.has(i + 1, &["CIA"]) {
        // "focaccia"
        c.add("X");
        i + 3
    } else if w.has(i, &["CC"]) && !(i == 1 && w.at(0) == b'M') {
        // double "cc" but not "McClelland"
        handle_cc(w, c, i)
    } else if w.has(i, &["CK", "CG", "CQ"]) {
        c.add("K");
        i + 2
    } else if w.has(i, &["CI", "CE", "CY"]) {
        // Italian vs. English
        if w.has(i, &["CIO", "CIE", "CIA"]) {
            c.add2("S", "X");
        } else {
            c.add("S");
        }
        i + 2
    } else {
        c.add("K");
        if w.has(i + 1, &[" C", " Q", " G"]) {
            // "Mac Caffrey", "Mac Gregor"
            i + 3
        } else if w.has(i + 1, &["C", "K", "Q"]) && !w.has(i + 1, &["CE", "CI"]) {
            i + 2
        } else {
            i + 1
        }
    }
}

fn handle_cc(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.has(i + 2, &["I", "E", "H"]) && !w.has(i + 2, &["HU"]) {
        // "bellocchio" but not "bacchus"
        if (i == 1 && w.at(i - 1) == b'A') || w.has(i - 1, &["UCCEE", "UCCES"]) {
            // "accident", "accede", "succeed"
            c.add("KS");
        } else {
            // "bacci", "bertucci", other Italian
            c.add("X");
        }
        i + 3
    } else {
        // Pierce's rule
        c.add("K");
        i + 2
    }
}

fn handle_ch(w: &Word, c: &mut Codes, i: isize) -> isize {
    if i > 0 && w.has(i, &["CHAE"]) {
        // "Michael"
        c.add2("K", "X");
    } else if condition_ch0(w, i) || condition_ch1(w, i) {
        // Greek roots ("chemistry", "chorus"), Germanic "ch" for "kh"
        c.add("K");
    } else if i > 0 {
        if w.has(0, &["MC"]) {
            c.add("K");
        } else {
            c.add2("X", "K");
        }
    } else {
        c.add("X");
    }
    i + 2
}

fn handle_d(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.has(i, &["DG"]) {
        if w.has(i + 2, &["I", "E", "Y"]) {
            // "edge"
            c.add("J");
            i + 3
        } else {
            // "edgar"
            c.add("TK");
            i + 2
        }
    } else if w.has(i, &["DT", "DD"]) {
        c.add("T");
        i + 2
    } else {
        c.add("T");
        i + 1
    }
}

fn handle_g(w: &Word, c: &mut Codes, i: isize, slavo_germanic: bool) -> isize {
    if w.at(i + 1) == b'H' {
        handle_gh(w, c, i)
    } else if w.at(i + 1) == b'N' {
        if i == 1 && w.is_vowel(0) && !slavo_germanic {
            c.add2("KN", "N");
        } else if !w.has(i + 2, &["EY"]) && w.at(i + 1) != b'Y' && !slavo_germanic {
            c.add2("N", "KN");
        } else {
            c.add("KN");
        }
        i + 2
    } else if w.has(i + 1, &["LI"]) && !slavo_germanic {
        c.add2("KL", "L");
        i + 2
    } else if i == 0
        && (w.at(i + 1) == b'Y'
            || w.has(
                i + 1,
                &[
                    "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER",
                ],
            ))
    {
        // -ges-, -gep-, -gel-, -gie- at the beginning
        c.add2("K", "J");
        i + 2
    } else if (w.has(i + 1, &["ER"]) || w.at(i + 1) == b'Y')
        && !w.has(0, &["DANGER", "RANGER", "MANGER"])
        && !w.has(i - 1, &["E", "I"])
        && !w.has(i - 1, &["RGY", "OGY"])
    {
        // -ger-, -gy-
        c.add2("K", "J");
        i + 2
    } else if w.has(i + 1, &["E", "I", "Y"]) || w.has(i - 1, &["AGGI", "OGGI"]) {
        // Italian "biaggi"
        if w.has(0, &["VAN ", "VON "]) || w.has(0, &["SCH"]) || w.has(i + 1, &["ET"]) {
            // obviously Germanic
            c.add("K");
        } else if w.has(i + 1, &["IER"]) {
            c.add("J");
        } else {
            c.add2("J", "K");
        }
        i + 2
    } else if w.at(i + 1) == b'G' {
        c.add("K");
        i + 2
    } else {
        c.add("K");
        i + 1
    }
}

fn handle_gh(w: &Word, c: &mut Codes, i: isize) -> isize {
    if i > 0 && !w.is_vowel(i - 1) {
        c.add("K");
    } else if i == 0 {
        if w.at(i + 2) == b'I' {
            c.add("J");
        } else {
            c.add("K");
        }
    } else if (i > 1 && w.has(i - 2, &["B", "H", "D"]))
        || (i > 2 && w.has(i - 3, &["B", "H", "D"]))
        || (i > 3 && w.has(i - 4, &["B", "H"]))
    {
        // Parker's rule (with some further refinements): "hugh"
    } else if i > 2 && w.at(i - 1) == b'U' && w.has(i - 3, &["C", "G", "L", "R", "T"]) {
        // "laugh", "McLaughlin", "cough", "gough", "rough", "tough"
        c.add("F");
    } else if i > 0 && w.at(i - 1) != b'I' {
        c.add("K");
    }
    i + 2
}

fn handle_h(w: &Word, c: &mut Codes, i: isize) -> isize {
    // Kept only when first and before a vowel, or between two vowels.
    if (i == 0 || w.is_vowel(i - 1)) && w.is_vowel(i + 1) {
        c.add("H");
        i + 2
    } else {
        i + 1
    }
}

fn handle_j(w: &Word, c: &mut Codes, i: isize, slavo_germanic: bool) -> isize {
    if w.has(i, &["JOSE"]) || w.has(0, &["SAN "]) {
        // obviously Spanish: "Jose", "San Jacinto"
        if (i == 0 && w.at(i + 4) == b' ') || w.len() == 4 || w.has(0, &["SAN "]) {
            c.add("H");
        } else {
            c.add2("J", "H");
        }
        return i + 1;
    }
    if i == 0 {
        c.add2("J", "A");
    } else if w.is_vowel(i - 1) && !slavo_germanic && matches!(w.at(i + 1), b'A' | b'O') {
        c.add2("J", "H");
    } else if i == w.last() {
        c.add2("J", " ");
    } else if !w.has(i + 1, &["L", "T", "K", "S", "N", "M", "B", "Z"])
        && !w.has(i - 1, &["S", "K", "L"])
    {
        c.add("J");
    }
    w.skip_double(i, b'J')
}

fn handle_l(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.at(i + 1) == b'L' {
        if condition_l0(w, i) {
            c.add_primary("L");
        } else {
            c.add("L");
        }
        i + 2
    } else {
        c.add("L");
        i + 1
    }
}

fn handle_p(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.at(i + 1) == b'H' {
        c.add("F");
        i + 2
    } else {
        c.add("P");
        if w.has(i + 1, &["P", "B"]) {
            i + 2
        } else {
            i + 1
        }
    }
}

fn handle_r(w: &Word, c: &mut Codes, i: isize, slavo_germanic: bool) -> isize {
    // French "Rogier": the final R is silent in the primary code.
    if i == w.last() && !slavo_germanic && w.has(i - 2, &["IE"]) && !w.has(i - 4, &["ME", "MA"]) {
        c.add_alternate("R");
    } else {
        c.add("R");
    }
    w.skip_double(i, b'R')
}

fn handle_s(w: &Word, c: &mut Codes, i: isize, slavo_germanic: bool) -> isize {
    if w.has(i - 1, &["ISL", "YSL"]) {
        // "island", "isle", "carlisle", "carlysle"
        i + 1
    } else if i == 0 && w.has(i, &["SUGAR"]) {
        c.add2("X", "S");
        i + 1
    } else if w.has(i, &["SH"]) {
        if w.has(i + 1, &["HEIM", "HOEK", "HOLM", "HOLZ"]) {
            // Germanic
            c.add("S");
        } else {
            c.add("X");
        }
        i + 2
    } else if w.has(i, &["SIO", "SIA"]) || w.has(i, &["SIAN"]) {
        // Italian and Armenian
        if slavo_germanic {
            c.add("S");
        } else {
            c.add2("S", "X");
        }
        i + 3
    } else if (i == 0 && w.has(i + 1, &["M", "N", "L", "W"])) || w.has(i + 1, &["Z"]) {
        // German and anglicisations: "Smith" matches "Schmidt", "Snider"
        // matches "Schneider"; also Slavic -sz-.
        c.add2("S", "X");
        if w.has(i + 1, &["Z"]) { i + 2 } else { i + 1 }
    } else if w.has(i, &["SC"]) {
        handle_sc(w, c, i)
    } else {
        if i == w.last() && w.has(i - 2, &["AI", "OI"]) {
            // French "Resnais", "Artois"
            c.add_alternate("S");
        } else {
            c.add("S");
        }
        if w.has(i + 1, &["S", "Z"]) {
            i + 2
        } else {
            i + 1
        }
    }
}

fn handle_sc(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.at(i + 2) == b'H' {
        // Schlesinger's rule
        if w.has(i + 3, &["OO", "ER", "EN", "UY", "ED", "EM"]) {
            // Dutch origin: "school", "schooner"
            if w.has(i + 3, &["ER", "EN"]) {
                // "Schermerhorn", "Schenker"
                c.add2("X", "SK");
            } else {
                c.add("SK");
            }
        } else if i == 0 && !w.is_vowel(3) && w.at(3) != b'W' {
            c.add2("X", "S");
        } else {
            c.add("X");
        }
    } else if w.has(i + 2, &["I", "E", "Y"]) {
        c.add("S");
    } else {
        c.add("SK");
    }
    i + 3
}

fn handle_t(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.has(i, &["TION"]) || w.has(i, &["TIA", "TCH"]) {
        c.add("X");
        i + 3
    } else if w.has(i, &["TH"]) || w.has(i, &["TTH"]) {
        if w.has(i + 2, &["OM", "AM"]) || w.has(0, &["VAN ", "VON "]) || w.has(0, &["SCH"]) {
            // "Thomas", "Thames", or Germanic
            c.add("T");
        } else {
            c.add2("0", "T");
        }
        i + 2
    } else {
        c.add("T");
        if w.has(i + 1, &["T", "D"]) {
            i + 2
        } else {
            i + 1
        }
    }
}

fn handle_w(w: &Word, c: &mut Codes, i: isize) -> isize {
    if w.has(i, &["WR"]) {
        // can also be in the middle of a word
        c.add("R");
        return i + 2;
    }
    if i == 0 && (w.is_vowel(i + 1) || w.has(i, &["WH"])) {
        if w.is_vowel(i + 1) {
            // "Wasserman" should match "Vasserman"
            c.add2("A", "F");
        } else {
            // "Uomo" should match "Womo"
            c.add("A");
        }
        i + 1
    } else if (i == w.last() && w.is_vowel(i - 1))
        || w.has(i - 1, &["EWSKI", "EWSKY", "OWSKI", "OWSKY"])
        || w.has(0, &["SCH"])
    {
        // "Arnow" should match "Arnoff"
        c.add_alternate("F");
        i + 1
    } else if w.has(i, &["WICZ", "WITZ"]) {
        // Polish "Filipowicz"
        c.add2("TS", "FX");
        i + 4
    } else {
        i + 1
    }
}

fn handle_x(w: &Word, c: &mut Codes, i: isize) -> isize {
    if i == 0 {
        c.add("S");
        return i + 1;
    }
    // French "breaux" keeps its X silent.
    if !(i == w.last() && (w.has(i - 3, &["IAU", "EAU"]) || w.has(i - 2, &["AU", "OU"]))) {
        c.add("KS");
    }
    if w.has(i + 1, &["C", "X"]) {
        i + 2
    } else {
        i + 1
    }
}

fn handle_z(w: &Word, c: &mut Codes, i: isize, slavo_germanic: bool) -> isize {
    if w.at(i + 1) == b'H' {
        // Chinese pinyin: "Zhao", "Zhang"
        c.add("J");
        return i + 2;
    }
    if w.has(i + 1, &["ZO", "ZI", "ZA"]) || (slavo_germanic && i > 0 && w.at(i - 1) != b'T') {
        c.add2("S", "TS");
    } else {
        c.add("S");
    }
    w.skip_double(i, b'Z')
}

fn condition_c0(w: &Word, i: isize) -> bool {
    if w.has(i, &["CHIA"]) {
        return true;
    }
    if i <= 1 || w.is_vowel(i - 2) || !w.has(i - 1, &["ACH"]) {
        return false;
    }
    let next = w.at(i + 2);
    (next != b'I' && next != b'E') || w.has(i - 2, &["BACHER", "MACHER"])
}

fn condition_ch0(w: &Word, i: isize) -> bool {
    i == 0
        && (w.has(i + 1, &["HARAC", "HARIS"]) || w.has(i + 1, &["HOR", "HYM", "HIA", "HEM"]))
        && !w.has(0, &["CHORE"])
}

fn condition_ch1(w: &Word, i: isize) -> bool {
    w.has(0, &["VAN ", "VON "])
        || w.has(0, &["SCH"])
        || w.has(i - 2, &["ORCHES", "ARCHIT", "ORCHID"])
        || w.has(i + 2, &["T", "S"])
        || ((w.has(i - 1, &["A", "O", "U", "E"]) || i == 0)
            && (w.has(i + 2, &["L", "R", "N", "M", "B", "H", "F", "V", "W", " "])
                || i + 1 == w.last()))
}

fn condition_l0(w: &Word, i: isize) -> bool {
    if i == w.len() - 3 && w.has(i - 1, &["ILLO", "ILLA", "ALLE"]) {
        return true;
    }
    (w.has(w.len() - 2, &["AS", "OS"]) || w.has(w.len() - 1, &["A", "O"]))
        && w.has(i - 1, &["ALLE"])
}

fn condition_m0(w: &Word, i: isize) -> bool {
    w.at(i + 1) == b'M' || (w.has(i - 1, &["UMB"]) && (i + 1 == w.last() || w.has(i + 2, &["ER"])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(word: &str) -> (String, String) {
        let c = double_metaphone(word, 4);
        (c.primary, c.alternate)
    }

    fn pair(primary: &str, alternate: &str) -> (String, String) {
        (primary.to_string(), alternate.to_string())
    }

    /// Expected codes, as Apache Commons Codec gives them. (During
    /// development this port also agreed with the `rphonetic` crate on two
    /// million random words, once three of that crate's departures from
    /// Commons Codec were undone.)
    #[test]
    fn known_codes() {
        let cases = [
            ("Smith", "SM0", "XMT"),
            ("Schmidt", "XMT", "SMT"),
            ("Smyth", "SM0", "XMT"),
            ("Thomas", "TMS", "TMS"),
            ("Jose", "HS", "HS"),
            ("Michael", "MKL", "MXL"),
            ("Nguyen", "NKN", "NKN"),
            ("Zhang", "JNK", "JNK"),
            ("Caesar", "SSR", "SSR"),
            ("Czerny", "SRN", "XRN"),
            ("Filipowicz", "FLPT", "FLPF"),
            ("Wasserman", "ASRM", "FSRM"),
            ("Gough", "KF", "KF"),
            ("Hugh", "H", "H"),
            ("Bacchus", "PKS", "PKS"),
            ("Accident", "AKST", "AKST"),
            ("Rogier", "RJ", "RJR"),
            ("Jones", "JNS", "ANS"),
            ("Katherine", "K0RN", "KTRN"),
            ("Catherine", "K0RN", "KTRN"),
            ("Schneider", "XNTR", "SNTR"),
            ("Arnow", "ARN", "ARNF"),
            ("jumped", "JMPT", "AMPT"),
            ("", "", ""),
        ];
        for (word, primary, alternate) in cases {
            assert_eq!(codes(word), pair(primary, alternate), "{word}");
        }
    }

    #[test]
    fn codes_respect_the_length_limit() {
        let long = double_metaphone("Abernathy-Featherstonehaugh", 8);
        assert_eq!(long.primary.len(), 8);
        assert!(double_metaphone("Featherstonehaugh", 4).primary.len() <= 4);
        assert_eq!(double_metaphone("Smith", 2).primary, "SM");
    }

    #[test]
    fn agreement_uses_either_code() {
        let smith = double_metaphone("Smith", 4);
        assert!(smith.agree(&double_metaphone("Schmidt", 4)));
        assert!(smith.agree(&double_metaphone("Smyth", 4)));
        assert!(!smith.agree(&double_metaphone("Jones", 4)));
        assert!(!double_metaphone("", 4).agree(&double_metaphone("", 4)));
    }
}
