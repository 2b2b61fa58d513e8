//! What a request does besides its SQL: the request context (clock, config,
//! bindings), staff sessions, status links, the create's idempotency and outcome,
//! Turnstile, and delivering the outbox after the response.

pub mod attachments;
pub mod context;
pub mod create;
pub mod links;
pub mod mcp;
pub mod sessions;
pub mod turnstile;

pub use context::Ctx;
