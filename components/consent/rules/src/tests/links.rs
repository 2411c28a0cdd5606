use super::*;

fn key(id: &str, fill: u8) -> LinkKey {
    LinkKey::new(KeyId::parse(id).unwrap(), &[fill; 32]).unwrap()
}

fn claims() -> UnsubscribeClaims {
    UnsubscribeClaims {
        contact_id: contact("c1"),
        purpose: pid("newsletters"),
        channel: Channel::Email,
        nonce: Nonce::parse("q7Zt0vKpL2mN8xYw").unwrap(),
        expires_at_ms: T0 + 30 * DAY,
    }
}

#[test]
fn a_signed_link_verifies_to_its_claims() {
    let keys = [key("k2026", 7)];
    let token = sign_unsubscribe(&claims(), &keys[0]);
    assert!(token.starts_with("u1.k2026."), "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "{token}"
    );
    assert_eq!(verify_unsubscribe(&token, &keys, T0), Ok(claims()));
}

#[test]
fn a_sharing_purpose_and_odd_contact_ids_survive_the_round_trip() {
    let keys = [key("k1", 1)];
    let claims = UnsubscribeClaims {
        contact_id: contact("org:7.x_Y-z"),
        purpose: pid("sharing:health-dept"),
        channel: Channel::Sms,
        nonce: Nonce::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .unwrap(),
        expires_at_ms: -5,
    };
    let token = sign_unsubscribe(&claims, &keys[0]);
    assert_eq!(verify_unsubscribe(&token, &keys, -6), Ok(claims));
}

#[test]
fn expiry_is_exact() {
    let keys = [key("k1", 1)];
    let token = sign_unsubscribe(&claims(), &keys[0]);
    let expires = claims().expires_at_ms;
    assert!(verify_unsubscribe(&token, &keys, expires - 1).is_ok());
    assert_eq!(
        verify_unsubscribe(&token, &keys, expires),
        Err(LinkError::Expired {
            expired_at_ms: expires
        })
    );
}

#[test]
fn flipping_any_byte_breaks_the_link() {
    let keys = [key("k1", 1)];
    let token = sign_unsubscribe(&claims(), &keys[0]);
    let signed_len = token.rfind('.').unwrap();
    let claims_start = "u1.k1.".len();
    for i in 0..token.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut bytes = token.clone().into_bytes();
            bytes[i] ^= flip;
            let Ok(tampered) = String::from_utf8(bytes) else {
                continue; // not a string a URL could carry
            };
            let result = verify_unsubscribe(&tampered, &keys, T0);
            assert!(result.is_err(), "byte {i} ^ {flip:#x} verified: {tampered}");
            // Any change to the signed claims that is still base64url is
            // caught by the signature, not by parsing.
            let c = tampered.as_bytes()[i];
            if (claims_start..signed_len).contains(&i)
                && (c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            {
                assert_eq!(result, Err(LinkError::Tampered), "byte {i} ^ {flip:#x}");
            }
        }
    }
}

#[test]
fn a_replaced_signature_or_claims_is_tampered() {
    let keys = [key("k1", 1)];
    let token = sign_unsubscribe(&claims(), &keys[0]);
    let other = UnsubscribeClaims {
        contact_id: contact("c2"),
        ..claims()
    };
    let other_token = sign_unsubscribe(&other, &keys[0]);
    let (signed, _) = token.rsplit_once('.').unwrap();
    let (_, other_mac) = other_token.rsplit_once('.').unwrap();
    assert_eq!(
        verify_unsubscribe(&format!("{signed}.{other_mac}"), &keys, T0),
        Err(LinkError::Tampered)
    );
    // A signature cut short (to 30 whole bytes) is no signature either.
    let short = &token[..token.len() - 3];
    assert_eq!(
        verify_unsubscribe(short, &keys, T0),
        Err(LinkError::Tampered)
    );
}

