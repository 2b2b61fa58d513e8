//! The Model Context Protocol over Streamable HTTP, stateless, as JSON-RPC on one POST
//! endpoint, in both revisions clients speak: 2025-11-25 (`initialize`, then
//! `MCP-Protocol-Version` on every request) and 2026-07-28 (no handshake: the version
//! in every request's `_meta`, and `Mcp-Method`/`Mcp-Name` headers that must match the
//! body). This module reads a message and says what to do with it; it runs no tool.
//! Hand-written on serde_json: an MCP crate's types alone would cost ~120 KB of wasm.

use serde_json::{json, Map, Value};

use crate::domain::encoding::base64_decode;

/// The stateless revision (the version lives in each request's `_meta`).
pub const MODERN: &str = "2026-07-28";
/// The newest revision with an `initialize` handshake.
pub const LEGACY: &str = "2025-11-25";
/// What a legacy request's `MCP-Protocol-Version` may say. Without the header the
/// spec says to assume 2025-03-26, whose shapes for the methods served here are the same.
const LEGACY_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// JSON-RPC error codes (the standard ones, and MCP's own).
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const HEADER_MISMATCH: i64 = -32020;
    pub const UNSUPPORTED_VERSION: i64 = -32022;
    /// Implementation-defined: a transport-level refusal (a foreign `Origin`).
    pub const FORBIDDEN: i64 = -32000;
}

/// Which revision a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Legacy,
    Modern,
}

/// The MCP headers of a request.
#[derive(Debug, Default, Clone)]
pub struct Headers {
    pub protocol_version: Option<String>,
    pub method: Option<String>,
    pub name: Option<String>,
}

/// What the endpoint does with a message.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// A notification (or a response): accepted, `202` with no body.
    Accept,
    /// Answer at once: an HTTP status and the JSON-RPC message.
    Answer(u16, Value),
    /// List the tools the caller may use.
    ListTools(Reply),
    /// Call a tool with these arguments.
    CallTool {
        reply: Reply,
        name: String,
        arguments: Map<String, Value>,
    },
}

/// How to wrap a result for the request being answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    id: Value,
    era: Era,
}

/// The server's name and version, in answers that carry them.
const SERVER_NAME: &str = "helpdesk-worker";
const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
const INSTRUCTIONS: &str =
    "Support tickets. With an integration key: open a ticket for the person you \
help (create_ticket, with an idempotency_key), read its status and reply with its access token, or \
email them their links. With a staff session: search, read, reply to, assign and resolve tickets.";

fn error(id: Option<&Value>, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    let mut message = json!({"jsonrpc": "2.0", "error": error});
    if let Some(id) = id {
        message["id"] = id.clone();
    }
    message
}

/// A transport-level JSON-RPC error without an id (parse errors, a foreign Origin).
pub fn bare_error(code: i64, message: &str) -> Value {
    error(None, code, message, None)
}

fn unsupported(id: &Value, requested: &str) -> Step {
    Step::Answer(
        400,
        error(
            Some(id),
            code::UNSUPPORTED_VERSION,
            "Unsupported protocol version",
            Some(json!({"supported": [MODERN, LEGACY], "requested": requested})),
        ),
    )
}

/// Decodes an `Mcp-Name` header: as sent, or `=?base64?<base64 of UTF-8>?=`.
fn header_name(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        Some(encoded) => String::from_utf8(base64_decode(encoded)?).ok(),
        None => Some(value.to_owned()),
    }
}

/// Reads one message (already parsed as JSON) and decides what to do with it.
pub fn step(message: Value, headers: &Headers) -> Step {
    let Value::Object(message) = message else {
        return Step::Answer(
            400,
            error(
                None,
                code::INVALID_REQUEST,
                "Send one JSON-RPC message (batches are not supported).",
                None,
            ),
        );
    };
    let id = message.get("id");
    let valid_id = id.is_none_or(|id| id.is_string() || id.is_i64() || id.is_u64());
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || !valid_id {
        return Step::Answer(
            400,
            error(
                id.filter(|_| valid_id),
                code::INVALID_REQUEST,
                "Invalid JSON-RPC request.",
                None,
            ),
        );
    }
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        // A response from the client: nothing asked of us.
        return if message.contains_key("result") || message.contains_key("error") {
            Step::Accept
        } else {
            Step::Answer(
                400,
                error(id, code::INVALID_REQUEST, "A request needs a method.", None),
            )
        };
    };
    let params = message.get("params");
    let meta = params.and_then(|p| p.get("_meta"));
    let claim = meta
        .and_then(|m| m.get(META_VERSION))
        .and_then(Value::as_str);
    let header = headers.protocol_version.as_deref();
    let modern = claim.is_some() || header.is_some_and(|v| v >= MODERN);
    match (modern, id) {
        (false, None) => Step::Accept,
        (false, Some(id)) => legacy(id, method, params, header),
        (true, id) => modern_step(id, method, params, meta, claim, headers),
    }
}

