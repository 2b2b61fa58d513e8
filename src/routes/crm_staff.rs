//! Staff administration (admins only: the route table says so), and the list of
//! assignees any staff member may read.

use super::answers::{all, AssigneeAnswer, StaffAnswer};
use super::call::{Answer, ClaimCall, StaffCall};
use super::input::read_json;
use crate::app::sessions::Staff;
use crate::domain::staff::{password, NewStaff, StaffUpdate};
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::{success, Named};
use crate::platform::webcrypto::hash_password;
use crate::store::rows::StaffMember;
use crate::store::staff::{self, UpdateRefused};

fn staff_not_found() -> ApiError {
    ApiError::NotFound {
        message: "No staff member has this id.",
    }
}

/// `{staff: ...}`: what every route here answers about one staff member.
fn one(staff: &StaffMember) -> Named<StaffAnswer<'_>> {
    Named("staff", StaffAnswer::from(staff))
}

/// `GET /api/crm/staff`
pub async fn list(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, _) = call.parts();
    let caller = Staff::Claimed(claim);
    let staff = caller.open(staff::list(&ctx.db()?, &caller.guard()).await?)?;
    Ok(success(
        200,
        "Staff",
        &Named("staff", all::<_, StaffAnswer>(&staff)),
    ))
}

/// `GET /api/crm/assignees`: active staff as `{id, name, role}`, for anyone who
/// assigns tickets (agents cannot read `/api/crm/staff`, which has emails and
/// deactivated accounts).
pub async fn assignees(call: ClaimCall<'_>) -> Answer {
    let (_, ctx, claim, _) = call.parts();
    let caller = Staff::Claimed(claim);
    let staff = caller.open(staff::active(&ctx.db()?, &caller.guard()).await?)?;
    Ok(success(
        200,
        "Assignees",
        &Named("assignees", all::<_, AssigneeAnswer>(&staff)),
    ))
}

/// `POST /api/crm/staff` `{email, name, role, password}`
pub async fn create(call: StaffCall<'_>) -> Answer {
    let (req, ctx, _, _) = call.parts();
    let new = NewStaff::parse(&read_json(&req, ctx).await?)?;
    let hash = hash_password(&new.password, ctx.config.password_iterations).await?;
    let created = staff::create(&ctx.db()?, &new, &hash.encode(), ctx.now)
        .await?
        .ok_or_else(|| ApiError::Conflict {
            code: "email_taken",
            message: "A staff member with this email already exists.".into(),
            details: None,
        })?;
    Ok(success(201, "Staff member created", &one(&created))
        .with_header("Location", format!("/api/crm/staff/{}", created.id)))
}

/// `PATCH /api/crm/staff/{id}` `{name?, role?, active?}`; a role change or
/// deactivation ends that person's live sessions at once.
pub async fn update(call: StaffCall<'_>) -> Answer {
    let (req, ctx, _, params) = call.parts();
    let id = params.id()?;
    let change = StaffUpdate::parse(&read_json(&req, ctx).await?)?;
    let updated = staff::update(&ctx.db()?, id, &change, ctx.now)
        .await?
        .map_err(|refused| match refused {
            UpdateRefused::NotFound => staff_not_found(),
            UpdateRefused::LastAdmin => ApiError::Conflict {
                code: "last_admin",
                message: "This would leave no active admin; promote someone else first.".into(),
                details: None,
            },
        })?;
    Ok(success(200, "Staff member updated", &one(&updated)))
}

/// `POST /api/crm/staff/{id}/password` `{password}`: ends that person's sessions.
pub async fn set_password(call: StaffCall<'_>) -> Answer {
    let (req, ctx, _, params) = call.parts();
    let id = params.id()?;
    let fields = read_json(&req, ctx).await?;
    let mut errors = Vec::new();
    let Some(new_password) = password(&fields, "password", &mut errors) else {
        return Err(ValidationError::from_details(errors).into());
    };
    let hash = hash_password(&new_password, ctx.config.password_iterations).await?;
    let updated = staff::set_password(&ctx.db()?, id, &hash.encode(), ctx.now)
        .await?
        .ok_or_else(staff_not_found)?;
    Ok(success(200, "Password changed", &one(&updated)))
}
