//! Creating a ticket: one D1 batch (one transaction, one round trip) that claims a
//! number only when every guard holds; a refusal is explained in a round trip of its
//! own.

use serde_json::Value;

use super::notifications::{claimed, enqueue_sql, OutboxPolicy, Outgoing};
use super::rate_limits::{
    all_have_room, bind_all, bucket_states, record_hits_returning_states, returned_states,
    state_columns,
};
use super::rows::{Notification, Ticket, TICKET_COLUMNS, TICKET_FIELDS};
use super::Rows;
use super::{int, prepare, text, time, Database, Params};
use crate::domain::abuse::{BucketState, Limit};
use crate::domain::notification::Kind;
use crate::domain::ticket::{Actor, Status};
use crate::domain::ticket_input::NewTicket;
use crate::domain::time::Timestamp;

/// The number SQL gives a ticket from the counter row; `TicketNumber::new` in the
/// domain is its Rust twin.
const NUMBER_FROM_COUNTER: &str = "printf('TKT-%d-%04d', c.year, c.last_seq)";

/// A retried create is recognized by (scope, key); `request_hash` tells a true
/// retry from a different request that reuses the key.
pub struct IdempotencyClaim<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub expires_at: Timestamp,
}

/// How a create treats the `user_id` it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLink {
    /// Trusted callers (integration keys, staff): the user must exist, else the create
    /// is refused (`unknown_user`).
    MustExist,
    /// Anonymous callers: the ticket is linked only when that user's email is the
    /// ticket's, and stored unlinked otherwise, with the same answer: a refusal would
    /// tell anyone which email belongs to which user id.
    IfEmailMatches,
}

/// Everything a create writes or checks besides the validated fields.
pub struct CreateTicket<'a> {
    pub ticket: &'a NewTicket,
    pub actor: Actor,
    pub assigned_to: Option<i64>,
    /// What a `user_id` the caller names must satisfy.
    pub user_link: UserLink,
    /// Whether the caller vouches for `user_id` (an integration key: the site's user
    /// is logged in). The ticket's requester is then verified when that user's email
    /// is the ticket's; a user with another email is linked but proves nothing.
    pub requester_verified: bool,
    /// Rate limits to check and count, over hits newer than `window_start` (unused
    /// without limits). The time of the create is `outbox.now`.
    pub limits: &'a [Limit],
    pub window_start: Timestamp,
    pub idempotency: Option<IdempotencyClaim<'a>>,
    pub outbox: &'a OutboxPolicy,
    /// Random and unique per request: marks the counter row this create claimed.
    pub request_id: &'a str,
    pub year: i32,
}

#[derive(Debug)]
pub enum CreateOutcome {
    Created(Ticket),
    /// The same idempotency key and request seen before: its ticket as first answered.
    Replayed(Ticket),
    /// The idempotency key was used for a different request.
    KeyReused,
    UnknownUser,
    InactiveAssignee,
    /// The limit at this index is full.
    RateLimited(usize),
    /// Refused, yet no guard explains it (a bug): answered as a 500.
    Unexplained,
}

pub struct CreateResult {
    pub outcome: CreateOutcome,
    pub buckets: Vec<BucketState>,
    /// Outbox rows written with the ticket, claimed for delivery after the response.
    pub notifications: Vec<Notification>,
}

/// The batch:
/// 1. claim the year's next number if every guard holds (user, assignee, rate limits,
///    no live idempotency record), marking the counter row with this request's id;
/// 2. insert the ticket numbered from the row this request claimed;
/// 3. append its `created` event;
/// 4. count a hit in each rate-limit bucket, reading back each bucket's state;
/// 5. keep the idempotency record;
/// 6. queue the customer's confirmation and the team's notification.
///
/// When a guard fails, statement 1 changes nothing, so 2 to 6 find no claimed row
/// and write nothing: no number is used up, no gap appears. D1 runs one batch at a
/// time, so the guards are exact under any concurrency.
///
/// A success costs that one round trip. A refusal costs a second: the statement that
/// says which guard failed (a replay's ticket, the full bucket and when it frees). If
/// by then nothing refuses any more (another request changed what refused it: the
/// user was added, the assignee reactivated), the batch runs once more with that
/// statement inside it, where its answer is the batch's own.
pub async fn create(db: &Database, c: &CreateTicket<'_>) -> worker::Result<CreateResult> {
    if let Some(result) = attempt(db, c, false).await?.into_created() {
        return Ok(result);
    }
    let refused = explain(&diagnosis(db, c).await?, c);
    if !matches!(refused.outcome, CreateOutcome::Unexplained) {
        return Ok(refused);
    }
    let mut again = attempt(db, c, true).await?;
    let row = std::mem::take(&mut again.diagnosis);
    Ok(again.into_created().unwrap_or_else(|| explain(&row, c)))
}

