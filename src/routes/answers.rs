//! What the CRM routes answer about staff, tickets, their threads and the outbox.
//! Each is built from a store row field by field, so a new column becomes visible
//! only when it is added here.

use serde::Serialize;
use serde_json::Value;

use crate::domain::attachment::{UploadStatus, Uploader};
use crate::domain::notification::{Channel, DeliveryStatus, Kind};
use crate::domain::staff::Role;
use crate::domain::ticket::{MessageAuthor, Priority, Status, TicketNumber};
use crate::domain::time::Timestamp;
use crate::store::rows::{
    ApiKey, Attachment, Message, Notification, StaffMember, Ticket, TicketEvent,
};

#[derive(Serialize)]
pub struct StaffAnswer<'a> {
    id: i64,
    email: &'a str,
    name: &'a str,
    role: Role,
    active: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> From<&'a StaffMember> for StaffAnswer<'a> {
    fn from(s: &'a StaffMember) -> Self {
        StaffAnswer {
            id: s.id,
            email: &s.email,
            name: &s.name,
            role: s.role,
            active: s.active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// What any staff member may know about a colleague: enough to assign a ticket.
#[derive(Serialize)]
pub struct AssigneeAnswer<'a> {
    id: i64,
    name: &'a str,
    role: Role,
}

impl<'a> From<&'a StaffMember> for AssigneeAnswer<'a> {
    fn from(s: &'a StaffMember) -> Self {
        AssigneeAnswer {
            id: s.id,
            name: &s.name,
            role: s.role,
        }
    }
}

#[derive(Serialize)]
pub struct TicketAnswer<'a> {
    id: i64,
    ticket_number: &'a TicketNumber,
    subject: &'a str,
    description: &'a str,
    user_id: Option<i64>,
    customer_name: Option<&'a str>,
    customer_email: &'a str,
    priority: Priority,
    category: Option<&'a str>,
    status: Status,
    assigned_to: Option<i64>,
    assigned_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    created_by: Option<i64>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
    requester_verified: bool,
}

impl<'a> From<&'a Ticket> for TicketAnswer<'a> {
    fn from(t: &'a Ticket) -> Self {
        TicketAnswer {
            id: t.id,
            ticket_number: &t.ticket_number,
            subject: &t.subject,
            description: &t.description,
            user_id: t.user_id,
            customer_name: t.customer_name.as_deref(),
            customer_email: &t.customer_email,
            priority: t.priority,
            category: t.category.as_deref(),
            status: t.status,
            assigned_to: t.assigned_to,
            assigned_at: t.assigned_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            created_by: t.created_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
            requester_verified: t.requester_verified,
        }
    }
}

#[derive(Serialize)]
pub struct EventAnswer<'a> {
    id: i64,
    kind: &'a str,
    actor_type: &'a str,
    actor_id: Option<i64>,
    data: &'a Value,
    created_at: Timestamp,
}

impl<'a> From<&'a TicketEvent> for EventAnswer<'a> {
    fn from(e: &'a TicketEvent) -> Self {
        EventAnswer {
            id: e.id,
            kind: &e.kind,
            actor_type: &e.actor_type,
            actor_id: e.actor_id,
            data: &e.data,
            created_at: e.created_at,
        }
    }
}

/// A message as staff see it (internal notes included, marked), with its files.
#[derive(Serialize)]
pub struct MessageAnswer<'a> {
    id: i64,
    author_type: MessageAuthor,
    staff_id: Option<i64>,
    body: &'a str,
    internal: bool,
    created_at: Timestamp,
    attachments: Vec<AttachmentAnswer<'a>>,
}

impl<'a> MessageAnswer<'a> {
    pub fn new(m: &'a Message, attachments: impl Iterator<Item = &'a Attachment>) -> Self {
        MessageAnswer {
            id: m.id,
            author_type: m.author_type,
            staff_id: m.staff_id,
            body: &m.body,
            internal: m.internal,
            created_at: m.created_at,
            attachments: attachments.map(AttachmentAnswer::from).collect(),
        }
    }
}