fn legacy(id: &Value, method: &str, params: Option<&Value>, header: Option<&str>) -> Step {
    if let Some(version) = header.filter(|v| !LEGACY_VERSIONS.contains(v)) {
        return unsupported(id, version);
    }
    let reply = Reply {
        id: id.clone(),
        era: Era::Legacy,
    };
    match method {
        "initialize" => {
            let asked = params
                .and_then(|p| p.get("protocolVersion"))
                .and_then(Value::as_str)
                .filter(|v| LEGACY_VERSIONS.contains(v))
                .unwrap_or(LEGACY);
            Step::Answer(
                200,
                reply.result(json!({
                    "protocolVersion": asked,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": SERVER_NAME, "version": SERVER_VERSION},
                    "instructions": INSTRUCTIONS,
                })),
            )
        }
        "ping" => Step::Answer(200, reply.result(json!({}))),
        "tools/list" => Step::ListTools(reply),
        "tools/call" => call(reply, params),
        _ => Step::Answer(
            200,
            error(Some(id), code::METHOD_NOT_FOUND, "Method not found.", None),
        ),
    }
}

fn modern_step(
    id: Option<&Value>,
    method: &str,
    params: Option<&Value>,
    meta: Option<&Value>,
    claim: Option<&str>,
    headers: &Headers,
) -> Step {
    let bad_request = |code: i64, message: &str| Step::Answer(400, error(id, code, message, None));
    let capabilities = meta.and_then(|m| m.get(META_CAPABILITIES));
    let Some(claim) = claim.filter(|_| capabilities.is_some_and(Value::is_object)) else {
        return bad_request(
            code::INVALID_PARAMS,
            "params._meta must carry io.modelcontextprotocol/protocolVersion and clientCapabilities.",
        );
    };
    if headers.protocol_version.as_deref() != Some(claim) {
        return bad_request(
            code::HEADER_MISMATCH,
            "MCP-Protocol-Version must be sent and match the request's _meta.",
        );
    }
    if claim != MODERN {
        return unsupported(id.unwrap_or(&Value::Null), claim);
    }
    if headers.method.as_deref() != Some(method) {
        return bad_request(
            code::HEADER_MISMATCH,
            "Mcp-Method must be sent and match the method.",
        );
    }
    if method == "tools/call" {
        let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
        let header = headers.name.as_deref().and_then(header_name);
        if name.is_none() || header.as_deref() != name {
            return bad_request(
                code::HEADER_MISMATCH,
                "Mcp-Name must be sent and match the tool's name.",
            );
        }
    }
    let Some(id) = id else {
        return Step::Accept;
    };
    let reply = Reply {
        id: id.clone(),
        era: Era::Modern,
    };
    match method {
        "server/discover" => Step::Answer(
            200,
            reply.result(json!({
                "supportedVersions": [MODERN, LEGACY],
                "capabilities": {"tools": {}},
                "instructions": INSTRUCTIONS,
                "ttlMs": 0,
                "cacheScope": "public",
            })),
        ),
        "tools/list" => Step::ListTools(reply),
        "tools/call" => call(reply, params),
        _ => Step::Answer(
            404,
            error(Some(id), code::METHOD_NOT_FOUND, "Method not found.", None),
        ),
    }
}

fn call(reply: Reply, params: Option<&Value>) -> Step {
    let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
    let arguments = match params.and_then(|p| p.get("arguments")) {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(args)) => Some(args.clone()),
        Some(_) => None,
    };
    match (name, arguments) {
        (Some(name), Some(arguments)) => Step::CallTool {
            name: name.to_owned(),
            arguments,
            reply,
        },
        _ => Step::Answer(
            200,
            reply.error(
                code::INVALID_PARAMS,
                "tools/call needs a tool name and object arguments.",
            ),
        ),
    }
}

impl Reply {
    /// A result for this request; in the stateless revision with `resultType` and the
    /// server's info.
    pub fn result(&self, mut result: Value) -> Value {
        if self.era == Era::Modern {
            result["resultType"] = json!("complete");
            result["_meta"] = json!({"io.modelcontextprotocol/serverInfo": {"name": SERVER_NAME, "version": SERVER_VERSION}});
        }
        json!({"jsonrpc": "2.0", "id": self.id, "result": result})
    }

    /// An error answering this request (sent with HTTP 200: it is the method's answer).
    pub fn error(&self, code: i64, message: &str) -> Value {
        error(Some(&self.id), code, message, None)
    }

    /// The tool list (a JSON array, as embedded) as this request's result. The list
    /// depends on who asks, so caches keep it private.
    pub fn tools(&self, tools: Value) -> Value {
        let mut result = json!({"tools": tools});
        if self.era == Era::Modern {
            result["ttlMs"] = json!(0);
            result["cacheScope"] = json!("private");
        }
        self.result(result)
    }

    /// A tool's answer: the data as structured content and as text.
    pub fn tool_result(&self, data: Value) -> Value {
        let text = data.to_string();
        self.result(json!({"content": [{"type": "text", "text": text}], "structuredContent": data}))
    }