/// One run of the batch.
struct Attempt {
    created: Option<Ticket>,
    /// The buckets' states after this create's hits (when it was created).
    buckets: Vec<BucketState>,
    notifications: Vec<Notification>,
    /// The explaining row, when the batch was asked to read it (else null).
    diagnosis: Value,
}

impl Attempt {
    /// The answer, when the ticket was created.
    fn into_created(self) -> Option<CreateResult> {
        Some(CreateResult {
            outcome: CreateOutcome::Created(self.created?),
            buckets: self.buckets,
            notifications: self.notifications,
        })
    }
}

async fn attempt(db: &Database, c: &CreateTicket<'_>, explained: bool) -> worker::Result<Attempt> {
    let batch = create_statements(c, explained);
    let statements = batch
        .statements
        .iter()
        .map(|(sql, params)| db.prepare(sql, params))
        .collect::<worker::Result<Vec<_>>>()?;
    let results = db.batch(statements).await?;
    let first_row = |r: &Rows| -> worker::Result<Value> {
        Ok(r.rows::<Value>()?.into_iter().next().unwrap_or(Value::Null))
    };
    Ok(Attempt {
        created: results[1].rows::<Ticket>()?.into_iter().next(),
        buckets: match batch.hits {
            Some(i) => returned_states(&results[i].rows()?, c.limits),
            None => vec![],
        },
        notifications: claimed(results[batch.outbox].rows()?),
        diagnosis: match batch.diagnosis {
            Some(i) => first_row(&results[i])?,
            None => Value::Null,
        },
    })
}

/// The row that explains a refusal, read in a round trip of its own.
async fn diagnosis(db: &Database, c: &CreateTicket<'_>) -> worker::Result<Value> {
    let mut p = Params::default();
    let sql = diagnosis_sql(&mut p, c);
    Ok(prepare(db, &sql, &p.values)?
        .first()
        .await?
        .unwrap_or(Value::Null))
}

/// Before a create that must spend something first (a single-use Turnstile token):
/// whether this request is a retry of one already answered, by reading what explains
/// a refusal, and writing nothing. `Some` for a replay or a key reused with another
/// request; `None` when the create must go ahead.
pub async fn earlier_answer(
    db: &Database,
    c: &CreateTicket<'_>,
) -> worker::Result<Option<CreateResult>> {
    let answer = explain(&diagnosis(db, c).await?, c);
    Ok(matches!(
        answer.outcome,
        CreateOutcome::Replayed(_) | CreateOutcome::KeyReused
    )
    .then_some(answer))
}

/// A batch's statements (SQL and parameters), and where the results it reads are.
struct CreateBatch {
    statements: Vec<(String, Vec<Value>)>,
    /// The rate-limit hits, with each bucket's state (when there are limits).
    hits: Option<usize>,
    /// The outbox insert.
    outbox: usize,
    /// The explaining row (when asked for).
    diagnosis: Option<usize>,
}

