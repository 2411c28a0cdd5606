//! Reading columns: as the rows were written, a missing optional value is
//! NULL; a value of another type reads as missing.

use crm_sql::Value;

pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}
