//! HMAC-SHA256 signatures over request bodies, for the generic webhook
//! provider: the CRM signs what it sends, and the provider signs the
//! delivery receipts it posts back, each with the shared secret.
//! Header value: `sha256=<lower-case hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying a body's signature.
pub const SIGNATURE_HEADER: &str = "x-crm-signature";

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

/// The header value signing `body` with `secret`.
pub fn sign_body(secret: &[u8], body: &[u8]) -> String {
    let digest = mac(secret, body).finalize().into_bytes();
    let mut out = String::from("sha256=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `header` is a valid signature of `body` (compared in constant
/// time). An empty secret verifies nothing.
pub fn verify_body_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    if secret.is_empty() || hex.len() != 64 {
        return false;
    }
    let bytes: Option<Vec<u8>> = (0..32)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    bytes.is_some_and(|bytes| mac(secret, body).verify_slice(&bytes).is_ok())
}

/// Compares two secrets (bearer tokens) in constant time for equal lengths.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_other_hmac_tools_do() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_body(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_only_the_same_body_and_secret() {
        let header = sign_body(b"s3cret", b"{\"id\":1}");
        assert!(verify_body_signature(
            b"s3cret",
            b"{\"id\":1}",
            Some(&header)
        ));
        assert!(verify_body_signature(
            b"s3cret",
            b"{\"id\":1}",
            Some(&header.to_uppercase().replace("SHA256=", "sha256="))
        ));
        assert!(!verify_body_signature(
            b"s3cret",
            b"{\"id\":2}",
            Some(&header)
        ));
        assert!(!verify_body_signature(
            b"other",
            b"{\"id\":1}",
            Some(&header)
        ));
        assert!(!verify_body_signature(b"", b"", Some(&sign_body(b"", b""))));
        for bad in ["", "sha256=", "sha1=abc", "sha256=zz", &header[..40]] {
            assert!(
                !verify_body_signature(b"s3cret", b"{\"id\":1}", Some(bad)),
                "{bad}"
            );
        }
        assert!(!verify_body_signature(b"s3cret", b"", None));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"", b""));
    }
}