/// The batch's statements; with `explained`, the last one reads what explains a refusal.
fn create_statements(c: &CreateTicket<'_>, explained: bool) -> CreateBatch {
    let t = c.ticket;
    let status = if c.assigned_to.is_some() {
        Status::Assigned
    } else {
        Status::Open
    };
    let claimed =
        "EXISTS (SELECT 1 FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2)";
    let claimed_params = || {
        let mut p = Params::default();
        p.bind(int(Some(c.year.into())));
        p.bind(text(c.request_id));
        p
    };

    // 1. The claim, under every guard.
    let mut p = claimed_params();
    let guards = guard_sql(&mut p, c);
    let claim = format!(
        "INSERT INTO ticket_counters (year, last_seq, claimed_by)
         SELECT ?1, 1, ?2 WHERE {guards}
         ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1, claimed_by = excluded.claimed_by"
    );
    let mut statements = vec![(claim, p.values)];

    // 2. The ticket.
    let mut p = claimed_params();
    let values = [
        text(&t.subject),
        text(&t.description),
        int(t.user_id),
        text(&t.customer_name),
        text(t.customer_email.as_str()),
        text(t.priority.as_str()),
        text(&t.category),
        text(status.as_str()),
        int(c.assigned_to),
        int(c.actor.staff_id()),
        time(c.outbox.now),
    ]
    .map(|v| p.bind(v));
    let [subject, description, user, name, email, priority, category, status_p, assignee, creator, now] =
        values;
    let verified = if c.requester_verified {
        format!("EXISTS (SELECT 1 {})", user_with_email(&user, &email))
    } else {
        "0".to_owned()
    };
    let user = stored_user_sql(c, &user, &email);
    let insert = format!(
        "INSERT INTO support_tickets
           (ticket_number, subject, description, user_id, customer_name, customer_email,
            priority, category, status, assigned_to, assigned_at, created_by, created_at, updated_at,
            requester_verified)
         SELECT {NUMBER_FROM_COUNTER}, {subject}, {description}, {user}, {name}, {email}, {priority},
                {category}, {status_p}, {assignee}, CASE WHEN {assignee} IS NULL THEN NULL ELSE {now} END,
                {creator}, {now}, {now}, {verified}
         FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2
         RETURNING {}",
        TICKET_COLUMNS.as_str()
    );
    statements.push((insert, p.values));

    // 3. The created event.
    let mut p = claimed_params();
    let data = serde_json::json!({
        "status": status.as_str(),
        "priority": t.priority.as_str(),
        "category": t.category,
        "assigned_to": c.assigned_to,
    });
    let [kind, actor_id, data, now] = [
        text(c.actor.kind()),
        int(c.actor.id()),
        text(&data.to_string()),
        time(c.outbox.now),
    ]
    .map(|v| p.bind(v));
    let event = format!(
        "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
         SELECT t.id, 'created', {kind}, {actor_id}, {data}, {now}
         FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = {NUMBER_FROM_COUNTER}
         WHERE c.year = ?1 AND c.claimed_by = ?2"
    );
    statements.push((event, p.values));

    // 4. One hit per rate-limit bucket, and each bucket's state after it.
    let mut hits_index = None;
    if !c.limits.is_empty() {
        let mut p = claimed_params();
        let buckets: Vec<&str> = c.limits.iter().map(|l| l.bucket.as_str()).collect();
        let list = p.bind(text(&serde_json::to_string(&buckets).unwrap_or_default()));
        let now = p.bind(time(c.outbox.now));
        let window_start = window_start_param(&mut p, c);
        let hits = record_hits_returning_states(&list, &now, &window_start, claimed);
        statements.push((hits, p.values));
        hits_index = Some(statements.len() - 1);
    }

    // 5. The idempotency record: the ticket as created, for replays.
    if let Some(idem) = &c.idempotency {
        let mut p = claimed_params();
        let [scope, key, hash, now, expires] = [
            text(idem.scope),
            text(idem.key),
            text(idem.request_hash),
            time(c.outbox.now),
            time(idem.expires_at),
        ]
        .map(|v| p.bind(v));
        let snapshot: Vec<String> = TICKET_FIELDS
            .iter()
            .map(|f| format!("'{f}', t.{f}"))
            .collect();
        let record = format!(
            "INSERT INTO idempotency_keys (scope, key, request_hash, ticket, created_at, expires_at)
             SELECT {scope}, {key}, {hash}, json_object({}), {now}, {expires}
             FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = {NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2
             ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash,
               ticket = excluded.ticket,
               created_at = excluded.created_at, expires_at = excluded.expires_at",
            snapshot.join(", ")
        );
        statements.push((record, p.values));
    }

    // 6. The outbox: confirmation to the customer, new ticket to the team.
    let mut p = claimed_params();
    let outbox = enqueue_sql(
        &mut p,
        &[
            Outgoing {
                kind: Kind::TicketCreated,
                recipient_sql: "t.customer_email",
            },
            Outgoing {
                kind: Kind::NewTicket,
                recipient_sql: "NULL",
            },
        ],
        &format!(
            "FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = {NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2"
        ),
        "NULL",
        c.outbox,
    );
    statements.push((outbox, p.values));
    let outbox_index = statements.len() - 1;

    // 7. What explains a refusal.
    let mut diagnosis_index = None;
    if explained {
        let mut p = claimed_params();
        let diagnosis = diagnosis_sql(&mut p, c);
        statements.push((diagnosis, p.values));
        diagnosis_index = Some(statements.len() - 1);
    }

    CreateBatch {
        statements,
        hits: hits_index,
        outbox: outbox_index,
        diagnosis: diagnosis_index,
    }
}

/// The claim's WHERE: every condition a create must meet.
fn guard_sql(p: &mut Params, c: &CreateTicket<'_>) -> String {
    let mut guards = vec![user_ok_sql(p, c), assignee_ok_sql(p, c)];
    let window_start = window_start_param(p, c);
    guards.push(all_have_room(&bind_all(p, c.limits, &window_start)));
    if let Some(idem) = &c.idempotency {
        guards.push(format!(
            "NOT {}",
            live_idempotency_sql(p, idem, c.outbox.now)
        ));
    }
    guards.join(" AND ")
}

/// The window's start, bound only when a limit uses it: D1 wants exactly as many
/// values as placeholders.
fn window_start_param(p: &mut Params, c: &CreateTicket<'_>) -> String {
    if c.limits.is_empty() {
        String::new()
    } else {
        p.bind(time(c.window_start))
    }
}

/// Whether the named user is acceptable (always, for anonymous callers: see `UserLink`).
fn user_ok_sql(p: &mut Params, c: &CreateTicket<'_>) -> String {
    match c.user_link {
        UserLink::MustExist => {
            let user = p.bind(int(c.ticket.user_id));
            format!("({user} IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = {user}))")
        }
        UserLink::IfEmailMatches => "1".to_owned(),
    }
}

/// The `user_id` to store: as sent, or for anonymous callers only when it matches.
fn stored_user_sql(c: &CreateTicket<'_>, user: &str, email: &str) -> String {
    match c.user_link {
        UserLink::MustExist => user.to_owned(),
        UserLink::IfEmailMatches => {
            format!("(SELECT id {})", user_with_email(user, email))
        }
    }
}

/// The user `user` names, when their email is `email` (the ticket's, in any case).
fn user_with_email(user: &str, email: &str) -> String {
    format!("FROM users WHERE id = {user} AND email = {email} COLLATE NOCASE")
}

fn assignee_ok_sql(p: &mut Params, c: &CreateTicket<'_>) -> String {
    let staff = p.bind(int(c.assigned_to));
    format!(
        "({staff} IS NULL OR EXISTS (SELECT 1 FROM crm_staff WHERE id = {staff} AND active = 1))"
    )
}

fn live_idempotency_sql(p: &mut Params, idem: &IdempotencyClaim<'_>, now: Timestamp) -> String {
    let scope = p.bind(text(idem.scope));
    let key = p.bind(text(idem.key));
    let now = p.bind(time(now));
    format!("EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = {scope} AND key = {key} AND expires_at > {now})")
}

/// One row: which guards hold, the idempotency record if any, and per bucket the
/// hits in the window and the hit whose expiry frees the next slot.
fn diagnosis_sql(p: &mut Params, c: &CreateTicket<'_>) -> String {
    let mut columns = vec![
        format!("{} AS user_ok", user_ok_sql(p, c)),
        format!("{} AS assignee_ok", assignee_ok_sql(p, c)),
    ];
    if let Some(idem) = &c.idempotency {
        let scope = p.bind(text(idem.scope));
        let key = p.bind(text(idem.key));
        let now = p.bind(time(c.outbox.now));
        let record = format!(
            "FROM idempotency_keys WHERE scope = {scope} AND key = {key} AND expires_at > {now}"
        );
        columns.push(format!("(SELECT request_hash {record}) AS idem_hash"));
        columns.push(format!("(SELECT ticket {record}) AS idem_ticket"));
    }
    let window_start = window_start_param(p, c);
    let buckets = bind_all(p, c.limits, &window_start);
    if !buckets.is_empty() {
        columns.push(state_columns(&buckets));
    }
    format!("SELECT {}", columns.join(", "))
}

/// A refused create's answer, from the row that explains it (`diagnosis_sql`).
fn explain(row: &Value, c: &CreateTicket<'_>) -> CreateResult {
    let buckets = bucket_states(row, c.limits.len());
    CreateResult {
        outcome: refusal(row, c, &buckets),
        buckets,
        notifications: vec![],
    }
}

/// Why nothing was created, most specific first: a retry, a bad reference, a full bucket.
fn refusal(row: &Value, c: &CreateTicket<'_>, buckets: &[BucketState]) -> CreateOutcome {
    if let (Some(idem), Some(hash)) = (&c.idempotency, row["idem_hash"].as_str()) {
        if hash != idem.request_hash {
            return CreateOutcome::KeyReused;
        }
        let ticket = row["idem_ticket"]
            .as_str()
            .and_then(|json| serde_json::from_slice::<Ticket>(json.as_bytes()).ok());
        if let Some(ticket) = ticket {
            return CreateOutcome::Replayed(ticket);
        }
    }
    if row["user_ok"].as_f64() != Some(1.0) {
        return CreateOutcome::UnknownUser;
    }
    if row["assignee_ok"].as_f64() != Some(1.0) {
        return CreateOutcome::InactiveAssignee;
    }
    c.limits
        .iter()
        .zip(buckets)
        .position(|(limit, state)| state.used >= limit.max)
        .map_or(CreateOutcome::Unexplained, CreateOutcome::RateLimited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email::EmailAddress;
    use crate::domain::ticket::Priority;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn ticket() -> NewTicket {
        NewTicket {
            subject: "Issue".into(),
            description: "Details".into(),
            customer_name: "Guest".into(),
            customer_email: EmailAddress::parse("ann@example.com").unwrap(),
            priority: Priority::Medium,
            category: "general".into(),
            user_id: None,
        }
    }

    fn outbox(email_skip: Option<&'static str>) -> OutboxPolicy {
        OutboxPolicy {
            now: at("2026-12-01T00:00:00.000Z"),
            lease_until: at("2026-12-01T00:02:00.000Z"),
            link_base: Some("https://help.example"),
            email_skip,
            webhook_skip: Some("WEBHOOK_URL or WEBHOOK_SECRET is not set"),
        }
    }

    /// With `CREATE_BATCH_SQL` set, writes an anonymous create's batch as a success runs
    /// it (two limits, an idempotency key) there as JSON `[[sql, params], ...]`, for
    /// `bench/create-sql.mjs` (the batch's per-statement SQLite cost and query plans).
    fn dump_for_profile(statements: &[(String, Vec<Value>)]) {
        if let Ok(path) = std::env::var("CREATE_BATCH_SQL") {
            let json = serde_json::to_string(statements).unwrap();
            std::fs::write(path, json).unwrap();
        }
    }

    /// D1 refuses a statement bound with more or fewer values than its highest `?N`.
    #[test]
    fn every_statement_binds_exactly_the_parameters_it_uses() {
        let t = ticket();
        let limits = [
            Limit {
                name: "email",
                bucket: "email:ann@example.com".into(),
                max: 5,
            },
            Limit {
                name: "ip",
                bucket: "ip:2001:db8::1".into(),
                max: 20,
            },
        ];
        for (limits, idempotency, email_skip) in [
            (&limits[..], true, None),
            (&limits[..], false, Some("EMAIL_API_KEY is not set")),
            (&limits[..1], true, Some("EMAIL_API_KEY is not set")),
            (&[][..], false, None),
        ] {
            let outbox = outbox(email_skip);
            let c = CreateTicket {
                ticket: &t,
                actor: Actor::Public,
                assigned_to: None,
                user_link: if limits.is_empty() {
                    UserLink::MustExist
                } else {
                    UserLink::IfEmailMatches
                },
                requester_verified: limits.is_empty(),
                limits,
                window_start: at("2026-11-30T23:00:00.000Z"),
                idempotency: idempotency.then_some(IdempotencyClaim {
                    scope: "email:ann@example.com",
                    key: "k1",
                    request_hash: "h",
                    expires_at: at("2026-12-02T00:00:00.000Z"),
                }),
                outbox: &outbox,
                request_id: "r1",
                year: 2026,
            };
            for explained in [false, true] {
                let batch = create_statements(&c, explained);
                if limits.len() == 2 && idempotency && !explained {
                    dump_for_profile(&batch.statements);
                }
                let sql = |i: usize| batch.statements[i].0.as_str();
                assert!(sql(batch.outbox).starts_with("INSERT INTO notifications"));
                assert_eq!(batch.hits.is_some(), !limits.is_empty());
                if let Some(hits) = batch.hits {
                    assert!(sql(hits).contains("RETURNING bucket"));
                }
                // Only an explained batch reads the explanation: a success never pays for it.
                assert_eq!(batch.diagnosis.is_some(), explained);
                if let Some(diagnosis) = batch.diagnosis {
                    assert!(sql(diagnosis).starts_with("SELECT"));
                    assert_eq!(diagnosis, batch.statements.len() - 1);
                }
                for (sql, params) in &batch.statements {
                    assert_eq!(
                        super::super::highest_placeholder(sql),
                        params.len(),
                        "{sql}"
                    );
                }
            }
        }
    }
}
