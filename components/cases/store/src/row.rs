//! Reading one row's columns back through their parsers: a value of the
//! wrong type or one its parser refuses is a [`StoreError::Corrupt`] naming
//! the table, the row's key and the column.

use std::fmt::Display;

use cases_sla::Timestamp;
use crm_sql::Value;

use crate::StoreError;

/// One row of `table`, known by `key` in errors.
pub(crate) struct Fields<'a> {
    table: &'static str,
    key: String,
    row: &'a [Value],
}

impl<'a> Fields<'a> {
    /// `row` of `table`; column `key_column` names it in errors.
    pub(crate) fn new(table: &'static str, row: &'a [Value], key_column: usize) -> Self {
        let key = match row.get(key_column) {
            Some(Value::Text(key)) => key.clone(),
            Some(Value::Integer(key)) => key.to_string(),
            _ => "?".to_string(),
        };
        Self { table, key, row }
    }

    pub(crate) fn corrupt(&self, column: &'static str, why: impl Display) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            column,
            why: why.to_string(),
        }
    }

    fn value(&self, index: usize) -> &Value {
        self.row.get(index).unwrap_or(&Value::Null)
    }

    pub(crate) fn opt_text(
        &self,
        index: usize,
        column: &'static str,
    ) -> Result<Option<String>, StoreError> {
        match self.value(index) {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            _ => Err(self.corrupt(column, "is not text")),
        }
    }

    pub(crate) fn text(&self, index: usize, column: &'static str) -> Result<String, StoreError> {
        self.opt_text(index, column)?
            .ok_or_else(|| self.corrupt(column, "is missing"))
    }

    pub(crate) fn opt_int(
        &self,
        index: usize,
        column: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        match self.value(index) {
            Value::Null => Ok(None),
            Value::Integer(n) => Ok(Some(*n)),
            _ => Err(self.corrupt(column, "is not an integer")),
        }
    }

    pub(crate) fn int(&self, index: usize, column: &'static str) -> Result<i64, StoreError> {
        self.opt_int(index, column)?
            .ok_or_else(|| self.corrupt(column, "is missing"))
    }

    /// A count or a number of minutes: never negative.
    pub(crate) fn count(&self, index: usize, column: &'static str) -> Result<u64, StoreError> {
        let n = self.int(index, column)?;
        u64::try_from(n).map_err(|_| self.corrupt(column, format!("{n} is negative")))
    }

    pub(crate) fn flag(&self, index: usize, column: &'static str) -> Result<bool, StoreError> {
        match self.int(index, column)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(self.corrupt(column, format!("{n} is not 0 or 1"))),
        }
    }

    /// The column's text through `parse`.
    pub(crate) fn parse<T, E: Display>(
        &self,
        index: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        let text = self.text(index, column)?;
        parse(&text).map_err(|e| self.corrupt(column, format!("`{text}`: {e}")))
    }

    /// The column's text, when not NULL, through `parse`.
    pub(crate) fn opt_parse<T, E: Display>(
        &self,
        index: usize,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        match self.opt_text(index, column)? {
            None => Ok(None),
            Some(text) => parse(&text)
                .map(Some)
                .map_err(|e| self.corrupt(column, format!("`{text}`: {e}"))),
        }
    }

    /// A JSON column through `decode`.
    pub(crate) fn json<T>(
        &self,
        index: usize,
        column: &'static str,
        decode: impl FnOnce(serde_json::Value) -> Result<T, String>,
    ) -> Result<T, StoreError> {
        self.parse(index, column, |text| {
            serde_json::from_str(text)
                .map_err(|e| e.to_string())
                .and_then(decode)
        })
    }

    pub(crate) fn opt_instant(
        &self,
        index: usize,
        column: &'static str,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(index, column)?
            .map(|ms| {
                Timestamp::from_millisecond(ms)
                    .map_err(|_| self.corrupt(column, "is outside the times a clock can hold"))
            })
            .transpose()
    }

    pub(crate) fn instant(
        &self,
        index: usize,
        column: &'static str,
    ) -> Result<Timestamp, StoreError> {
        self.opt_instant(index, column)?
            .ok_or_else(|| self.corrupt(column, "is missing"))
    }
}

/// A JSON list of strings, each through `parse`.
pub(crate) fn string_list<T, E: Display>(
    value: serde_json::Value,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, String> {
    let serde_json::Value::Array(items) = value else {
        return Err("is not a JSON list".into());
    };
    items
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or("holds a value that is not a string")?;
            parse(text).map_err(|e| format!("`{text}`: {e}"))
        })
        .collect()
}

/// A JSON list of `items`' texts.
pub(crate) fn json_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.into_iter().collect::<Vec<_>>()).to_string()
}

/// `0` or `1`.
pub(crate) fn flag(value: bool) -> Value {
    Value::Integer(i64::from(value))
}
