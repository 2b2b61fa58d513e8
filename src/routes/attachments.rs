//! Files: uploads by a customer (with the status link's token) or staff, as the raw
//! request body; downloads; an admin's delete. Sending a file is a second step: a
//! message that references its id (`attachment_ids`).

use super::answers::{staff_download_path, AttachmentAnswer, PublicAttachmentAnswer};
use super::call::{Answer, Call, StaffCall};
use super::crm_tickets::ticket_id;
use super::public_status::{
    authorize, not_found, presented_token, public_ticket, reply_limits, Client,
};
use crate::app::attachments::{self, incoming, Uploading};
use crate::domain::attachment::{UploadStatus, Uploader};
use crate::error::ApiError;
use crate::http::{success, Named};
use crate::store::attachments as stored;
use crate::store::tickets::TicketRef;

fn no_attachment() -> ApiError {
    ApiError::NotFound {
        message: "No attachment has this id.",
    }
}

/// `POST /api/tickets/{ticket_number}/attachments?filename=...` with the token: the
/// file as the body (`Content-Type` its type, `Content-Length` required). Counts
/// against the same limits as a reply.
pub async fn customer_upload(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let number = params.ticket_number()?;
    let file = incoming(&req, ctx.config)?;
    let token = presented_token(&req, None);
    let db = ctx.db()?;
    let ticket = public_ticket(ctx, &db, &number, token.as_deref()).await?;
    let limits = reply_limits(ctx, &Client::address(&req.client_ip()), ticket.id);
    let row = attachments::upload(
        ctx,
        &req,
        &file,
        &Uploading {
            ticket_id: ticket.id,
            uploader: Uploader::Customer,
            staff_id: None,
            limits: &limits,
            refuse_closed: true,
        },
    )
    .await?;
    let answer = PublicAttachmentAnswer::new(&row, &ticket.ticket_number);
    let location = answer.download_url().to_owned();
    Ok(success(
        201,
        "File uploaded; send it by listing its id in a reply's attachment_ids",
        &Named("attachment", answer),
    )
    .with_header("Location", location))
}

/// `GET /api/tickets/{ticket_number}/attachments/{id}` with the token: a file of this
/// ticket that public routes may show. Anything else (a wrong token, another
/// ticket's file, an internal one) is the same 404.
pub async fn customer_download(call: Call<'_>) -> Answer {
    let (req, ctx, params) = call.parts();
    let id = params.id()?;
    let number = params.ticket_number()?;
    let db = ctx.db()?;
    let found = stored::public_one(&db, &TicketRef::Number(number.clone()), id).await?;
    let token = presented_token(&req, None);
    let (_, row) = authorize(ctx, &db, found, &number, token.as_deref()).await?;
    let row = row.ok_or_else(not_found)?;
    attachments::download(ctx, &req, &row).await
}

/// `POST /api/crm/tickets/{id or number}/attachments?filename=...`: a staff member's
/// file.
pub async fn staff_upload(call: StaffCall<'_>) -> Answer {
    let (req, ctx, session, params) = call.parts();
    let ticket = params.ticket()?;
    let file = incoming(&req, ctx.config)?;
    let ticket_id = ticket_id(&ctx.db()?, &ticket).await?;
    let row = attachments::upload(
        ctx,
        &req,
        &file,
        &Uploading {
            ticket_id,
            uploader: Uploader::Staff,
            staff_id: Some(session.staff_id()),
            limits: &[],
            refuse_closed: false,
        },
    )
    .await?;
    Ok(success(
        201,
        "File uploaded; send it by listing its id in a message's attachment_ids",
        &Named("attachment", AttachmentAnswer::from(&row)),
    )
    .with_header("Location", staff_download_path(row.id)))
}

/// `GET /api/crm/attachments/{id}`: any uploaded file, internal ones included.
pub async fn staff_download(call: StaffCall<'_>) -> Answer {
    let (req, ctx, _, params) = call.parts();
    let row = stored::one(&ctx.db()?, params.id()?)
        .await?
        .filter(|row| row.status == UploadStatus::Uploaded)
        .ok_or_else(no_attachment)?;
    attachments::download(ctx, &req, &row).await
}

/// `DELETE /api/crm/attachments/{id}` (admins): the file goes from R2 and the thread;
/// an `attachment_deleted` event records what it was.
pub async fn delete(call: StaffCall<'_>) -> Answer {
    let (_, ctx, session, params) = call.parts();
    let row = attachments::delete(ctx, params.id()?, session.staff_id())
        .await?
        .ok_or_else(no_attachment)?;
    Ok(success(
        200,
        "Attachment deleted",
        &Named("attachment", AttachmentAnswer::from(&row)),
    ))
}
