//! `POST /mcp`: the same operations as the HTTP API, as MCP tools for AI agents. The
//! protocol is `app::mcp`; this is the endpoint: who may call (an integration key gets
//! the customer tools, a staff session the staff tools too), and each tool run through
//! the very handler the HTTP route uses, so validation, limits, idempotency and answers
//! are the same. A refusal is a tool result with `isError` and the API's message.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::call::{Answer, Call};
use super::public_status::{self, Client};
use super::public_tickets::{self, PublicCreate};
use super::{crm_api_keys, crm_tickets, input};
use crate::app::create::RequestIdentity;
use crate::app::mcp::{self, bare_error, code, Reply, Step};
use crate::app::sessions::{self, Session, Staff};
use crate::app::Ctx;
use crate::domain::abuse::{key_bucket, valid_idempotency_key};
use crate::domain::lifecycle::Action;
use crate::domain::staff::Role;
use crate::domain::ticket::TicketNumber;
use crate::domain::validation::ValidationError;
use crate::error::ApiError;
use crate::http::form_post::FormClient;
use crate::http::headers::bearer;
use crate::http::{BodyKind, Response};
use crate::platform::request::Request;
use crate::store::rows::ApiKey;
use crate::store::tickets::TicketRef;

/// The tools, with their schemas, as `scripts/openapi.mjs` writes them from
/// openapi/source.mjs: `{"customer": [...], "staff": [...]}`.
static TOOLS: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_slice(include_bytes!("../../openapi/mcp-tools.json")).unwrap_or_default()
});

/// Who is calling.
enum Caller {
    /// A trusted integration (the AI assistant's backend): the customer tools.
    Integration(ApiKey),
    /// A staff member: every tool.
    Staff(Session),
}

pub async fn endpoint(call: Call<'_>) -> Answer {
    let (req, ctx, _) = call.parts();
    if req
        .header("Origin")
        .is_some_and(|origin| !origin_allowed(ctx, &origin))
    {
        return Ok(rpc(
            403,
            &bare_error(
                code::FORBIDDEN,
                "This Origin may not call the MCP endpoint.",
            ),
        ));
    }
    let caller = authenticate(&req, ctx).await?;
    input::require_json(&req)?;
    let body = input::body(&req, ctx).await?;
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return Ok(rpc(400, &bare_error(code::PARSE_ERROR, "Parse error.")));
    };
    let headers = mcp::Headers {
        protocol_version: req.header("MCP-Protocol-Version"),
        method: req.header("Mcp-Method"),
        name: req.header("Mcp-Name"),
    };
    Ok(match mcp::step(message, &headers) {
        Step::Accept => Response::empty(202),
        Step::Answer(status, body) => rpc(status, &body),
        Step::ListTools(reply) => rpc(200, &reply.tools(tools_of(&caller).clone())),
        Step::CallTool {
            reply,
            name,
            arguments,
        } => rpc(
            200,
            &run(ctx, &req, &caller, &reply, &name, arguments).await,
        ),
    })
}

fn rpc(status: u16, message: &Value) -> Response {
    Response::json(status, message)
}

/// Browsers may call only from this service's own origin or a listed one: a present,
/// foreign `Origin` is refused (DNS rebinding). Server-side clients send none.
fn origin_allowed(ctx: &Ctx, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    origin == ctx.request_origin
        || ctx.config.public_base_url.as_deref() == Some(origin)
        || matches!(&ctx.config.public_origins, crate::config::AllowedOrigins::List(list) if list.iter().any(|o| o == origin))
}

/// `Authorization: Bearer hk_...` (an integration key) or a staff session token.
async fn authenticate(req: &Request, ctx: &Ctx) -> Result<Caller, ApiError> {
    let header = req.header("Authorization");
    let credential = header.as_deref().and_then(bearer);
    // By shape, not by prefix alone: a random session token may begin with `hk_`.
    match credential {
        Some(token) if sessions::looks_like_a_session_token(token) => Ok(Caller::Staff(
            sessions::authenticate(header.as_deref(), ctx, Role::Agent).await?,
        )),
        Some(key) if key.starts_with(crm_api_keys::KEY_PREFIX) => {
            public_tickets::integration_key(header.as_deref(), ctx)
                .await?
                .map(Caller::Integration)
                .ok_or_else(unauthorized)
        }
        Some(_) | None => Err(unauthorized()),
    }
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized {
        message: "Send Authorization: Bearer <integration key or staff session token>.",
    }
}

fn tools_of(caller: &Caller) -> &'static Value {
    let audience = match caller {
        Caller::Integration(_) => "customer",
        Caller::Staff(_) => "staff",
    };
    &TOOLS[audience]
}

fn exists(tools: &Value, name: &str) -> bool {
    tools
        .as_array()
        .is_some_and(|list| list.iter().any(|t| t["name"] == name))
}

/// Runs one tool and answers its result (or the protocol error for an unknown tool).
async fn run(
    ctx: &Ctx,
    req: &Request,
    caller: &Caller,
    reply: &Reply,
    name: &str,
    args: Map<String, Value>,
) -> Value {
    if !exists(&TOOLS["staff"], name) {
        return reply.error(code::INVALID_PARAMS, &format!("Unknown tool: {name}"));
    }
    let answer = if exists(tools_of(caller), name) {
        tool(ctx, req, caller, name, args).await
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            message: "This tool is for support staff: call it with a staff session token.",
        })
    };
    match answer.and_then(|response| data_of(&response)) {
        Ok(data) => reply.tool_result(data),
        Err(error) => {
            if let Some(cause) = error.internal_cause() {
                // The answer is a tool result, not an error: the log line gets the cause.
                ctx.note(format!("mcp {name}: {cause}"));
            }
            reply.tool_refusal(&error.message(), &error.body())
        }
    }
}