/// A file as staff see it: who uploaded it, where it was sent, whether it is internal.
#[derive(Serialize)]
pub struct AttachmentAnswer<'a> {
    id: i64,
    ticket_id: i64,
    message_id: Option<i64>,
    filename: &'a str,
    content_type: &'a str,
    size: u64,
    uploaded_by: Uploader,
    staff_id: Option<i64>,
    status: UploadStatus,
    internal: bool,
    created_at: Timestamp,
    uploaded_at: Option<Timestamp>,
    download_url: String,
}

impl<'a> From<&'a Attachment> for AttachmentAnswer<'a> {
    fn from(a: &'a Attachment) -> Self {
        AttachmentAnswer {
            id: a.id,
            ticket_id: a.ticket_id,
            message_id: a.message_id,
            filename: &a.filename,
            content_type: &a.content_type,
            size: a.size,
            uploaded_by: a.uploader_type,
            staff_id: a.staff_id,
            status: a.status,
            internal: a.internal,
            created_at: a.created_at,
            uploaded_at: a.uploaded_at,
            download_url: staff_download_path(a.id),
        }
    }
}

/// A file as a customer sees it: its download link takes the ticket's token (header
/// or `?token=`), like the status itself.
#[derive(Serialize)]
pub struct PublicAttachmentAnswer<'a> {
    id: i64,
    filename: &'a str,
    content_type: &'a str,
    size: u64,
    created_at: Timestamp,
    download_url: String,
}

impl<'a> PublicAttachmentAnswer<'a> {
    pub fn new(a: &'a Attachment, number: &TicketNumber) -> Self {
        PublicAttachmentAnswer {
            id: a.id,
            filename: &a.filename,
            content_type: &a.content_type,
            size: a.size,
            created_at: a.created_at,
            download_url: public_download_path(number, a.id),
        }
    }
}

impl PublicAttachmentAnswer<'_> {
    pub fn download_url(&self) -> &str {
        &self.download_url
    }
}

/// Where staff download a file.
pub fn staff_download_path(id: i64) -> String {
    format!("/api/crm/attachments/{id}")
}

/// Where a customer downloads a file (add the token).
pub fn public_download_path(number: &TicketNumber, id: i64) -> String {
    format!("/api/tickets/{number}/attachments/{id}")
}

#[derive(Serialize)]
pub struct ApiKeyAnswer<'a> {
    id: i64,
    name: &'a str,
    key_prefix: &'a str,
    rate_limit: i64,
    created_by: Option<i64>,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

impl<'a> From<&'a ApiKey> for ApiKeyAnswer<'a> {
    fn from(k: &'a ApiKey) -> Self {
        ApiKeyAnswer {
            id: k.id,
            name: &k.name,
            key_prefix: &k.key_prefix,
            rate_limit: k.rate_limit,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Serialize)]
pub struct NotificationAnswer<'a> {
    id: i64,
    kind: Kind,
    channel: Channel,
    ticket_id: Option<i64>,
    message_id: Option<i64>,
    recipient: Option<&'a str>,
    link_base: Option<&'a str>,
    status: DeliveryStatus,
    attempts: i64,
    next_attempt_at: Timestamp,
    last_error: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    sent_at: Option<Timestamp>,
}

impl<'a> From<&'a Notification> for NotificationAnswer<'a> {
    fn from(n: &'a Notification) -> Self {
        NotificationAnswer {
            id: n.id,
            kind: n.kind,
            channel: n.channel,
            ticket_id: n.ticket_id,
            message_id: n.message_id,
            recipient: n.recipient.as_deref(),
            link_base: n.link_base.as_deref(),
            status: n.status,
            attempts: n.attempts,
            next_attempt_at: n.next_attempt_at,
            last_error: n.last_error.as_deref(),
            created_at: n.created_at,
            updated_at: n.updated_at,
            sent_at: n.sent_at,
        }
    }
}

/// Renders a list of rows as their answers.
pub fn all<'a, R, A: From<&'a R>>(rows: &'a [R]) -> Vec<A> {
    rows.iter().map(A::from).collect()
}
