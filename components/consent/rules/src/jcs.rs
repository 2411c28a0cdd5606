//! The JSON Canonicalization Scheme (RFC 8785) for the values receipts hold:
//! null, booleans, integers, strings, arrays and objects. Object members are
//! sorted by their names' UTF-16 code units, strings are escaped as
//! ECMAScript's `JSON.stringify` does, and there is no whitespace.
//!
//! Numbers other than integers within ±(2^53 − 1) are refused rather than
//! written: receipts have none, and writing them canonically needs the
//! ECMAScript double-to-text algorithm, which nothing here needs.

use std::fmt::Write as _;

use serde_json::Value;
use thiserror::Error;

/// The largest integer a double holds exactly (ECMAScript
/// `Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JcsError {
    #[error("cannot canonicalise the number {0}: only integers within ±(2^53 - 1) are supported")]
    UnsupportedNumber(String),
}

/// The canonical text of `value`; hash its UTF-8 bytes.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let safe = n
                .as_i64()
                .filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER)
                .ok_or_else(|| JcsError::UnsupportedNumber(n.to_string()))?;
            // Writing to a String cannot fail.
            let _ = write!(out, "{safe}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut members: Vec<(&String, &Value)> = members.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_value(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// ECMAScript `JSON.stringify` string escaping: the two-character escapes
/// where they exist, `\u00xx` (lower-case hex) for the other controls, and
/// every other character as itself.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// RFC 8785 section 3.2.2's example, without its `numbers` member (only
    /// integers are supported here).
    #[test]
    fn rfc8785_string_and_literal_example() {
        let input: Value = serde_json::from_str(
            r#"{
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }"#,
        )
        .unwrap();
        assert_eq!(
            canonicalize(&input).unwrap(),
            "{\"literals\":[null,true,false],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    /// RFC 8785 section 3.2.3's sorting example: UTF-16 order puts the emoji
    /// (a surrogate pair, 0xD83D...) before U+FB33, unlike code point order.
    #[test]
    fn rfc8785_sorting_example() {
        let input: Value = serde_json::from_str(
            r#"{
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }"#,
        )
        .unwrap();
        assert_eq!(
            canonicalize(&input).unwrap(),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
             \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
             \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn escapes_controls_like_json_stringify() {
        let s: String = (0u8..0x20)
            .map(char::from)
            .chain(['\u{7f}', '\u{2028}'])
            .collect();
        assert_eq!(
            canonicalize(&Value::String(s)).unwrap(),
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
             \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\
             \\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u{7f}\u{2028}\""
        );
    }

    #[test]
    fn integers_within_the_safe_range_only() {
        assert_eq!(
            canonicalize(&json!([0, -1, 9007199254740991_i64, -9007199254740991_i64])).unwrap(),
            "[0,-1,9007199254740991,-9007199254740991]"
        );
        for unsupported in [
            json!(9007199254740992_i64),
            json!(-9007199254740992_i64),
            json!(u64::MAX),
            json!(1.5),
            json!(1.0),
        ] {
            assert!(
                matches!(
                    canonicalize(&unsupported),
                    Err(JcsError::UnsupportedNumber(_))
                ),
                "{unsupported}"
            );
        }
    }

    #[test]
    fn nests_without_whitespace() {
        assert_eq!(
            canonicalize(&json!({"b": [], "a": {"d": {}, "c": [1, "x", null]}})).unwrap(),
            r#"{"a":{"c":[1,"x",null],"d":{}},"b":[]}"#
        );
    }

    fn json_values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_text_reparses_to_the_same_value(value in json_values()) {
            let text = canonicalize(&value).unwrap();
            let reparsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&reparsed, &value);
            prop_assert_eq!(canonicalize(&reparsed).unwrap(), text);
        }
    }
}
