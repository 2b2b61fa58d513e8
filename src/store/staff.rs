//! Staff accounts, their login throttle and revoked sessions.

use super::guard::{session_check_statement, Guard, Guarded};
use super::rows::{LoginAttempts, LoginCandidate, SessionCheck, StaffMember, STAFF_COLUMNS};
use super::{int, opt_text, text, time, Database};
use crate::domain::staff::{NewStaff, Role, StaffUpdate};
use crate::domain::time::Timestamp;

/// The staff row for a session, with whether the session was revoked, alone.
pub async fn session_check(
    db: &Database,
    staff_id: i64,
    token_hash: &str,
) -> worker::Result<Option<SessionCheck>> {
    // Read as the guarded batches read it (one deserializer for the row in the wasm).
    let rows: Vec<SessionCheck> = session_check_statement(db, staff_id, token_hash)?
        .all()
        .await?;
    Ok(rows.into_iter().next())
}

/// What a login must know before checking the password, read in one round trip.
pub struct LoginState {
    /// The account, if the email has one.
    pub account: Option<LoginCandidate>,
    /// Each throttle key with this attempt counted.
    pub attempts: Vec<LoginAttempts>,
    /// The iteration count most stored hashes have: what checking an unknown
    /// email's decoy hash must cost, so timing does not reveal accounts.
    pub usual_iterations: Option<u32>,
}

/// One round trip for everything a login must know before checking the password:
/// the account (if any), the attempt counted against each throttle key in its current
/// window (a window that has ended starts again), and the usual hash cost. Counting
/// before the password is checked keeps the throttle exact under parallel guesses; a
/// successful login takes its attempt back (`login_succeeded`).
pub async fn login_attempt(
    db: &Database,
    email: &str,
    keys: &[&str],
    now: Timestamp,
    window_start: Timestamp,
) -> worker::Result<LoginState> {
    let account = format!(
        "SELECT {STAFF_COLUMNS}, password_hash, session_epoch FROM crm_staff WHERE email = ?1"
    );
    // `pbkdf2_sha256$<iterations>$...`: the count starts at the 15th character.
    let usual = "SELECT CAST(substr(password_hash, 15, instr(substr(password_hash, 15), '$') - 1)
                   AS INTEGER) AS iterations
                 FROM crm_staff GROUP BY iterations ORDER BY count(*) DESC, iterations DESC LIMIT 1";
    let mut statements = vec![
        db.prepare(&account, &[text(email)])?,
        db.prepare(usual, &[])?,
    ];
    for key in keys {
        statements.push(db.prepare(
            "INSERT INTO login_attempts (key, failures, window_started_at) VALUES (?1, 1, ?2)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN window_started_at <= ?3 THEN 1 ELSE failures + 1 END,
               window_started_at =
                 CASE WHEN window_started_at <= ?3 THEN ?2 ELSE window_started_at END
             RETURNING key, failures, window_started_at",
            &[text(key), time(now), time(window_start)],
        )?);
    }
    let results = db.batch(statements).await?;
    #[derive(serde::Deserialize)]
    struct Usual {
        iterations: Option<u32>,
    }
    let mut attempts = Vec::new();
    for result in &results[2..] {
        attempts.extend(result.rows::<LoginAttempts>()?);
    }
    Ok(LoginState {
        account: results[0].rows::<LoginCandidate>()?.into_iter().next(),
        attempts,
        usual_iterations: results[1]
            .rows::<Usual>()?
            .into_iter()
            .next()
            .and_then(|u| u.iterations),
    })
}

/// A successful login clears its own key (this email from this client) and takes its
/// attempt back from the others.
pub async fn login_succeeded(
    db: &Database,
    own_key: &str,
    other_keys: &[&str],
) -> worker::Result<()> {
    let mut statements = vec![db.prepare(
        "DELETE FROM login_attempts WHERE key = ?1",
        &[text(own_key)],
    )?];
    for key in other_keys {
        statements.push(db.prepare(
            "UPDATE login_attempts SET failures = max(failures - 1, 0) WHERE key = ?1",
            &[text(key)],
        )?);
    }
    db.batch(statements).await?;
    Ok(())
}

/// Lists the guarded session as revoked (until it would have expired), if it holds.
pub async fn revoke_session(
    db: &Database,
    guard: &Guard<'_>,
    expires_at: Timestamp,
) -> worker::Result<Guarded<()>> {
    let mut params = vec![text(guard.token_hash), time(expires_at)];
    // The WHERE also keeps SQLite from reading `ON CONFLICT` as part of the SELECT.
    let sql = format!(
        "INSERT INTO revoked_sessions (token_hash, expires_at) SELECT ?1, ?2 WHERE {}
         ON CONFLICT (token_hash) DO NOTHING",
        guard.condition(&mut params)
    );
    let insert = db.prepare(&sql, &params)?;
    guard.run(db, vec![insert]).await?.read(|_| Ok(()))
}

