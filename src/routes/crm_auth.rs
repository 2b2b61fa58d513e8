//! Staff sign-in: login, logout, whoami.

use serde::Serialize;
use serde_json::Value;

use super::answers::StaffAnswer;
use super::call::{Answer, Call, ClaimCall, StaffCall};
use super::input::read_json;
use crate::app::sessions::{self};
use crate::domain::abuse::client_network;
use crate::domain::abuse::Window;
use crate::domain::password::{PasswordHash, HASH_BYTES, MAX_ITERATIONS, SALT_BYTES};
use crate::domain::staff::normalize_email;
use crate::domain::time::Timestamp;
use crate::domain::validation::{FieldError, ValidationError};
use crate::error::ApiError;
use crate::http::{success, Nothing};
use crate::platform::webcrypto::verify_password;
use crate::store;

const WRONG_CREDENTIALS: &str = "Email or password is incorrect.";

#[derive(Serialize)]
struct LoggedIn<'a> {
    token: &'a str,
    expires_at: Timestamp,
    staff: StaffAnswer<'a>,
}

/// `POST /api/crm/auth/login` `{email, password}` -> `{token, expires_at, staff}`.
///
/// Unknown emails, wrong passwords and deactivated accounts get the same 401 after
/// the same PBKDF2 work. Attempts are counted per email and per client IP before the
/// password is checked (exact under parallel guesses; a success takes its attempt
/// back); past the limit the login is refused with 429 before any PBKDF2 work.
pub async fn login(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    let fields = read_json(&req, ctx).await?;
    let mut errors = Vec::new();
    let mut string = |name: &str, label: &str| match fields.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => {
            errors.push(FieldError::new(
                name,
                "required",
                format!("{label} is required"),
            ));
            None
        }
    };
    let (Some(email), Some(password)) = (string("email", "Email"), string("password", "Password"))
    else {
        return Err(ValidationError::from_details(errors).into());
    };
    let email = normalize_email(&email);
    if email.chars().count() > 254 || password.chars().count() > 1024 {
        return Err(ApiError::Unauthorized {
            message: WRONG_CREDENTIALS,
        });
    }
    // Keys: this email from this client (what a stranger's guesses fill), this
    // client (all emails), and this email from everywhere (a high ceiling).
    let client = client_network(&req.client_ip());
    let own_key = format!("email-client:{email}|{client}");
    let client_key = format!("ip:{client}");
    let account_key = format!("email:{email}");
    let limits = [
        (own_key.as_str(), ctx.config.login_max_failures_per_email),
        (client_key.as_str(), ctx.config.login_max_failures_per_ip),
        (
            account_key.as_str(),
            ctx.config.login_max_failures_per_account,
        ),
    ];
    let keys = limits.map(|(key, _)| key);
    let window = Window {
        seconds: ctx.config.login_window_seconds,
    };
    let db = ctx.db()?;

    let state =
        store::staff::login_attempt(&db, &email, &keys, ctx.now, window.start(ctx.now)).await?;
    // This attempt is already counted: past a limit, refuse before any PBKDF2 work.
    // With several keys over, wait for the latest window to end.
    let retry_after = state
        .attempts
        .iter()
        .filter(|a| {
            limits
                .iter()
                .any(|(key, max)| a.key == *key && a.failures > i64::from(*max))
        })
        .map(|a| window.seconds_until_over(ctx.now, Some(a.window_started_at)))
        .max();
    if let Some(retry_after) = retry_after {
        let retry_after = retry_after.max(1);
        return Err(ApiError::RateLimited {
            retry_after,
            headers: vec![],
            message: format!(
                "Too many failed logins. Try again in {} minute(s).",
                retry_after.div_ceil(60)
            ),
        });
    }

    let account = state.account;
    let stored = account
        .as_ref()
        .and_then(|a| PasswordHash::parse(&a.password_hash));
    let password_ok = match &stored {
        Some(hash) => verify_password(&password, hash).await?,
        None => {
            // Same work for an unknown email: the cost most stored hashes have (they
            // keep their own count when PASSWORD_ITERATIONS changes).
            let decoy = PasswordHash {
                iterations: state
                    .usual_iterations
                    .filter(|n| (1..=MAX_ITERATIONS).contains(n))
                    .unwrap_or(ctx.config.password_iterations),
                salt: vec![0; SALT_BYTES],
                hash: vec![0; HASH_BYTES],
            };
            verify_password(&password, &decoy).await?;
            false
        }
    };
    let account = match account {
        Some(a) if password_ok && a.staff.active => a,
        // The attempt was counted up front; nothing more to write.
        _ => {
            return Err(ApiError::Unauthorized {
                message: WRONG_CREDENTIALS,
            })
        }
    };

    store::staff::login_succeeded(&db, &own_key, &[&client_key, &account_key]).await?;
    let (token, expires_at) =
        sessions::create_session(ctx, account.staff.id, account.session_epoch).await?;
    Ok(success(
        200,
        "Logged in",
        &LoggedIn {
            token: &token,
            expires_at,
            staff: StaffAnswer::from(&account.staff),
        },
    ))
}

/// `POST /api/crm/auth/logout`: ends this session everywhere at once.
pub async fn logout(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, _) = call.parts();
    sessions::revoke_session(ctx, claim).await?;
    Ok(success(200, "Logged out", &Nothing {}))
}

#[derive(Serialize)]
struct CurrentSession<'a> {
    staff: StaffAnswer<'a>,
    expires_at: Timestamp,
}

/// `GET /api/crm/auth/me`: who this session belongs to.
pub async fn me(call: StaffCall<'_>) -> Answer {
    let (_, _, session, _) = call.parts();
    Ok(success(
        200,
        "Current session",
        &CurrentSession {
            staff: StaffAnswer::from(&session.staff),
            expires_at: session.expires_at,
        },
    ))
}
