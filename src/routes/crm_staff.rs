//! Staff administration (admins only).

use crate::http::{Request, Response};
use serde_json::json;

use crate::auth;
use crate::crypto;
use crate::domain::staff::{password, NewStaff, Role, StaffUpdate};
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::{read_json, success, Ctx};
use crate::store::{self, staff::UpdateRefused};

fn staff_not_found() -> ApiError {
    ApiError::NotFound {
        message: "No staff member has this id.",
    }
}

/// `GET /api/crm/staff`
pub async fn list(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let staff = store::staff::list(&ctx.db()?).await?;
    Ok(success(200, "Staff", json!({ "staff": staff })))
}

/// `POST /api/crm/staff` `{email, name, role, password}`
pub async fn create(req: Request, ctx: &Ctx) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let new = NewStaff::parse(&read_json(&req, ctx).await?)?;
    let hash = crypto::hash_password(&new.password, ctx.config.password_iterations).await?;
    let created = store::staff::create(&ctx.db()?, &new, &hash.encode(), &ctx.now.rfc3339())
        .await?
        .ok_or_else(|| ApiError::Conflict {
            code: "email_taken",
            message: "A staff member with this email already exists.".into(),
            details: None,
        })?;
    Ok(
        success(201, "Staff member created", json!({ "staff": created }))
            .with_header("Location", format!("/api/crm/staff/{}", created.id)),
    )
}

/// `PATCH /api/crm/staff/{id}` `{name?, role?, active?}`; a role change or
/// deactivation ends that person's live sessions at once.
pub async fn update(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let change = StaffUpdate::parse(&read_json(&req, ctx).await?)?;
    let staff = store::staff::update(&ctx.db()?, id, &change, &ctx.now.rfc3339())
        .await?
        .map_err(|refused| match refused {
            UpdateRefused::NotFound => staff_not_found(),
            UpdateRefused::LastAdmin => ApiError::Conflict {
                code: "last_admin",
                message: "This would leave no active admin; promote someone else first.".into(),
                details: None,
            },
        })?;
    Ok(success(
        200,
        "Staff member updated",
        json!({ "staff": staff }),
    ))
}

/// `POST /api/crm/staff/{id}/password` `{password}`: ends that person's sessions.
pub async fn set_password(req: Request, ctx: &Ctx, id: i64) -> Result<Response, ApiError> {
    auth::require_staff(&req, ctx, Role::Admin).await?;
    let fields = read_json(&req, ctx).await?;
    let mut errors = Vec::new();
    let Some(new_password) = password(&fields, "password", &mut errors) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let hash = crypto::hash_password(&new_password, ctx.config.password_iterations).await?;
    let staff = store::staff::set_password(&ctx.db()?, id, &hash.encode(), &ctx.now.rfc3339())
        .await?
        .ok_or_else(staff_not_found)?;
    Ok(success(200, "Password changed", json!({ "staff": staff })))
}