    /// A tool's refusal: the API's message for a person, and its error envelope (code,
    /// details) for a program, as text.
    pub fn tool_refusal(&self, message: &str, envelope: &Value) -> Value {
        self.result(json!({
            "content": [{"type": "text", "text": message}, {"type": "text", "text": envelope.to_string()}],
            "isError": true,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modern_headers(method: &str, name: Option<&str>) -> Headers {
        Headers {
            protocol_version: Some(MODERN.into()),
            method: Some(method.into()),
            name: name.map(str::to_owned),
        }
    }

    fn modern(method: &str, extra: Value) -> Value {
        let mut params = json!({"_meta": {META_VERSION: MODERN, META_CAPABILITIES: {}}});
        if let Value::Object(extra) = extra {
            params.as_object_mut().unwrap().extend(extra);
        }
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    }

    fn answer(step: Step) -> (u16, Value) {
        match step {
            Step::Answer(status, body) => (status, body),
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn legacy_handshake_and_ping() {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                          "params": {"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        let (status, body) = answer(step(init, &Headers::default()));
        assert_eq!(status, 200);
        assert_eq!(
            body["result"]["protocolVersion"], LEGACY,
            "an unknown version gets ours"
        );
        assert!(body["result"].get("resultType").is_none());
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(step(note, &Headers::default()), Step::Accept);
        let ping = json!({"jsonrpc": "2.0", "id": "p", "method": "ping"});
        let (_, body) = answer(step(
            ping,
            &Headers {
                protocol_version: Some(LEGACY.into()),
                ..Headers::default()
            },
        ));
        assert_eq!(body, json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
        assert!(matches!(
            step(list.clone(), &Headers::default()),
            Step::ListTools(_)
        ));
        let bad = Headers {
            protocol_version: Some("1999-01-01".into()),
            ..Headers::default()
        };
        let (status, body) = answer(step(list, &bad));
        assert_eq!(
            (status, body["error"]["code"].as_i64()),
            (400, Some(code::UNSUPPORTED_VERSION))
        );
    }

    #[test]
    fn modern_requests_are_checked_against_their_headers() {
        let (status, body) = answer(step(
            modern("server/discover", json!({})),
            &modern_headers("server/discover", None),
        ));
        assert_eq!(status, 200);
        assert_eq!(body["result"]["resultType"], "complete");
        assert_eq!(body["result"]["supportedVersions"][0], MODERN);
        let call = modern(
            "tools/call",
            json!({"name": "ticket_stats", "arguments": {}}),
        );
        assert!(matches!(
            step(
                call.clone(),
                &modern_headers("tools/call", Some("ticket_stats"))
            ),
            Step::CallTool { .. }
        ));
        let encoded = "=?base64?dGlja2V0X3N0YXRz?=";
        assert!(matches!(
            step(call.clone(), &modern_headers("tools/call", Some(encoded))),
            Step::CallTool { .. }
        ));
        for headers in [
            modern_headers("tools/call", Some("other")),
            modern_headers("tools/call", None),
            modern_headers("tools/list", Some("ticket_stats")),
            Headers {
                protocol_version: None,
                ..modern_headers("tools/call", Some("ticket_stats"))
            },
        ] {
            let (status, body) = answer(step(call.clone(), &headers));
            assert_eq!(
                (status, body["error"]["code"].as_i64()),
                (400, Some(code::HEADER_MISMATCH)),
                "{headers:?}"
            );
        }
        let no_meta = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let (status, body) = answer(step(no_meta, &modern_headers("tools/list", None)));
        assert_eq!(
            (status, body["error"]["code"].as_i64()),
            (400, Some(code::INVALID_PARAMS))
        );
        let mut old = modern("tools/list", json!({}));
        old["params"]["_meta"][META_VERSION] = json!("2099-01-01");
        let headers = Headers {
            protocol_version: Some("2099-01-01".into()),
            ..modern_headers("tools/list", None)
        };
        let (status, body) = answer(step(old, &headers));
        assert_eq!(
            (status, body["error"]["code"].as_i64()),
            (400, Some(code::UNSUPPORTED_VERSION))
        );
        assert_eq!(body["error"]["data"]["requested"], "2099-01-01");
        let (status, _) = answer(step(
            modern("ping", json!({})),
            &modern_headers("ping", None),
        ));
        assert_eq!(
            status, 404,
            "ping and initialize are gone in the stateless revision"
        );
    }

    #[test]
    fn malformed_messages() {
        for message in [
            json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]),
            json!("x"),
            json!({"id": 1, "method": "ping"}),
            json!({"jsonrpc": "2.0", "id": null, "method": "ping"}),
        ] {
            let (status, body) = answer(step(message, &Headers::default()));
            assert_eq!(
                (status, body["error"]["code"].as_i64()),
                (400, Some(code::INVALID_REQUEST))
            );
        }
        let reply = Reply {
            id: json!(7),
            era: Era::Legacy,
        };
        let refused = reply.tool_refusal("Too many requests.", &json!({"code": "rate_limited"}));
        assert_eq!(refused["result"]["isError"], true);
        assert_eq!(
            refused["result"]["content"][0]["text"],
            "Too many requests."
        );
    }
}
