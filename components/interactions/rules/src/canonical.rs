//! Unambiguous bytes for hashing: every variable-length value is prefixed by
//! its length, every optional value by a presence byte, every list by its
//! count, and each encoding starts with a versioned domain label, so no two
//! different values (of the same or different kinds) share bytes.

use crate::values::Sha256Hash;

pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    pub fn new(domain: &'static str) -> Self {
        let mut c = Self(Vec::with_capacity(256));
        c.str(domain);
        c
    }

    pub fn tag(&mut self, tag: u8) -> &mut Self {
        self.0.push(tag);
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn i64(&mut self, value: i64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn str(&mut self, value: &str) -> &mut Self {
        self.u64(value.len() as u64);
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    pub fn hash(&mut self, value: &Sha256Hash) -> &mut Self {
        self.0.extend_from_slice(&value.0);
        self
    }

    /// 0 for absent; 1 and the value for present.
    pub fn opt<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) -> &mut Self {
        match value {
            None => self.tag(0),
            Some(v) => {
                self.tag(1);
                write(self, v);
                self
            }
        }
    }

    /// The count, then each item.
    pub fn list<T>(
        &mut self,
        items: impl ExactSizeIterator<Item = T>,
        mut write: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        self.u64(items.len() as u64);
        for item in items {
            write(self, item);
        }
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    pub fn sha256(&self) -> Sha256Hash {
        Sha256Hash::of(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_keep_adjacent_strings_apart() {
        let mut ab_c = Canonical::new("t");
        ab_c.str("ab").str("c");
        let mut a_bc = Canonical::new("t");
        a_bc.str("a").str("bc");
        assert_ne!(ab_c.into_bytes(), a_bc.into_bytes());
    }

    #[test]
    fn absent_differs_from_empty() {
        let mut absent = Canonical::new("t");
        absent.opt(None::<&str>, |c, s| {
            c.str(s);
        });
        let mut empty = Canonical::new("t");
        empty.opt(Some(""), |c, s| {
            c.str(s);
        });
        assert_ne!(absent.into_bytes(), empty.into_bytes());
    }

    #[test]
    fn domains_separate_kinds() {
        assert_ne!(
            Canonical::new("a/v1").into_bytes(),
            Canonical::new("b/v1").into_bytes()
        );
    }
}
