//! The health check's query.

use super::Database;

/// One trivial query: proves the binding works and the database answers.
pub async fn ping(db: &Database) -> worker::Result<()> {
    db.prepare("SELECT 1 AS ok", &[])?
        .first::<serde::de::IgnoredAny>()
        .await?;
    Ok(())
}
