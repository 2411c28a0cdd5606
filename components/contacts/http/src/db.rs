//! The write transactions of `contact-intake`, answering problems.

use crm_http::Problem;
use crm_sql::{Sql, SqlError};

/// A problem, so that [`crm_sql::transaction`] can end on one.
struct Failed(Problem);

/// `BEGIN`, `COMMIT` failing: answered as any other database failure.
impl From<SqlError> for Failed {
    fn from(e: SqlError) -> Self {
        Self(contacts_store::StoreError::from(e).into())
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: all of it is written or
/// none (any problem rolls it back).
pub fn transaction<T>(db: &impl Sql, f: impl FnOnce() -> Result<T, Problem>) -> Result<T, Problem> {
    crm_sql::transaction(db, || f().map_err(Failed)).map_err(|Failed(problem)| problem)
}