pub async fn list(db: &Database, guard: &Guard<'_>) -> worker::Result<Guarded<Vec<StaffMember>>> {
    let mut params = Vec::new();
    let sql = format!(
        "SELECT {STAFF_COLUMNS} FROM crm_staff WHERE {} ORDER BY id",
        guard.condition(&mut params)
    );
    let list = db.prepare(&sql, &params)?;
    guard.run(db, vec![list]).await?.read(|r| r[0].rows())
}

/// Active staff, by name: who a ticket can be assigned to.
pub async fn active(db: &Database, guard: &Guard<'_>) -> worker::Result<Guarded<Vec<StaffMember>>> {
    let mut params = Vec::new();
    let sql = format!(
        "SELECT {STAFF_COLUMNS} FROM crm_staff WHERE active = 1 AND {} ORDER BY name, id",
        guard.condition(&mut params)
    );
    let list = db.prepare(&sql, &params)?;
    guard.run(db, vec![list]).await?.read(|r| r[0].rows())
}

/// Inserts a staff member; `None` when the email is taken.
pub async fn create(
    db: &Database,
    staff: &NewStaff,
    password_hash: &str,
    now: Timestamp,
) -> worker::Result<Option<StaffMember>> {
    let sql = format!(
        "INSERT INTO crm_staff (email, name, role, password_hash, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)
         ON CONFLICT (email) DO NOTHING
         RETURNING {STAFF_COLUMNS}"
    );
    db.prepare(
        &sql,
        &[
            text(staff.email.as_str()),
            text(&staff.name),
            text(staff.role.as_str()),
            text(password_hash),
            time(now),
        ],
    )?
    .first()
    .await
}

/// Why a staff update wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateRefused {
    NotFound,
    /// It would leave no active admin.
    LastAdmin,
}

/// Updates name, role or active. Role changes and deactivation bump the session
/// epoch, ending the person's live sessions at once. Refuses to demote or deactivate
/// the last active admin.
pub async fn update(
    db: &Database,
    id: i64,
    change: &StaffUpdate,
    now: Timestamp,
) -> worker::Result<Result<StaffMember, UpdateRefused>> {
    let role = change.role.map(Role::as_str);
    let active = change.active.map(i64::from);
    let bump = i64::from(change.revokes_sessions());
    // The row stops being an active admin when it is demoted or deactivated.
    let leaves_admins = "role = 'admin' AND active = 1 AND (COALESCE(?3, 'admin') != 'admin' OR COALESCE(?4, 1) = 0)";
    let update = format!(
        "UPDATE crm_staff SET
           name = COALESCE(?2, name), role = COALESCE(?3, role), active = COALESCE(?4, active),
           session_epoch = session_epoch + ?5, updated_at = ?6
         WHERE id = ?1 AND NOT ({leaves_admins}
           AND NOT EXISTS (SELECT 1 FROM crm_staff o
                           WHERE o.role = 'admin' AND o.active = 1 AND o.id != ?1))
         RETURNING {STAFF_COLUMNS}"
    );
    let update = db.prepare(
        &update,
        &[
            int(Some(id)),
            opt_text(change.name.as_deref()),
            opt_text(role),
            int(active),
            int(Some(bump)),
            time(now),
        ],
    )?;
    let exists = db.prepare("SELECT id FROM crm_staff WHERE id = ?1", &[int(Some(id))])?;
    let results = db.batch(vec![update, exists]).await?;
    if let Some(staff) = results[0].rows::<StaffMember>()?.into_iter().next() {
        return Ok(Ok(staff));
    }
    let found = !results[1].rows::<serde::de::IgnoredAny>()?.is_empty();
    Ok(Err(if found {
        UpdateRefused::LastAdmin
    } else {
        UpdateRefused::NotFound
    }))
}

/// Replaces the password hash and ends every live session of that person.
pub async fn set_password(
    db: &Database,
    id: i64,
    password_hash: &str,
    now: Timestamp,
) -> worker::Result<Option<StaffMember>> {
    let sql = format!(
        "UPDATE crm_staff SET password_hash = ?2, session_epoch = session_epoch + 1, updated_at = ?3
         WHERE id = ?1 RETURNING {STAFF_COLUMNS}"
    );
    db.prepare(&sql, &[int(Some(id)), text(password_hash), time(now)])?
        .first()
        .await
}