#[test]
fn keys_are_named_and_rotate() {
    let old = key("k2025", 1);
    let new = key("k2026", 2);
    let old_token = sign_unsubscribe(&claims(), &old);
    // While the old key is still trusted, its links keep working.
    assert!(verify_unsubscribe(&old_token, &[new.clone(), old.clone()], T0).is_ok());
    // Once it is retired, they name an unknown key.
    assert_eq!(
        verify_unsubscribe(&old_token, std::slice::from_ref(&new), T0),
        Err(LinkError::UnknownKey(KeyId::parse("k2025").unwrap()))
    );
    // The same name with another secret is a forgery.
    let impostor = key("k2026", 3);
    let forged = sign_unsubscribe(&claims(), &impostor);
    assert_eq!(
        verify_unsubscribe(&forged, &[new], T0),
        Err(LinkError::Tampered)
    );
}

#[test]
fn a_relabelled_key_id_does_not_verify() {
    let a = key("ka", 1);
    let b = key("kb", 1);
    // Same secret under two names: the key id is signed too.
    let token = sign_unsubscribe(&claims(), &a).replacen("u1.ka.", "u1.kb.", 1);
    assert_eq!(
        verify_unsubscribe(&token, &[a, b], T0),
        Err(LinkError::Tampered)
    );
}

#[test]
fn malformed_tokens_are_told_apart() {
    let keys = [key("k1", 1)];
    let token = sign_unsubscribe(&claims(), &keys[0]);
    let parts: Vec<&str> = token.split('.').collect();
    for bad in [
        String::new(),
        "garbage".to_owned(),
        parts[..3].join("."),
        format!("{token}.extra"),
        token.replacen("u1.", "u2.", 1),
        token.replacen("u1.k1.", "u1.k 1.", 1),
        format!("{}.{}.{}.{}!", parts[0], parts[1], parts[2], parts[3]),
        "x".repeat(2000),
    ] {
        assert!(
            matches!(
                verify_unsubscribe(&bad, &keys, T0),
                Err(LinkError::Malformed(_))
            ),
            "{bad}"
        );
    }
    // Well signed, but claims that do not parse: the public API cannot sign
    // arbitrary text, so sign by hand with the same secret.
    let b64 = |bytes: &[u8]| {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    };
    let mac_of = |signed: &str| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[1; 32]).unwrap();
        mac.update(signed.as_bytes());
        b64(&mac.finalize().into_bytes())
    };
    for claims_text in [
        "c1\nnewsletters\nemail\nq7Zt0vKpL2mN8xYw",
        "c1\nnewsletters\nfax\nq7Zt0vKpL2mN8xYw\n5",
        "c1\nnewsletters\nemail\nshort\n5",
        "c1\nnewsletters\nemail\nq7Zt0vKpL2mN8xYw\nsoon",
        "c1\nnewsletters\nemail\nq7Zt0vKpL2mN8xYw\n5\nextra",
    ] {
        let signed = format!("u1.k1.{}", b64(claims_text.as_bytes()));
        let token = format!("{signed}.{}", mac_of(&signed));
        assert!(
            matches!(
                verify_unsubscribe(&token, &keys, T0),
                Err(LinkError::Malformed(_))
            ),
            "{claims_text:?}"
        );
    }
}

#[test]
fn weak_keys_are_refused() {
    let id = KeyId::parse("k1").unwrap();
    assert_eq!(
        LinkKey::new(id.clone(), &[0; 31]).unwrap_err(),
        WeakLinkKey {
            id: id.clone(),
            len: 31
        }
    );
    assert!(LinkKey::new(id, &[0; 32]).is_ok());
    assert!(KeyId::parse("k.1").is_err());
    assert!(Nonce::parse("too-short").is_err());
}

#[test]
fn key_debug_output_hides_the_secret() {
    let debug = format!("{:?}", key("k1", 0xAB));
    assert!(debug.contains("k1"), "{debug}");
    assert!(!debug.contains("171"), "{debug}");
}

