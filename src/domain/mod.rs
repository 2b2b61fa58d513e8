//! Pure domain logic: no `worker` types, unit-tested natively with `cargo test`.

pub mod abuse;
pub mod clock;
pub mod email;
pub mod encoding;
pub mod fields;
pub mod lifecycle;
pub mod listing;
pub mod notification;
pub mod password;
pub mod staff;
pub mod ticket;
pub mod validation;
