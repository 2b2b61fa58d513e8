//! Pure domain logic: no `worker` types, unit-tested natively with `cargo test`.

pub mod abuse;
pub mod attachment;
pub mod email;
pub mod encoding;
pub mod fields;
pub mod hash;
pub mod lifecycle;
pub mod listing;
pub mod notification;
pub mod password;
pub mod staff;
pub mod status_link;
pub mod ticket;
pub mod ticket_input;
pub mod time;
pub mod validation;
