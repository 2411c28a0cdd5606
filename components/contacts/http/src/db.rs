//! Runs `contacts-rules` statements on the request's Spin SQLite connection.

use contacts_rules::store::{Param, Statement};
use crm_component_support::query;
use crm_http::Problem;
use spin_sdk::sqlite::{Connection, QueryResult, Value};

fn value(param: &Param) -> Value {
    match param {
        Param::Text(text) => Value::Text(text.clone()),
        Param::Int(i) => Value::Integer(*i),
        Param::Null => Value::Null,
    }
}

pub fn run(db: &Connection, statement: &Statement) -> Result<QueryResult, Problem> {
    let params: Vec<Value> = statement.params.iter().map(value).collect();
    query(db, &statement.sql, &params)
}

pub fn run_all(db: &Connection, statements: &[Statement]) -> Result<(), Problem> {
    statements.iter().try_for_each(|s| run(db, s).map(drop))
}

/// Runs a versioned write (`store::update`, `store::retire`): `false`, with
/// nothing written, when its first statement finds the version no longer
/// current.
pub fn run_versioned(db: &Connection, statements: &[Statement]) -> Result<bool, Problem> {
    let Some((check, rest)) = statements.split_first() else {
        return Ok(true);
    };
    if run(db, check)?.rows.is_empty() {
        return Ok(false);
    }
    run_all(db, rest)?;
    Ok(true)
}