#[test]
fn a_link_withdraws_once_and_a_replay_is_refused() {
    let keys = [key("k1", 1)];
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    let token = sign_unsubscribe(&claims(), &keys[0]);
    let mut used: Vec<Nonce> = Vec::new();

    let click = T0 + DAY;
    let claims = redeem_unsubscribe(&token, &keys, click, |n| used.contains(n)).unwrap();
    let appended = plan_unsubscribe(&ledger.records, &claims, click).unwrap();
    assert_eq!(
        appended.event.actor,
        Actor::UnsubscribeLink(claims.nonce.clone())
    );
    assert_eq!(appended.event.via, Via::OneClickLink);
    ledger.append(appended);
    used.push(claims.nonce.clone());
    assert_eq!(ledger.check(click), denied(Reason::Withdrawn, Some("r1")));

    // The person gives consent again; the old link must not undo it.
    ledger.give("r2", click + DAY, None);
    assert_eq!(
        redeem_unsubscribe(&token, &keys, click + 2 * DAY, |n| used.contains(n)),
        Err(LinkError::Replayed(claims.nonce.clone()))
    );
    assert_eq!(ledger.check(click + 2 * DAY), permitted("r2"));
}

#[test]
fn a_tampered_link_changes_nothing() {
    let keys = [key("k1", 1)];
    let mut ledger = Ledger::default();
    ledger.give("r1", T0, None);
    // Someone edits the link to unsubscribe another contact.
    let original = sign_unsubscribe(&claims(), &keys[0]);
    let victim = UnsubscribeClaims {
        contact_id: contact("c9"),
        ..claims()
    };
    let victim_claims = sign_unsubscribe(&victim, &key("k1", 9));
    let (_, original_mac) = original.rsplit_once('.').unwrap();
    let (victim_signed, _) = victim_claims.rsplit_once('.').unwrap();
    let forged = format!("{victim_signed}.{original_mac}");
    assert_eq!(
        redeem_unsubscribe(&forged, &keys, T0 + 1, |_| false),
        Err(LinkError::Tampered)
    );
    assert_eq!(ledger.check(T0 + 1), permitted("r1"));
}

#[test]
fn a_keyring_signs_with_its_first_key_and_verifies_with_all() {
    use base64::Engine;
    let standard = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfbu8; 40]);
    let ring = LinkKeyring::parse(&format!(" k2027:{standard} , k2026:{url_safe}")).unwrap();
    assert_eq!(ring.signing_key().id().as_str(), "k2027");
    let token = ring.sign(&claims());
    assert!(token.starts_with("u1.k2027."), "{token}");
    assert_eq!(verify_unsubscribe(&token, ring.keys(), T0), Ok(claims()));
    // A link signed by the retired key still verifies.
    let old = sign_unsubscribe(&claims(), &ring.keys()[1]);
    assert_eq!(verify_unsubscribe(&old, ring.keys(), T0), Ok(claims()));
    // The same secret under the same id as `key` signs the same token.
    assert_eq!(
        LinkKeyring::parse(&format!("k2026:{standard}"))
            .unwrap()
            .sign(&claims()),
        sign_unsubscribe(&claims(), &key("k2026", 7))
    );
}

#[test]
fn bad_keyrings_are_refused_with_the_entry_at_fault() {
    use base64::Engine;
    let good = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
    let short = base64::engine::general_purpose::STANDARD.encode([1u8; 31]);
    assert_eq!(LinkKeyring::parse("  ").unwrap_err(), LinkKeysError::Unset);
    assert_eq!(
        LinkKeyring::parse(&format!("k1:{good},nocolon")).unwrap_err(),
        LinkKeysError::Malformed { entry: 1 }
    );
    assert!(matches!(
        LinkKeyring::parse(&format!("bad id:{good}")).unwrap_err(),
        LinkKeysError::BadKeyId { entry: 0, .. }
    ));
    assert_eq!(
        LinkKeyring::parse("k1:not*base64").unwrap_err(),
        LinkKeysError::NotBase64 { entry: 0 }
    );
    assert!(matches!(
        LinkKeyring::parse(&format!("k1:{short}")).unwrap_err(),
        LinkKeysError::Weak(WeakLinkKey { len: 31, .. })
    ));
    assert!(matches!(
        LinkKeyring::parse(&format!("k1:{good},k1:{good}")).unwrap_err(),
        LinkKeysError::Duplicate(_)
    ));
}

#[test]
fn links_are_the_path_and_token_on_the_base_url() {
    assert_eq!(
        unsubscribe_url("https://crm.agency.gov.au/", "u1.k.c.m"),
        "https://crm.agency.gov.au/api/consents/unsubscribe?token=u1.k.c.m"
    );
}