/// The `data` of a handler's success envelope: the tool's structured result.
fn data_of(response: &Response) -> Result<Value, ApiError> {
    response
        .body()
        .and_then(|body| serde_json::from_slice::<Value>(body).ok())
        .map(|mut envelope| envelope["data"].take())
        .ok_or_else(|| ApiError::Internal("a tool's handler answered no JSON".into()))
}

/// The tool's operation: the handler the HTTP route calls, with the arguments as fields.
async fn tool(
    ctx: &Ctx,
    req: &Request,
    caller: &Caller,
    name: &str,
    mut args: Map<String, Value>,
) -> Answer {
    let client = match caller {
        Caller::Integration(key) => {
            Client::named(key_bucket(key.id), Some(public_tickets::key_allowance(key)))
        }
        Caller::Staff(session) => Client::named(format!("staff:{}", session.staff_id()), None),
    };
    match (name, caller) {
        ("create_ticket", caller) => {
            let key = match args.remove("idempotency_key") {
                None | Some(Value::Null) => None,
                Some(Value::String(k)) if valid_idempotency_key(&k) => Some(k),
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_idempotency_key",
                        "idempotency_key must be 1 to 255 printable ASCII characters.",
                    ))
                }
            };
            // The arguments identify the request: a retry with the same ones replays.
            let body = serde_json::to_vec(&args).unwrap_or_default();
            let request = RequestIdentity {
                path: "mcp:create_ticket",
                media: "json",
                body: &body,
            };
            let idempotency = key.map(|k| (k, request));
            match caller {
                Caller::Integration(key) => {
                    public_tickets::create_ticket(
                        ctx,
                        PublicCreate {
                            fields: &args,
                            key: Some(key),
                            client_ip: &req.client_ip(),
                            idempotency,
                            client: FormClient::Api,
                        },
                    )
                    .await
                }
                Caller::Staff(session) => {
                    crm_tickets::create_ticket(ctx, session, &args, idempotency).await
                }
            }
        }
        ("get_ticket_status", _) => {
            let number = ticket_number(&args)?;
            public_status::ticket_status(ctx, number, string(&args, "access_token")).await
        }
        ("add_customer_reply", _) => {
            let number = ticket_number(&args)?;
            let token = string(&args, "access_token");
            public_status::customer_reply(ctx, number, token, &args, &client, BodyKind::Json).await
        }
        ("resend_ticket_links", _) => public_status::request_links(ctx, &args, &client).await,
        (_, Caller::Staff(session)) => staff_tool(ctx, session, name, &args).await,
        (_, Caller::Integration(_)) => Err(ApiError::no_route()),
    }
}

async fn staff_tool(ctx: &Ctx, session: &Session, name: &str, args: &Map<String, Value>) -> Answer {
    match name {
        "search_tickets" => {
            let pairs: Vec<(String, String)> = args
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    Value::Bool(b) => Some((k.clone(), b.to_string())),
                    _ => None,
                })
                .collect();
            crm_tickets::list_tickets(ctx, Staff::Checked(session), &pairs).await
        }
        "get_ticket" => crm_tickets::view(ctx, Staff::Checked(session), &ticket_ref(args)?).await,
        "reply_to_ticket" => {
            crm_tickets::add_staff_message(ctx, session, &ticket_ref(args)?, args).await
        }
        "assign_ticket" => {
            let staff = Staff::Checked(session);
            crm_tickets::act_on(ctx, staff, &ticket_ref(args)?, Action::Assign, args).await
        }
        "change_ticket_status" => {
            let action = match string(args, "action") {
                Some("resolve") => Action::Resolve,
                Some("close") => Action::Close,
                Some("reopen") => Action::Reopen,
                _ => {
                    return Err(ValidationError::single(
                        "action",
                        "invalid_choice",
                        "action must be one of: resolve, close, reopen",
                    )
                    .into())
                }
            };
            crm_tickets::act_on(
                ctx,
                Staff::Checked(session),
                &ticket_ref(args)?,
                action,
                args,
            )
            .await
        }
        "ticket_stats" => crm_tickets::ticket_stats(ctx, Staff::Checked(session)).await,
        _ => Err(ApiError::no_route()),
    }
}

fn string<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

fn ticket_number(args: &Map<String, Value>) -> Result<TicketNumber, ApiError> {
    string(args, "ticket_number")
        .and_then(|n| TicketNumber::parse(n.trim()))
        .ok_or_else(|| {
            ValidationError::single(
                "ticket_number",
                "invalid_type",
                "ticket_number must be a ticket number such as TKT-2026-0042",
            )
            .into()
        })
}

/// The `ticket` argument: an id (a number) or a ticket number.
fn ticket_ref(args: &Map<String, Value>) -> Result<TicketRef, ApiError> {
    let found = match args.get("ticket") {
        Some(Value::Number(n)) => n.as_i64().filter(|id| *id > 0).map(TicketRef::Id),
        Some(Value::String(s)) => TicketNumber::parse(s.trim())
            .map(TicketRef::Number)
            .or_else(|| {
                s.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(TicketRef::Id)
            }),
        _ => None,
    };
    found.ok_or_else(|| {
        ValidationError::single(
            "ticket",
            "invalid_type",
            "ticket must be a ticket's id or its number (TKT-2026-0042)",
        )
        .into()
    })
}
